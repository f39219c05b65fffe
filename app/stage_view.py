"""How one stage of a trace's attention is handed to a widget: values, mask, kind, label.

The viewer draws what it is given: the causal mask comes from the trace, explicitly,
and the stage decides only whether the values are probabilities or scores.
"""

from __future__ import annotations

from typing import Any

from llamalens.model.attention import STAGE_LABELS, check_stage


def value_kind(stage: str) -> str:
    """``"probability"`` for softmax output, ``"score"`` for raw and masked scores."""
    check_stage(stage)
    return "probability" if stage == "probs" else "score"


def map_style(trace: Any, stage: str) -> dict[str, Any]:
    """Keyword arguments of ``AttentionMap.set_map`` for a ``stage`` map of ``trace``."""
    return {
        "mask": trace.map_mask(stage),
        "kind": value_kind(stage),
        "value_label": STAGE_LABELS[stage],
    }


def sheet_style(trace: Any, stage: str) -> dict[str, Any]:
    """Keyword arguments of the head grid and contact sheet for ``stage`` maps."""
    return {"mask": trace.map_mask(stage), "kind": value_kind(stage)}

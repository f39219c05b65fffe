"""How one stage of a trace's attention is handed to a widget: values, mask, kind, label.

The viewer draws what it is given: the causal mask comes from the trace, explicitly,
and the stage decides only whether the values are probabilities or scores.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from llamalens.model.attention import check_stage

# the model's stage names, marked for translation (the same English words)
STAGE_TEXT = {
    "scores": QT_TRANSLATE_NOOP("Stages", "raw QKᵀ/√d"),
    "masked": QT_TRANSLATE_NOOP("Stages", "masked"),
    "probs": QT_TRANSLATE_NOOP("Stages", "softmax"),
}


def stage_label(stage: str) -> str:
    """The name of a stage in the current language ("raw QKᵀ/√d", "masked", "softmax")."""
    check_stage(stage)
    return QCoreApplication.translate("Stages", STAGE_TEXT[stage])


def value_kind(stage: str) -> str:
    """``"probability"`` for softmax output, ``"score"`` for raw and masked scores."""
    check_stage(stage)
    return "probability" if stage == "probs" else "score"


def map_style(trace: Any, stage: str) -> dict[str, Any]:
    """Keyword arguments of ``AttentionMap.set_map`` for a ``stage`` map of ``trace``."""
    return {
        "mask": trace.map_mask(stage),
        "kind": value_kind(stage),
        "value_label": stage_label(stage),
    }


def sheet_style(trace: Any, stage: str) -> dict[str, Any]:
    """Keyword arguments of the head grid and contact sheet for ``stage`` maps."""
    return {"mask": trace.map_mask(stage), "kind": value_kind(stage)}

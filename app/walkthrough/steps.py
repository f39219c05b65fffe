"""The walkthrough's steps, in the order of the forward pass, and the diagram's blocks.

One layer is walked (the selected one, with the selected head and query position), then
the output. Each step belongs to a block of the model diagram and says whether it needs
the per-position values of :meth:`~llamalens.model.engine.Engine.walk` (the residual
stream, norms and feed-forward intermediates) or only the trace (tokens and attention).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One step: its id, the diagram block it highlights, whether it needs the detail."""

    id: str
    block: str
    needs_detail: bool


STEPS: tuple[Step, ...] = (
    Step("tokens", "tokens", False),
    Step("ids", "tokens", False),
    Step("embedding", "embedding", True),
    Step("attention_norm", "attention_norm", True),
    Step("wq", "attention", False),
    Step("wk", "attention", False),
    Step("wv", "attention", False),
    Step("rope", "attention", False),
    Step("scores", "attention", False),
    Step("mask", "attention", False),
    Step("softmax", "attention", False),
    Step("weighted_values", "attention", True),
    Step("concat", "attention", True),
    Step("wo", "attention", True),
    Step("attention_residual", "attention_residual", True),
    Step("ffn_norm", "ffn_norm", True),
    Step("w1_gate", "feed_forward", True),
    Step("w3_up", "feed_forward", True),
    Step("silu", "feed_forward", True),
    Step("product", "feed_forward", True),
    Step("w2_down", "feed_forward", True),
    Step("ffn_residual", "ffn_residual", True),
    Step("next_layer", "next_layer", True),
    Step("final_norm", "norm", True),
    Step("logits", "output", True),
    Step("sampling", "sampling", True),
    Step("next_token", "sampling", True),
)
STEP_IDS: tuple[str, ...] = tuple(s.id for s in STEPS)
BY_ID = {s.id: s for s in STEPS}

# diagram blocks, top to bottom; True for the blocks inside the transformer layer
BLOCKS: tuple[tuple[str, bool], ...] = (
    ("tokens", False),
    ("embedding", False),
    ("attention_norm", True),
    ("attention", True),
    ("attention_residual", True),
    ("ffn_norm", True),
    ("feed_forward", True),
    ("ffn_residual", True),
    ("next_layer", True),
    ("norm", False),
    ("output", False),
    ("sampling", False),
)
FIRST_LAYER_STEP = "attention_norm"  # where "walk the next layer" starts
FIRST_OUTPUT_STEP = "final_norm"


def check_step(step_id: str) -> Step:
    """The step named ``step_id``.

    Raises:
        ValueError: for an unknown id.
    """
    try:
        return BY_ID[step_id]
    except KeyError:
        raise ValueError(
            f"walkthrough step is {step_id!r}, expected one of {', '.join(STEP_IDS)}"
        ) from None


def step_after(step_id: str, delta: int) -> str:
    """The id ``delta`` steps away, clamped to the first and the last step."""
    index = STEP_IDS.index(check_step(step_id).id) + delta
    return STEP_IDS[max(0, min(index, len(STEP_IDS) - 1))]


def first_step_of(block: str) -> str:
    """The first step that highlights ``block`` (a click on the diagram goes there)."""
    for step in STEPS:
        if step.block == block:
            return step.id
    raise ValueError(f"no step shows block {block!r}")

"""Two runs side by side: the difference B − A of attention maps and of next-token odds.

A and B may be two prompts, the model and a variant on one prompt, or two heads of one
trace. Maps of prompts of different lengths are compared on their common first n
positions: causal attention makes the top-left n × n block of a longer prompt's map
complete (row i sees keys 0..i only), so the block is a fair comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llamalens.model.attention import check_stage, stage_mask
from llamalens.model.sampling import softmax
from llamalens.model.trace import Trace


@dataclass(frozen=True)
class MapDifference:
    """B − A of one stage's maps on the common positions.

    Attributes:
        values: (n, n) float32 B − A; 0 where the causal mask hid both cells.
        mask: (n, n) bool cells hidden by the causal mask, or None (raw scores).
        labels: n token labels (``a|b`` where the two runs' tokens differ).
        a, b: (n, n) float32 the two maps.
    """

    values: np.ndarray
    mask: np.ndarray | None
    labels: list[str]
    a: np.ndarray
    b: np.ndarray


@dataclass(frozen=True)
class NextTokenDifference:
    """The most likely next tokens of A or B and how B moved them.

    Attributes:
        ids: (N,) int64 the union of both top lists, by A's probability first.
        prob_a, prob_b: (N,) float64 probabilities.
        delta_logprob: (N,) float64 log p_B − log p_A.
    """

    ids: np.ndarray
    prob_a: np.ndarray
    prob_b: np.ndarray
    delta_logprob: np.ndarray


def map_difference(
    a: Trace, b: Trace, stage: str, head_a: tuple[int, int], head_b: tuple[int, int]
) -> MapDifference:
    """B's (layer, head) map minus A's for one stage, over their common positions.

    Args:
        a, b: the two runs (may be the same trace, for two heads).
        stage: ``scores``, ``masked`` or ``probs``.
        head_a, head_b: (layer, head) of each side.
    """
    check_stage(stage)
    n = min(a.n_tokens, b.n_tokens)
    map_a = a.attention_map(*head_a, stage)[:n, :n]
    map_b = b.attention_map(*head_b, stage)[:n, :n]
    mask = stage_mask(n, stage)
    with np.errstate(invalid="ignore"):
        values = map_b - map_a
    if mask is not None:  # -inf − -inf is NaN: a hidden cell differs by nothing
        values = np.where(mask, np.float32(0), values)
    labels = [
        sa if sa == sb else f"{sa}|{sb}" for sa, sb in zip(a.token_strs[:n], b.token_strs[:n])
    ]
    return MapDifference(values.astype(np.float32), mask, labels, map_a, map_b)


def next_token_difference(
    logits_a: np.ndarray, logits_b: np.ndarray, top: int = 10
) -> NextTokenDifference:
    """The top ``top`` tokens of A and of B, their probabilities and Δ log-probability.

    Args:
        logits_a, logits_b: (V,) next-token logits of each run.
        top: how many of each side's most likely tokens to include.
    """
    if logits_a.shape != logits_b.shape:
        raise ValueError(f"logits of shape {logits_a.shape} and {logits_b.shape} differ")
    pa = softmax(np.asarray(logits_a, dtype=np.float64))
    pb = softmax(np.asarray(logits_b, dtype=np.float64))
    union = np.union1d(np.argsort(-pa, kind="stable")[:top], np.argsort(-pb, kind="stable")[:top])
    ids = union[np.lexsort((-pb[union], -pa[union]))]
    with np.errstate(divide="ignore"):
        delta = np.log(pb[ids]) - np.log(pa[ids])
    return NextTokenDifference(ids.astype(np.int64), pa[ids], pb[ids], delta)

"""Per-head statistics and the logit lens, computed from a Trace and the model."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from llamalens.model.attention import attention_stage, causal_mask
from llamalens.model.capture import capture, each_layer
from llamalens.model.llama import Llama
from llamalens.model.trace import Trace

ROW_CHUNK = 256  # query rows per block: bounds the (H, rows, T) temporaries
MAX_ROWS = 512  # longer prompts: statistics over this many evenly spaced query rows


def _layer_probs(trace: Trace, layer: int, rows: torch.Tensor) -> torch.Tensor:
    """(H, R, T) probabilities of query rows ``rows`` (R,) for every head of a layer."""
    q = torch.from_numpy(trace.q_rot[layer])[:, rows]  # (H, R, hd)
    kv = [trace.kv_head(h) for h in range(trace.n_heads)]
    k = torch.from_numpy(trace.k_rot[layer])[kv]  # (H, T, hd)
    visible = causal_mask(trace.n_tokens)[rows]  # (R, T): these rows of the causal mask
    return attention_stage(q, k, visible, "probs")


def stat_rows(n_tokens: int) -> torch.Tensor:
    """The query rows the statistics average over: 1..T-1, or MAX_ROWS spread over them."""
    if n_tokens - 1 <= MAX_ROWS:
        return torch.arange(1, n_tokens)
    return torch.unique(torch.linspace(1, n_tokens - 1, MAX_ROWS).round().long())


def head_stats(
    trace: Trace,
    induction: np.ndarray | None = None,
    on_layer: Callable[[int], None] | None = None,
) -> dict[str, np.ndarray]:
    """Entropy, sink, previous-token and self attention for every (layer, head).

    Each is a mean over query rows 1..T-1 (row 0 can only see itself); for prompts longer
    than MAX_ROWS + 1 tokens over MAX_ROWS evenly spaced rows (an unbiased estimate that
    keeps the cost O(L·H·MAX_ROWS·T)).

    Args:
        trace: the run.
        induction: (L_model, H) scores from :func:`induction_scores`, or None (then NaN).
        on_layer: called after each layer (progress; raising in it stops the work).

    Returns:
        name (every one of :data:`~llamalens.model.analysis.STAT_NAMES`) → (L, H) float64.
    """
    L, H, T = trace.n_layers, trace.n_heads, trace.n_tokens  # noqa: N806
    measured = ("entropy", "sink", "previous", "self")
    out = {k: np.full((L, H), np.nan) for k in measured}
    if induction is None:
        out["induction"] = np.full((L, H), np.nan)
    else:  # measured on every layer of the model: keep the captured ones
        out["induction"] = induction if len(induction) == L else induction[list(trace.layers)]
    if T < 2:
        return out
    sums = {k: torch.zeros(L, H, dtype=torch.float64) for k in measured}
    all_rows = stat_rows(T)
    for layer in range(L):
        for idx in all_rows.split(ROW_CHUNK):
            p = _layer_probs(trace, layer, idx).double()  # (H, R, T)
            r = torch.arange(len(idx))
            plogp = torch.where(p > 0, p * torch.log(p), torch.zeros_like(p))
            sums["entropy"][layer] += -plogp.sum(-1).sum(-1)
            sums["sink"][layer] += p[:, :, 0].sum(-1)
            sums["previous"][layer] += p[:, r, idx - 1].sum(-1)
            sums["self"][layer] += p[:, r, idx].sum(-1)
        if on_layer is not None:
            on_layer(layer)
    for k in measured:
        out[k] = (sums[k] / len(all_rows)).numpy()
    return out


def induction_scores(
    model: Llama,
    n_tokens: int = 64,
    seed: int = 0,
    low: int = 100,
    high: int | None = None,
    on_layer: Callable[[int], None] | None = None,
) -> np.ndarray:
    """(L, H) induction score on [R, R] with R random ids from [low, high).

    A head that has learned induction attends, from the i-th token of the second
    copy, to the token after the i-th token of the first copy (position i + 1).
    """
    high = high or model.config.vocab_size
    low = low if low < high else 0  # a tiny vocabulary: draw from all of it
    gen = torch.Generator().manual_seed(seed)
    r = torch.randint(low, high, (n_tokens,), generator=gen)
    seq = torch.cat([r, r])[None].to(model.main_device)  # (1, 2n)
    with each_layer(model, on_layer), capture(model, maps=True) as rec:
        model(seq)
    scores = []
    rows = torch.arange(n_tokens, 2 * n_tokens)  # second copy
    for layer in rec.layers:
        p = layer["probs"]  # (H, 2n, 2n)
        scores.append(p[:, rows, rows - n_tokens + 1].mean(-1))
    return torch.stack(scores).double().numpy()


@torch.inference_mode()
def logit_lens(
    model: Llama, trace: Trace, positions: Sequence[int], k: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """Final norm and output projection applied to each layer's residual stream.

    Args:
        model: the Llama the trace came from.
        trace: the run.
        positions: which positions to decode.
        k: how many top tokens per (layer, position).

    Returns:
        ids (L, P, k) int64 and probs (L, P, k) float32, most likely first.
    """
    pos = list(positions)
    for p in pos:
        if not 0 <= p < trace.n_tokens:
            raise ValueError(f"position {p} is out of range 0..{trace.n_tokens - 1}")
    device = model.main_device
    resid = torch.from_numpy(trace.resid_post[:, pos]).to(device)  # (L, P, d)
    logits = model.output(model.norm(resid.to(model.compute_dtype))).float()  # (L, P, V)
    probs = torch.softmax(logits, dim=-1)
    top = torch.topk(probs, k, dim=-1)
    return top.indices.cpu().numpy(), top.values.cpu().numpy()

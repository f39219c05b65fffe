"""Run a model under capture and turn the recording into a :class:`Trace`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from llamalens.model.capture import Recording, capture, each_layer
from llamalens.model.llama import Llama
from llamalens.model.tokenizer import Tokenizer
from llamalens.model.trace import Trace


def trace_from_recording(
    rec: Recording, ids: Sequence[int], tokenizer: Tokenizer, model: Llama, keep_logits: bool
) -> Trace:
    """Assemble a Trace from what the taps recorded (the arrays are taken, not copied)."""
    tokens = tokenizer.tokens(list(ids))
    a = rec.arrays
    return Trace(
        token_ids=np.asarray(ids, dtype=np.int64),
        token_strs=[t.text for t in tokens],
        token_bytes=[t.bytes for t in tokens],
        token_special=[t.special for t in tokens],
        config=model.config.to_dict(),
        q=a["q"],
        k=a["k"],
        q_rot=a["q_rot"],
        k_rot=a["k_rot"],
        v=a["v"],
        theta=model.freqs().numpy(),
        last_logits=rec.logits[-1].numpy(),
        logits=rec.logits.numpy() if keep_logits else None,
        resid_norms=a["resid_norms"],
        resid_post=a["resid_post"],
        layers=rec.layer_ids,
    )


def run_trace(
    model: Llama,
    tokenizer: Tokenizer,
    ids: Sequence[int],
    *,
    keep_logits: bool = False,
    use_cache: bool = True,
    on_layer: Callable[[int], None] | None = None,
    layers: Sequence[int] | None = None,
) -> Trace:
    """One captured forward pass over ``ids`` (the KV cache is filled for extension).

    Args:
        model: the Llama.
        tokenizer: for the token texts.
        ids: the prompt's token ids (T >= 1).
        keep_logits: keep (T, V) logits for every position, not only the last.
        use_cache: leave keys/values in the model's KV cache for :func:`extend_trace`.
        on_layer: called with each block's index as it finishes; an exception raised
            there stops the run (the hooks are removed either way).
        layers: the layers to capture (default all); fewer keep a long prompt's trace small.
    """
    if len(ids) == 0:
        raise ValueError("the prompt is empty: there is no token to run")
    with each_layer(model, on_layer), capture(model, layers=layers) as rec:
        model(_tokens(model, ids), use_cache=use_cache, last_only=not keep_logits)
    return trace_from_recording(rec, ids, tokenizer, model, keep_logits)


def sync_cache(
    model: Llama,
    tokenizer: Tokenizer,
    trace: Trace,
    on_layer: Callable[[int], None] | None = None,
) -> None:
    """Make the KV cache hold exactly the trace's positions (recompute them if not;
    ``on_layer`` after each block, raising in it stops)."""
    cache = model.layers[0].attention.cache_k
    if cache is None or cache.shape[1] != trace.n_tokens:
        with each_layer(model, on_layer):
            model(_tokens(model, trace.token_ids.tolist()), use_cache=True, last_only=True)


def _tokens(model: Llama, ids: Sequence[int]) -> torch.Tensor:
    return torch.tensor([list(ids)], dtype=torch.long, device=model.main_device)  # (1, T)


def step_trace(
    model: Llama,
    tokenizer: Tokenizer,
    start: int,
    new_ids: Sequence[int],
    keep_logits: bool,
    layers: Sequence[int] | None = None,
    on_layer: Callable[[int], None] | None = None,
) -> Trace:
    """A captured run of new_ids at positions start.. against the cached keys and values
    (``on_layer`` after each block, raising in it stops).

    Returns:
        A trace of the new positions only (their keys and values are in the cache); join
        it to the earlier one with :meth:`Trace.extended`.
    """
    with each_layer(model, on_layer), capture(model, layers=layers) as rec:
        model(_tokens(model, new_ids), start_pos=start, use_cache=True, last_only=not keep_logits)
    return trace_from_recording(rec, new_ids, tokenizer, model, keep_logits)


def extend_trace(
    model: Llama,
    tokenizer: Tokenizer,
    trace: Trace,
    new_ids: Sequence[int],
    on_layer: Callable[[int], None] | None = None,
) -> Trace:
    """Append tokens using the KV cache: only the new query rows are computed.

    The model's KV cache must hold exactly the trace's positions (as left by
    :func:`run_trace` or a previous extension); otherwise the prefix is recomputed.
    ``on_layer`` is called after every block (raising in it stops the run).
    """
    if len(new_ids) == 0:
        return trace
    sync_cache(model, tokenizer, trace, on_layer)
    keep_logits = trace.logits is not None
    step = step_trace(
        model, tokenizer, trace.n_tokens, new_ids, keep_logits, trace.layers, on_layer
    )
    return trace.extended(step)

"""Everything one forward pass computes for a few positions: the walkthrough's numbers.

A :class:`~llamalens.model.trace.Trace` keeps what attention needs for every position
(q, k, v: O(L·T·d)). The walkthrough also shows, for the selected query position, the
residual stream, both RMSNorms, the attention output before and after ``wo`` and the
SwiGLU intermediates. Hooks on the forward pass slice those rows out as the values flow
by, so a :class:`PositionDetail` costs O(L·(d + d_ff)) per position, never
O(L·T·d_ff), and its numbers are the forward pass's own (not a recomputation).

Another position is one more forward pass (:func:`capture_positions`), on the worker
thread, when a viewer asks for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from llamalens.model.llama import Llama, RMSNorm

# (L, P, ·) arrays of a PositionDetail, in the order of the forward pass
LAYER_ROWS = (
    "resid_pre",
    "attn_rms",
    "attn_normed",
    "heads",
    "attn_out",
    "resid_mid",
    "ffn_rms",
    "ffn_normed",
    "gate",
    "up",
    "act",
    "hidden",
    "ffn_out",
    "resid_post",
)


ARRAY_FIELDS = (
    *LAYER_ROWS,
    "embeddings",
    "final_rms",
    "final_normed",
    "logits",
    "attn_gain",
    "ffn_gain",
    "final_gain",
)


@dataclass(frozen=True)
class PositionDetail:
    """The forward pass's values at a few positions (float32 numpy, batch 0).

    Attributes:
        token_ids: (T,) int64, the prompt the pass ran on.
        positions: the P positions kept, ascending.
        embeddings: (T, d) ``tok_embeddings`` rows of every token (the first step shows
            them all).
        resid_pre: (L, P, d) the residual stream entering each block.
        attn_rms: (L, P) sqrt(mean(x²) + eps) of resid_pre (what ``attention_norm``
            divides by).
        attn_normed: (L, P, d) ``attention_norm`` output.
        heads: (L, P, H·hd) every head's softmax·V, concatenated (the input of ``wo``).
        attn_out: (L, P, d) ``wo`` output.
        resid_mid: (L, P, d) resid_pre + attn_out.
        ffn_rms: (L, P) and ffn_normed: (L, P, d), ``ffn_norm`` likewise.
        gate: (L, P, F) w1 x; up: (L, P, F) w3 x; act: (L, P, F) silu(w1 x);
        hidden: (L, P, F) silu(w1 x) ⊙ w3 x.
        ffn_out: (L, P, d) ``w2`` output.
        resid_post: (L, P, d) resid_mid + ffn_out, the next block's input.
        final_rms: (P,) and final_normed: (P, d), the final ``norm``.
        logits: (P, V) the ``output`` projection, float32.
        attn_gain, ffn_gain: (L, d) the RMSNorm weights g; final_gain: (d,).
    """

    token_ids: np.ndarray
    positions: tuple[int, ...]
    embeddings: np.ndarray
    resid_pre: np.ndarray
    attn_rms: np.ndarray
    attn_normed: np.ndarray
    heads: np.ndarray
    attn_out: np.ndarray
    resid_mid: np.ndarray
    ffn_rms: np.ndarray
    ffn_normed: np.ndarray
    gate: np.ndarray
    up: np.ndarray
    act: np.ndarray
    hidden: np.ndarray
    ffn_out: np.ndarray
    resid_post: np.ndarray
    final_rms: np.ndarray
    final_normed: np.ndarray
    logits: np.ndarray
    attn_gain: np.ndarray
    ffn_gain: np.ndarray
    final_gain: np.ndarray

    @property
    def n_layers(self) -> int:
        return int(self.resid_pre.shape[0])

    def index(self, position: int) -> int:
        """Row of ``position`` in the (·, P, ·) arrays.

        Raises:
            ValueError: the position was not kept.
        """
        if position not in self.positions:
            raise ValueError(f"position {position} was not captured (kept: {self.positions})")
        return self.positions.index(position)

    def fits(self, token_ids: Sequence[int], position: int) -> bool:
        """Whether this detail belongs to a run of ``token_ids`` and holds ``position``."""
        same = len(token_ids) == len(self.token_ids) and np.array_equal(
            np.asarray(token_ids), self.token_ids
        )
        return same and position in self.positions

    def agrees_with(self, resid_post: np.ndarray) -> bool:
        """Whether a trace's (L, T, d) residual stream equals this detail's at its positions.

        The same model on the same ids computes the same numbers; a detail made by another
        model (a session's trace, a different checkpoint of the same shape) does not.
        """
        if resid_post.shape[0] != self.n_layers or resid_post.shape[1] != len(self.token_ids):
            return False
        theirs = resid_post[:, list(self.positions)]  # (L, P, d)
        return bool(np.allclose(theirs, self.resid_post, rtol=1e-4, atol=1e-4))

    @property
    def nbytes(self) -> int:
        return int(sum(getattr(self, name).nbytes for name in LAYER_ROWS) + self.logits.nbytes)


def detail_arrays(detail: PositionDetail) -> dict[str, np.ndarray]:
    """The detail as named arrays (a session file stores them ``detail_`` prefixed)."""
    out = {name: np.asarray(getattr(detail, name)) for name in ARRAY_FIELDS}
    out["positions"] = np.asarray(detail.positions, dtype=np.int64)
    return out


def detail_from_arrays(
    data: dict[str, np.ndarray], token_ids: np.ndarray, config: dict, source: str
) -> PositionDetail:
    """Rebuild a detail saved with :func:`detail_arrays`, checking every shape.

    Args:
        data: the arrays, without prefix.
        token_ids: (T,) the ids of the trace it belongs to.
        config: that trace's model config (``dim``, ``hidden_dim``, ``n_layers`` …).
        source: the file, for messages.

    Raises:
        ValueError: a missing array, a shape that does not fit the trace, or positions
            out of range; the message names the file and the array.
    """
    try:
        positions = check_positions(np.asarray(data["positions"]).tolist(), len(token_ids))
        want = detail_shapes(config, len(token_ids), len(positions))
        arrays = {name: np.asarray(data[name]) for name in want}
    except KeyError as exc:
        raise ValueError(f"{source}: walkthrough detail lacks the {exc.args[0]!r} array") from exc
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{source}: walkthrough detail is corrupt ({exc})") from exc
    for name, shape in want.items():
        if arrays[name].shape != shape or arrays[name].dtype.kind != "f":
            raise ValueError(
                f"{source}: walkthrough detail {name} has shape {arrays[name].shape} and "
                f"dtype {arrays[name].dtype}, expected float {shape}"
            )
    return PositionDetail(
        token_ids=np.asarray(token_ids, dtype=np.int64), positions=positions, **arrays
    )


def detail_shapes(config: dict, n_tokens: int, n_kept: int) -> dict[str, tuple[int, ...]]:
    """Every array's shape for a model config, T tokens and P kept positions."""
    L, d, F = config["n_layers"], config["dim"], config["hidden_dim"]  # noqa: N806
    width = config["n_heads"] * config["head_dim"]
    row = {"heads": width, "gate": F, "up": F, "act": F, "hidden": F}
    shapes = {n: (L, n_kept, row.get(n, d)) for n in LAYER_ROWS if not n.endswith("_rms")}
    shapes.update(
        attn_rms=(L, n_kept),
        ffn_rms=(L, n_kept),
        embeddings=(n_tokens, d),
        final_rms=(n_kept,),
        final_normed=(n_kept, d),
        logits=(n_kept, config["vocab_size"]),
        attn_gain=(L, d),
        ffn_gain=(L, d),
        final_gain=(d,),
    )
    return shapes


def check_positions(positions: Sequence[int], n_tokens: int) -> tuple[int, ...]:
    """Sorted, de-duplicated positions, each in 0..n_tokens-1.

    Raises:
        ValueError: no position, or one out of range.
    """
    kept = tuple(sorted({int(p) for p in positions}))
    if not kept:
        raise ValueError("no position to capture: expected at least one")
    if kept[0] < 0 or kept[-1] >= n_tokens:
        raise ValueError(f"positions {list(kept)} are out of range 0..{n_tokens - 1}")
    return kept


class _Rows:
    """Hook factories that keep rows ``index`` of each tensor flowing through a module."""

    def __init__(self, index: torch.Tensor) -> None:
        self.index = index  # (P,) positions along the sequence axis
        self.store: dict[str, list[torch.Tensor]] = {name: [] for name in LAYER_ROWS}
        self.store.update(embeddings=[], final_rms=[], final_normed=[], logits=[])

    def _rows(self, x: torch.Tensor) -> torch.Tensor:
        return x[0].detach().index_select(0, self.index.to(x.device)).float().cpu()

    def output(self, name: str):
        def hook(_module, _inputs, output):
            self.store[name].append(self._rows(output))

        return hook

    def norm(self, x_name: str | None, rms_name: str, out_name: str, all_rows: bool = False):
        """The input, its RMS (the forward's own reduction, on the whole tensor) and output."""

        def hook(module: RMSNorm, inputs, output):
            xf = inputs[0].detach().float()
            rms = 1.0 / torch.rsqrt(xf.pow(2).mean(-1) + module.eps)  # (B, T)
            pick = (lambda t: t[0].float().cpu()) if all_rows else self._rows
            if x_name is not None:
                self.store[x_name].append(pick(inputs[0]))
            self.store[rms_name].append(pick(rms[..., None])[..., 0])
            self.store[out_name].append(pick(output))

        return hook

    def whole(self, name: str):
        def hook(_module, _inputs, output):
            self.store[name].append(output[0].detach().float().cpu())

        return hook


def _register(model: Llama, rows: _Rows) -> list:
    handles = [model.tok_embeddings.register_forward_hook(rows.whole("embeddings"))]
    for layer in model.layers:
        att, ffn = layer.attention, layer.feed_forward
        hooks = (
            (layer.attention_norm, rows.norm("resid_pre", "attn_rms", "attn_normed")),
            (att.out, rows.output("heads")),
            (att.wo, rows.output("attn_out")),
            (layer.resid_mid, rows.output("resid_mid")),
            (layer.ffn_norm, rows.norm(None, "ffn_rms", "ffn_normed")),
            (ffn.gate, rows.output("gate")),
            (ffn.up, rows.output("up")),
            (ffn.act, rows.output("act")),
            (ffn.hidden, rows.output("hidden")),
            (ffn.w2, rows.output("ffn_out")),
            (layer.resid_post, rows.output("resid_post")),
        )
        handles += [module.register_forward_hook(hook) for module, hook in hooks]
    # the forward projects only the kept positions: the final norm sees exactly those rows
    handles.append(
        model.norm.register_forward_hook(rows.norm(None, "final_rms", "final_normed", True))
    )
    handles.append(model.logits.register_forward_hook(rows.whole("logits")))
    return handles


@contextmanager
def _hooked(model: Llama, rows: _Rows) -> Iterator[None]:
    handles = _register(model, rows)
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def capture_positions(
    model: Llama,
    ids: Sequence[int],
    positions: Sequence[int],
    on_layer: Callable[[int], None] | None = None,
) -> PositionDetail:
    """One forward pass over ``ids`` that keeps the walkthrough's values at ``positions``.

    The KV cache is left alone (an append continues the trace as before), and only the
    kept positions are projected to the vocabulary.

    Args:
        model: the Llama.
        ids: the prompt's token ids (T >= 1).
        positions: the query positions to keep.
        on_layer: called with each block's index as it finishes; raising there stops.

    Raises:
        ValueError: empty ids or positions out of range.
    """
    if len(ids) == 0:
        raise ValueError("the prompt is empty: there is no token to run")
    kept = check_positions(positions, len(ids))
    device = model.tok_embeddings.weight.device
    tokens = torch.tensor([list(ids)], dtype=torch.long, device=device)  # (1, T)
    rows = _Rows(torch.tensor(kept, dtype=torch.long))
    progress = []
    if on_layer is not None:
        progress = [
            layer.resid_post.register_forward_hook(lambda *_a, i=i: on_layer(i))
            for i, layer in enumerate(model.layers)
        ]
    try:
        with _hooked(model, rows):
            model(tokens, positions=kept)
    finally:
        for h in progress:
            h.remove()
    return _detail(model, rows.store, ids, kept)


def _detail(model: Llama, store: dict, ids: Sequence[int], kept: tuple[int, ...]) -> PositionDetail:
    stacked = {name: torch.stack(store[name]).numpy() for name in LAYER_ROWS}  # (L, P, ·)
    gains = [
        torch.stack([getattr(layer, n).weight.detach().float().cpu() for layer in model.layers])
        for n in ("attention_norm", "ffn_norm")
    ]
    return PositionDetail(
        token_ids=np.asarray(ids, dtype=np.int64),
        positions=kept,
        embeddings=store["embeddings"][0].numpy(),
        final_rms=store["final_rms"][0].numpy(),
        final_normed=store["final_normed"][0].numpy(),
        logits=store["logits"][0].numpy(),
        attn_gain=gains[0].numpy(),
        ffn_gain=gains[1].numpy(),
        final_gain=model.norm.weight.detach().float().cpu().numpy(),
        **stacked,
    )

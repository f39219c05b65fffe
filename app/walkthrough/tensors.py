"""The tensors each walkthrough step shows: the model's own numbers, named as in the seed.

A step's tensors come from the Trace (tokens, q/k/v, the attention stages) and from the
:class:`~llamalens.model.position_capture.PositionDetail` of the selected position (the
residual stream, norms, the attention output and the SwiGLU intermediates). Names follow
the "Llama 3 from scratch" notebook's all-layers loop (``final_embedding``,
``layer_embedding_norm``, ``q_per_token`` …); ``[p]`` marks the row of position p.
Captions and row labels are translated here, when a step is drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llamalens.app.walkthrough import texts as T
from llamalens.app.walkthrough.steps import check_step
from llamalens.app.walkthrough.texts import tr
from llamalens.model.position_capture import PositionDetail
from llamalens.model.sampling import SamplingParams, distribution, sample, softmax
from llamalens.model.trace import Trace
from llamalens.viz.token_text import visible_text

KINDS = ("tokens", "ids", "matrix", "rows", "vector", "attention", "bars", "token")
TOP_BARS = 10


@dataclass(frozen=True)
class Bars:
    """Next-token bars: labels, the model's probabilities, the sampled-from ones, kept."""

    labels: tuple[str, ...]
    probs: np.ndarray
    shown: np.ndarray
    kept: np.ndarray
    chosen: int | None = None


@dataclass(frozen=True)
class StepTensor:
    """One tensor of a step.

    Attributes:
        name: its name in the step's code, e.g. ``q_per_token`` or ``final_embedding[4]``.
        value: the tensor itself (the model's value; tests compare it with the forward).
        kind: how it is drawn (one of :data:`KINDS`).
        caption: a few translated words about it.
        display: what is drawn when it is more than ``value`` (stacked rows), else None.
        row_labels: labels of the drawn rows (tokens, layers, row names).
        highlight_row: the outlined row, or None.
        segment, highlight_segment: a boundary every ``segment`` columns, one outlined.
        row_scaled: each drawn row on its own colour scale.
        clip: quantile of |values| at the ends of the colour scale.
        stage: for ``attention``: scores, masked or probs.
        bars: for ``bars``: what the bars show.
        text: for ``token``: the decoded token and how it was chosen.
        rows_are: ``tokens`` or ``layers`` when a drawn row stands for one (a click on it
            selects that token or layer), else "".
    """

    name: str
    value: np.ndarray
    kind: str
    caption: str
    display: np.ndarray | None = None
    row_labels: tuple[str, ...] = ()
    highlight_row: int | None = None
    segment: int = 0
    highlight_segment: int | None = None
    row_scaled: bool = False
    clip: float = 1.0
    stage: str = ""
    bars: Bars | None = None
    text: str = ""
    rows_are: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in np.shape(self.value))

    def shape_text(self) -> str:
        """The shape as the seed notebook writes it: ``[5, 576]``."""
        return "[" + ", ".join(str(n) for n in self.shape) + "]"

    def label(self) -> str:
        """``name  [shape] · caption``: what the view writes above the tensor."""
        return f"{self.name}  {self.shape_text()} · {self.caption}"


@dataclass(frozen=True)
class WalkContext:
    """Everything a step reads: the run, the position's detail and the selection."""

    trace: Trace
    detail: PositionDetail | None
    layer: int
    head: int
    position: int
    sampling: SamplingParams
    vocab: Any

    @property
    def row(self) -> int:
        """The position's row in the detail's (·, P, ·) arrays."""
        return self.detail.index(self.position)

    @property
    def kv(self) -> int:
        return self.trace.kv_head(self.head)

    @property
    def slot(self) -> int:
        """The layer's place in the trace's arrays (a run may capture some layers only)."""
        return self.trace.slot(self.layer)

    @property
    def n_layers(self) -> int:
        """The model's layers (all of them, captured or not)."""
        return int(self.trace.config["n_layers"])

    def next_layer(self) -> int:
        """The next layer the trace captured after this one (the first after the last)."""
        layers = self.trace.layers
        return layers[(layers.index(self.layer) + 1) % len(layers)]

    def token(self, position: int | None = None) -> str:
        """A token's text, quoted, whitespace made visible."""
        p = self.position if position is None else position
        return f"“{visible_text(self.trace.token_strs[p])}”"

    def token_labels(self) -> tuple[str, ...]:
        return tuple(visible_text(t) for t in self.trace.token_strs)

    def vocab_text(self, token_id: int) -> str:
        return f"“{visible_text(self.vocab.token(int(token_id)).text)}”"

    def logits(self) -> np.ndarray:
        """(V,) the logits of the position (the detail's, exactly the forward's)."""
        return self.detail.logits[self.row]


def step_tensors(step_id: str, ctx: WalkContext) -> list[StepTensor]:
    """The tensors of one step.

    Raises:
        ValueError: an unknown step, or a step that needs the detail when it is None.
    """
    step = check_step(step_id)
    if step.needs_detail and ctx.detail is None:
        raise ValueError(f"step {step_id!r} needs the values of position {ctx.position}")
    return BUILDERS[step.id](ctx)


# ---- the embedding and the norms --------------------------------------------------------------
def _tokens(ctx: WalkContext) -> list[StepTensor]:
    texts = np.array(ctx.trace.token_strs, dtype=str)
    return [StepTensor("prompt_split_as_tokens", texts, "tokens", tr(T.CAPTIONS["tokens"]))]


def _ids(ctx: WalkContext) -> list[StepTensor]:
    return [StepTensor("tokens", ctx.trace.token_ids, "ids", tr(T.CAPTIONS["ids"]))]


def _embedding(ctx: WalkContext) -> list[StepTensor]:
    return [
        StepTensor(
            "token_embeddings_unnormalized",
            ctx.detail.embeddings,
            "matrix",
            tr(T.CAPTIONS["embedding"]),
            row_labels=ctx.token_labels(),
            highlight_row=ctx.position,
            clip=0.995,
            rows_are="tokens",
        )
    ]


def norm_rows(x, rms, gain, out, input_name: str, gain_name: str) -> tuple[np.ndarray, tuple]:
    """The four rows of an RMSNorm: input, input / RMS, the weight g and the result."""
    rows = np.stack([x, x / rms, gain, out])  # (4, d)
    labels = (
        f"{tr(T.ROW_INPUT)} {input_name}",
        tr(T.ROW_DIVIDED, rms=f"{float(rms):.4g}"),
        f"{tr(T.ROW_GAIN)} {gain_name}",
        tr(T.ROW_RESULT),
    )
    return rows, labels


def _norm(ctx: WalkContext, which: str) -> list[StepTensor]:
    d, ly, r, p = ctx.detail, ctx.layer, ctx.row, ctx.position
    if which == "attention":
        x, rms, g, out = (
            d.resid_pre[ly, r],
            d.attn_rms[ly, r],
            d.attn_gain[ly],
            d.attn_normed[ly, r],
        )
        names = (f"final_embedding[{p}]", "attention_norm", "layer_embedding_norm")
    elif which == "ffn":
        x, rms, g, out = d.resid_mid[ly, r], d.ffn_rms[ly, r], d.ffn_gain[ly], d.ffn_normed[ly, r]
        names = (
            f"embedding_after_edit[{p}]",
            "ffn_norm",
            "embedding_after_edit_normalized",
        )
    else:
        x, rms, g, out = d.resid_post[-1, r], d.final_rms[r], d.final_gain, d.final_normed[r]
        names = (f"final_embedding[{p}]", "norm", "rms_norm(final_embedding)")
    rows, labels = norm_rows(x, rms, g, out, names[0], f"{names[1]}.weight")
    caption = tr(T.CAPTIONS["final" if which == "final" else "normed"])
    return [
        StepTensor(
            f"{names[2]}[{p}]", out, "rows", caption, rows, labels, row_scaled=True, clip=0.99
        )
    ]


# ---- attention ------------------------------------------------------------------------------
def _projection(ctx: WalkContext, which: str) -> list[StepTensor]:
    t, ly = ctx.trace, ctx.slot
    source = {"q": t.q[ly, ctx.head], "k": t.k[ly, ctx.kv], "v": t.v[ly, ctx.kv]}[which]
    caption = tr(T.CAPTIONS[which], head=ctx.head, kv=ctx.kv)
    return [
        StepTensor(
            f"{which}_per_token",
            source,
            "matrix",
            caption,
            row_labels=ctx.token_labels(),
            highlight_row=ctx.position,
            rows_are="tokens",
        )
    ]


def _rope(ctx: WalkContext) -> list[StepTensor]:
    """The query and the key of the position before and after rotation; under the query,
    the angle m·θᵢ each pair turns by (drawn under both numbers of the pair)."""
    t, ly, p = ctx.trace, ctx.slot, ctx.position
    angles = np.repeat(np.angle(t.freqs_cis()[p]), 2)  # (hd,) pair i under columns 2i, 2i+1
    out = []
    for which, before, after in (
        ("q", t.q[ly, ctx.head, p], t.q_rot[ly, ctx.head, p]),
        ("k", t.k[ly, ctx.kv, p], t.k_rot[ly, ctx.kv, p]),
    ):
        caption = tr(T.CAPTIONS["rope" if which == "q" else "rope_key"], token=ctx.token())
        rows = [before, after] + ([angles] if which == "q" else [])
        labels = [f"{tr(T.ROW_BEFORE)} {which}_per_token[{p}]", tr(T.ROW_AFTER)]
        labels += [tr(T.ROW_ANGLE)] if which == "q" else []
        out.append(
            StepTensor(
                f"{which}_per_token_rotated[{p}]",
                after,
                "rows",
                caption,
                np.stack(rows),
                tuple(labels),
                row_scaled=True,
            )
        )
    return out


def _stage(ctx: WalkContext, stage: str) -> list[StepTensor]:
    names = {
        "scores": "qk_per_token",
        "masked": "qk_per_token_after_masking",
        "probs": "qk_per_token_after_masking_after_softmax",
    }
    value = ctx.trace.attention_map(ctx.layer, ctx.head, stage)
    caption = tr(T.CAPTIONS[stage], head=ctx.head)
    return [StepTensor(names[stage], value, "attention", caption, stage=stage)]


def _weighted_values(ctx: WalkContext) -> list[StepTensor]:
    t, d, ly, h, p = ctx.trace, ctx.detail, ctx.layer, ctx.head, ctx.position
    hd = t.head_dim
    probs = t.probs(ly, h)[p]  # (T,)
    labels = ctx.token_labels()
    weighted = tuple(f"{text}  × {w:.3f}" for text, w in zip(labels, probs))
    return [
        StepTensor(
            f"qk_per_token_after_masking_after_softmax[{p}]",
            probs,
            "vector",
            tr(T.CAPTIONS["probs_row"], token=ctx.token()),
        ),
        StepTensor(
            "v_per_token",
            t.v[ctx.slot, ctx.kv],
            "matrix",
            tr(T.CAPTIONS["values"]),
            row_labels=weighted,
            rows_are="tokens",
        ),
        StepTensor(
            f"qkv_attention[{p}]",
            d.heads[ly, ctx.row, h * hd : (h + 1) * hd],
            "vector",
            tr(T.CAPTIONS["head_out"], head=h),
        ),
    ]


def _concat(ctx: WalkContext) -> list[StepTensor]:
    """The concatenated heads, drawn one head per row (head h is columns h·hd … (h+1)·hd)."""
    t, p = ctx.trace, ctx.position
    value = ctx.detail.heads[ctx.layer, ctx.row]  # (H·hd,)
    caption = tr(T.CAPTIONS["concat"], n_heads=t.n_heads)
    labels = tuple(f"qkv_attention_store[{h}]" for h in range(t.n_heads))
    return [
        StepTensor(
            f"stacked_qkv_attention[{p}]",
            value,
            "rows",
            caption,
            value.reshape(t.n_heads, t.head_dim),
            labels,
            highlight_row=ctx.head,
        )
    ]


def _vector(name: str, caption: str, clip: float = 1.0) -> Callable[[WalkContext], list]:
    """A step that shows one (·, P, n) detail array's row at the position."""
    attr, label = name.split(":")

    def build(ctx: WalkContext) -> list[StepTensor]:
        value = getattr(ctx.detail, attr)[ctx.layer, ctx.row]
        return [StepTensor(f"{label}[{ctx.position}]", value, "vector", tr(caption), clip=clip)]

    return build


def _residual(ctx: WalkContext, which: str) -> list[StepTensor]:
    d, ly, r, p = ctx.detail, ctx.layer, ctx.row, ctx.position
    if which == "attention":
        parts = (d.resid_pre[ly, r], d.attn_out[ly, r], d.resid_mid[ly, r])
        names = (f"final_embedding[{p}]", f"embedding_delta[{p}]", f"embedding_after_edit[{p}]")
        caption = T.CAPTIONS["resid_mid"]
    else:
        parts = (d.resid_mid[ly, r], d.ffn_out[ly, r], d.resid_post[ly, r])
        names = (
            f"embedding_after_edit[{p}]",
            f"output_after_feedforward[{p}]",
            f"final_embedding[{p}]",
        )
        caption = T.CAPTIONS["resid_post"]
    labels = (names[0], f"+ {names[1]}", f"= {names[2]}")
    return [StepTensor(names[2], parts[2], "rows", tr(caption), np.stack(parts), labels, clip=0.99)]


# ---- the feed-forward network ----------------------------------------------------------------
def _silu(ctx: WalkContext) -> list[StepTensor]:
    d, ly, r, p = ctx.detail, ctx.layer, ctx.row, ctx.position
    rows = np.stack([d.gate[ly, r], d.act[ly, r]])
    labels = (f"w1_x[{p}]", f"fc_gate[{p}] = silu(w1_x[{p}])")
    return [StepTensor(f"fc_gate[{p}]", d.act[ly, r], "rows", tr(T.CAPTIONS["silu"]), rows, labels)]


def _product(ctx: WalkContext) -> list[StepTensor]:
    d, ly, r, p = ctx.detail, ctx.layer, ctx.row, ctx.position
    rows = np.stack([d.act[ly, r], d.up[ly, r], d.hidden[ly, r]])
    labels = (f"fc_gate[{p}]", f"fc_up[{p}]", "⊙")
    name = f"(fc_gate * fc_up)[{p}]"
    caption = tr(T.CAPTIONS["product"])
    return [StepTensor(name, d.hidden[ly, r], "rows", caption, rows, labels, row_scaled=True)]


# ---- the layers and the output ---------------------------------------------------------------
def _layers(ctx: WalkContext) -> list[StepTensor]:
    d, p = ctx.detail, ctx.position
    value = d.resid_post[:, ctx.row]  # (L, d)
    labels = tuple(tr(T.ROW_LAYER, layer=i) for i in range(d.n_layers))
    caption = tr(T.CAPTIONS["layers"], token=ctx.token())
    return [
        StepTensor(
            f"final_embedding_per_layer[:, {p}]",
            value,
            "matrix",
            caption,
            row_labels=labels,
            highlight_row=ctx.layer,
            clip=0.99,
            rows_are="layers",
        )
    ]


def _logits(ctx: WalkContext) -> list[StepTensor]:
    logits = ctx.logits()
    probs = softmax(logits)
    order = np.argsort(-logits, kind="stable")[:TOP_BARS]
    bars = Bars(
        tuple(ctx.vocab_text(i) for i in order),
        probs[order],
        probs[order],
        np.ones(len(order), bool),
    )
    caption = tr(T.CAPTIONS["logits"], V=len(logits))
    return [
        StepTensor("logits", logits, "vector", caption, clip=0.999),
        StepTensor(
            f"softmax(logits)[top {len(order)}]",
            probs[order],
            "bars",
            tr(T.CAPTIONS["top_logits"]),
            bars=bars,
            extra={"ids": order},
        ),
    ]


def choice(ctx: WalkContext) -> tuple[int, float]:
    """The token the sampling settings choose at the position, and its probability."""
    result = sample(ctx.logits(), ctx.sampling)
    return result.token, float(result.final[result.token])


def _sampling(ctx: WalkContext) -> list[StepTensor]:
    dist = distribution(ctx.logits(), ctx.sampling)
    order = np.argsort(-dist.tempered, kind="stable")[:TOP_BARS]
    kept = np.isin(order, dist.kept)
    shown = np.where(kept, dist.final[order], dist.tempered[order])
    token, _ = choice(ctx)
    chosen = int(np.flatnonzero(order == token)[0]) if token in order else None
    labels = tuple(ctx.vocab_text(i) for i in order)
    bars = Bars(labels, dist.probs[order], shown, kept, chosen)
    caption = tr(T.CAPTIONS["sampling"])
    return [StepTensor("probs", dist.final, "bars", caption, bars=bars, extra={"ids": order})]


def _next_token(ctx: WalkContext) -> list[StepTensor]:
    token, prob = choice(ctx)
    text = f"{token} → {ctx.vocab_text(token)}"
    caption = tr(T.CAPTIONS["next_token"])
    return [
        StepTensor("next_token", np.array(token), "token", caption, text=text, extra={"prob": prob})
    ]


BUILDERS: dict[str, Callable[[WalkContext], list[StepTensor]]] = {
    "tokens": _tokens,
    "ids": _ids,
    "embedding": _embedding,
    "attention_norm": lambda c: _norm(c, "attention"),
    "wq": lambda c: _projection(c, "q"),
    "wk": lambda c: _projection(c, "k"),
    "wv": lambda c: _projection(c, "v"),
    "rope": _rope,
    "scores": lambda c: _stage(c, "scores"),
    "mask": lambda c: _stage(c, "masked"),
    "softmax": lambda c: _stage(c, "probs"),
    "weighted_values": _weighted_values,
    "concat": _concat,
    "wo": _vector("attn_out:embedding_delta", T.CAPTIONS["delta"], clip=0.995),
    "attention_residual": lambda c: _residual(c, "attention"),
    "ffn_norm": lambda c: _norm(c, "ffn"),
    "w1_gate": _vector("gate:w1_x", T.CAPTIONS["gate"]),
    "w3_up": _vector("up:fc_up", T.CAPTIONS["up"]),
    "silu": _silu,
    "product": _product,
    "w2_down": _vector("ffn_out:output_after_feedforward", T.CAPTIONS["ffn_out"], clip=0.995),
    "ffn_residual": lambda c: _residual(c, "ffn"),
    "next_layer": _layers,
    "final_norm": lambda c: _norm(c, "final"),
    "logits": _logits,
    "sampling": _sampling,
    "next_token": _next_token,
}

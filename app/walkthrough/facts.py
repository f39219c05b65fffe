"""The numbers the walkthrough's texts quote: sizes, the selection, and what a step found.

:func:`step_facts` fills the placeholders of :mod:`llamalens.app.walkthrough.texts`
(``{token}``, ``{rms}``, ``{top_key}`` …) from the run, so an explanation says what this
model did for this prompt ("gives 62% of its attention to “The” [0]").
"""

from __future__ import annotations

import numpy as np

from llamalens.app.walkthrough import texts as T
from llamalens.app.walkthrough.tensors import WalkContext, choice
from llamalens.app.walkthrough.texts import tr
from llamalens.model.sampling import distribution


def sizes(ctx: WalkContext) -> dict[str, object]:
    """Model sizes and the selection, for every step."""
    t, cfg = ctx.trace, ctx.trace.config
    hd, h = t.head_dim, ctx.head
    group = [g for g in range(t.n_heads) if t.kv_head(g) == ctx.kv]
    return {
        "T": t.n_tokens,
        "V": int(cfg["vocab_size"]),
        "d": int(cfg["dim"]),
        "F": int(cfg["hidden_dim"]),
        "hd": hd,
        "half": hd // 2,
        "n_heads": t.n_heads,
        "n_kv": t.n_kv_heads,
        "n_layers": ctx.n_layers,
        "layer": ctx.layer,
        "head": h,
        "kv": ctx.kv,
        "group": ", ".join(str(g) for g in group),
        "pos": ctx.position,
        "token": ctx.token(),
        "id": int(t.token_ids[ctx.position]),
        "width": t.n_heads * hd,
        "last": t.n_heads - 1,
        "q0": h * hd,
        "q1": (h + 1) * hd - 1,
    }


def _top_key(ctx: WalkContext, stage: str) -> dict[str, str]:
    row = ctx.trace.attention_map(ctx.layer, ctx.head, stage)[ctx.position]
    visible = row[: ctx.position + 1]
    key = int(np.argmax(visible))
    probs = ctx.trace.probs(ctx.layer, ctx.head)[ctx.position]
    return {"top_key": f"{ctx.token(key)} [{key}]", "top_prob": f"{100 * probs[key]:.0f}%"}


def _rms(ctx: WalkContext, step_id: str) -> dict[str, str]:
    d, ly, r = ctx.detail, ctx.layer, ctx.row
    value = {
        "attention_norm": lambda: d.attn_rms[ly, r],
        "ffn_norm": lambda: d.ffn_rms[ly, r],
        "final_norm": lambda: d.final_rms[r],
    }[step_id]()
    return {"rms": f"{float(value):.4g}"}


def _output(ctx: WalkContext, step_id: str) -> dict[str, object]:
    logits = ctx.logits()
    top = int(np.argmax(logits))
    facts: dict[str, object] = {"top": ctx.vocab_text(top), "top_logit": f"{logits[top]:.2f}"}
    s = ctx.sampling
    facts.update(temp=f"{s.temperature:.2f}", top_p=f"{s.top_p:.2f}", seed=s.seed or 0)
    facts["kept"] = len(distribution(logits, s).kept)
    token, prob = choice(ctx)
    facts.update(next=ctx.vocab_text(token), prob=f"{prob:.3f}")
    rule = T.GREEDY_RULE if s.temperature == 0 else T.SAMPLE_RULE
    facts["rule"] = tr(rule, seed=s.seed or 0)
    return facts


def step_facts(step_id: str, ctx: WalkContext) -> dict[str, object]:
    """Every placeholder value the texts of ``step_id`` may use."""
    facts = sizes(ctx)
    if step_id in ("scores", "softmax"):
        facts.update(_top_key(ctx, "scores" if step_id == "scores" else "probs"))
    if step_id == "mask":
        facts["visible"] = ctx.position + 1
    if step_id in ("attention_norm", "ffn_norm", "final_norm") and ctx.detail is not None:
        facts.update(_rms(ctx, step_id))
    if step_id == "silu" and ctx.detail is not None:
        facts["active"] = int((ctx.detail.gate[ctx.layer, ctx.row] > 0).sum())
    if step_id in ("logits", "sampling", "next_token") and ctx.detail is not None:
        facts.update(_output(ctx, step_id))
    return facts

"""The ``session`` JSON of a session file: what it holds, checked field by field.

It holds ``format``, ``version``, ``created`` (ISO 8601), ``model`` (``name``, ``path``,
``format``, ``device``, ``quantization``: strings or null), ``prompt`` (``text``, ``chat``,
``plain``), ``view`` (``layer``, ``head``, ``stage``, ``token``, ``key``, optionally the
walkthrough's ``walk_step``), ``sampling``
(``temperature``, ``top_p``, ``top_k``, ``seed``), ``history`` (strings) and, optionally,
``variant``: the what-if variant the app runs next (``Variant.to_dict()``, with its
``label``; the trace's own variant is the trace's ``variant`` member). Reading it
returns the same structure with every value of the right type and inside what the app's
controls can show; anything else is one :class:`~llamalens.model.errors.SessionError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from llamalens.model.attention import STAGES
from llamalens.model.errors import SessionError
from llamalens.model.fields import Fields, parse_json
from llamalens.model.sampling import SEED_MAX, TEMPERATURE_MAX, TOP_K_MAX

FORMAT = "llamalens-session"
VERSION = 1
META_KEYS = ("model", "prompt", "view", "sampling", "history")
MODEL_KEYS = ("name", "path", "format", "device", "quantization")
MAX_JSON_CHARS = 2**24  # the whole document
MAX_PROMPT_CHARS = 10**6
MAX_HISTORY = 10_000
MAX_HISTORY_CHARS = 1_000


def new_meta(
    *,
    model: dict,
    prompt: dict,
    view: dict,
    sampling: dict,
    history: list[str],
    variant: dict | None = None,
) -> dict[str, Any]:
    """The ``session`` JSON of a version-1 file, stamped with the current time."""
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": dict(model),
        "prompt": dict(prompt),
        "view": dict(view),
        "sampling": dict(sampling),
        "history": [str(h) for h in history],
    }
    if variant:
        meta["variant"] = dict(variant)
    return meta


def read_meta(text: str, source: str) -> dict[str, Any]:
    """The checked ``session`` JSON (view positions are checked later, against the trace).

    Raises:
        SessionError: naming ``source``, the field, the value found and what was expected.
    """
    data = parse_json(text, source, "a session object", SessionError, "the session JSON")
    fields = Fields(data, source, error=SessionError, part="session JSON")
    missing = [k for k in META_KEYS if k not in fields.data]
    if missing:
        raise SessionError(source, f"the session JSON lacks {', '.join(missing)}")
    model = fields.obj("model")
    prompt = fields.obj("prompt")
    meta = {
        "format": fields.string("format", FORMAT, choices=(FORMAT,)),
        "version": fields.integer("version", 1, VERSION, VERSION),
        "created": fields.string("created", "", max_len=64),
        "model": {k: model.string(k, None) for k in MODEL_KEYS},
        "prompt": {
            "text": prompt.string("text", "", max_len=MAX_PROMPT_CHARS),
            "chat": prompt.boolean("chat", False),
            "plain": prompt.boolean("plain", False),
        },
        "view": _view(fields.obj("view")),
        "sampling": _sampling(fields.obj("sampling")),
        "history": fields.strings("history", max_items=MAX_HISTORY, max_len=MAX_HISTORY_CHARS),
    }
    if fields.has("variant"):  # checked against the trace's model by the session reader
        meta["variant"] = fields.obj("variant").data
    return meta


def _view(view: Fields) -> dict[str, Any]:
    big = 2**31 - 1  # the trace's sizes are checked once it is read
    out = {
        "layer": view.integer("layer", 0, big, 0),
        "head": view.integer("head", 0, big, 0),
        "stage": view.string("stage", "probs", choices=STAGES),
        "token": view.integer("token", 0, big, 0),
        "key": view.integer("key", 0, big, 0),
    }
    if view.has("walk_step"):  # the walkthrough's step (the app falls back to the first)
        out["walk_step"] = view.string("walk_step", max_len=64)
    return out


def _sampling(sampling: Fields) -> dict[str, Any]:
    return {
        "temperature": sampling.number("temperature", 0.0, TEMPERATURE_MAX, 1.0),
        "top_p": sampling.number("top_p", 0.0, 1.0, 1.0, above=True),
        "top_k": sampling.integer("top_k", 0, TOP_K_MAX, 0),
        "seed": sampling.integer("seed", 0, SEED_MAX, 0),
    }


def check_view(
    view: dict[str, Any], layers: Sequence[int], n_heads: int, n_tokens: int, source: str
) -> None:
    """The saved selection must lie inside the trace: a captured layer, a head, a key at or
    before the query token."""
    if not (
        view["layer"] in layers
        and view["head"] < n_heads
        and view["key"] <= view["token"] < n_tokens
    ):
        raise SessionError(
            source,
            f"view (layer {view['layer']}, head {view['head']}, token {view['token']}, key "
            f"{view['key']}) is outside the trace ({len(layers)} layers, {n_heads} heads, "
            f"{n_tokens} tokens)",
        )

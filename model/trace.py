"""The Trace: everything one run computed, as numpy, in O(L·T·d) memory.

Per layer it keeps q, k (before RoPE), q_rot, k_rot (after) and v. Attention maps
for one (layer, head, stage) are rebuilt on demand with the forward pass's own
attention function (:func:`~llamalens.model.attention.attention_stage`), so they equal
what the model used, and a small LRU cache keeps the recent ones. A viewer gets the
values and, separately, the cells the causal mask hid (:meth:`Trace.map_mask`). RoPE
views and the per-pair score contributions come from the same vectors.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from llamalens.model.attention import attention_stage, causal_mask, check_stage, stage_mask
from llamalens.model.config import RopeScaling
from llamalens.model.rope_scaling import attention_factor

CACHE_BYTES = 256 * 2**20  # LRU budget for rebuilt maps (a 2048-token map is 16 MiB)


@dataclass(frozen=True)
class RopeView:
    """One head's vector at one position as hd/2 complex pairs z_i = x[2i] + j·x[2i+1].

    Attributes:
        before: (hd/2,) complex128, before rotation.
        after: (hd/2,) complex128, after rotation by m·θ_i.
        theta: (hd/2,) θ_i after any scaling.
        angle: (hd/2,) m·θ_i in radians (m = position).
        position: m.
    """

    before: np.ndarray
    after: np.ndarray
    theta: np.ndarray
    angle: np.ndarray
    position: int


class Trace:
    """A run's captured tensors and the views derived from them.

    Attributes:
        token_ids: (T,) int64.
        token_strs: T token texts (invalid UTF-8 escaped).
        token_bytes: T byte strings; token_special: T flags.
        config: the model config as a plain dict.
        layers: the model layers captured, ascending (all of them unless a run asked for
            fewer); every method takes model layer numbers, the arrays hold these L layers.
        q, q_rot: (L, H, T, hd) float32. k, k_rot, v: (L, KV, T, hd) float32.
        theta: (hd/2,) float64 RoPE frequencies θ_i.
        last_logits: (V,) float32 logits of the last position (what sampling uses).
        logits: (T, V) float32 for every position, or None (kept only on request: 805 MB
            for SmolLM2 at 4096 tokens).
        resid_norms: (L, 3, T) float32 norms of resid_pre, resid_mid, resid_post.
        resid_post: (L, T, d) float32 residual stream after each block (for the logit lens).
        variant: the what-if variant that made it (``Variant.to_dict()``; ``{}`` for the
            model itself, see :mod:`~llamalens.model.variants`).
    """

    def __init__(
        self,
        *,
        token_ids,
        token_strs,
        token_bytes,
        token_special,
        config,
        q,
        k,
        q_rot,
        k_rot,
        v,
        theta,
        last_logits,
        resid_norms,
        resid_post,
        logits=None,
        variant=None,
        layers=None,
    ) -> None:
        self.token_ids = np.asarray(token_ids, dtype=np.int64)
        self.token_strs = list(token_strs)
        self.token_bytes = list(token_bytes)
        self.token_special = [bool(s) for s in token_special]
        self.config: dict[str, Any] = dict(config)
        self.q, self.k, self.q_rot, self.k_rot, self.v = q, k, q_rot, k_rot, v
        self.theta = np.asarray(theta, dtype=np.float64)
        self.last_logits = np.asarray(last_logits, dtype=np.float32)
        self.logits = logits
        self.resid_norms = resid_norms
        self.resid_post = resid_post
        self.variant: dict[str, Any] = dict(variant or {})
        n = int(np.shape(q_rot)[0])
        self.layers: tuple[int, ...] = (
            tuple(range(n)) if layers is None else tuple(map(int, layers))
        )
        if (
            len(self.layers) != n
            or list(self.layers) != sorted(set(self.layers))
            or (n and self.layers[0] < 0)
        ):
            raise ValueError(f"trace layers {self.layers} do not describe {n} captured layers")
        self._slots = {layer: i for i, layer in enumerate(self.layers)}
        self._cache: OrderedDict[tuple[int, int, str], np.ndarray] = OrderedDict()
        self._visible: torch.Tensor | None = None  # (T, T) bool causal mask, built once
        self._lock = threading.Lock()  # the cache is shared with a viewer's preparing thread
        self._check_shapes()

    # ---- shape facts ---------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        return self.q_rot.shape[0]

    @property
    def n_heads(self) -> int:
        return self.q_rot.shape[1]

    @property
    def n_kv_heads(self) -> int:
        return self.k_rot.shape[1]

    @property
    def n_tokens(self) -> int:
        return self.q_rot.shape[2]

    @property
    def head_dim(self) -> int:
        return self.q_rot.shape[3]

    def kv_head(self, head: int) -> int:
        """The key/value head a query head reads (GQA: consecutive heads share one)."""
        return head // (self.n_heads // self.n_kv_heads)

    def _check_shapes(self) -> None:
        L, H, T, hd = self.q_rot.shape  # noqa: N806 (math names)
        want = {
            "q": (L, H, T, hd),
            "k": (L, self.k_rot.shape[1], T, hd),
            "v": self.k_rot.shape,
            "resid_norms": (L, 3, T),
        }
        if self.logits is not None:
            want["logits"] = (T, self.last_logits.shape[-1])
        for name, shape in want.items():
            got = getattr(self, name).shape
            if tuple(got) != tuple(shape):
                raise ValueError(f"trace {name} has shape {tuple(got)}, expected {tuple(shape)}")
        if len(self.token_ids) != T or len(self.token_strs) != T:
            raise ValueError(
                f"trace has {len(self.token_ids)} token ids and "
                f"{len(self.token_strs)} strings for {T} positions"
            )

    def slot(self, layer: int) -> int:
        """Where model layer ``layer`` sits in the arrays (a trace may keep some layers).

        Raises:
            ValueError: the layer was not captured.
        """
        slot = self._slots.get(int(layer))
        if slot is None:
            raise ValueError(f"layer {layer} was not captured (this trace has {self.layer_span})")
        return slot

    @property
    def layer_span(self) -> str:
        """The captured layers as text: ``layers 0..29`` or ``layers 2, 5, 9``."""
        ids = self.layers
        if ids == tuple(range(ids[0], ids[-1] + 1)):
            return f"layers {ids[0]}..{ids[-1]}"
        return "layers " + ", ".join(map(str, ids))

    def _check_index(self, layer: int, head: int) -> None:
        self.slot(layer)
        if not 0 <= head < self.n_heads:
            raise ValueError(f"head {head} is out of range 0..{self.n_heads - 1}")

    # ---- attention maps ------------------------------------------------------------------
    def attention_map(self, layer: int, head: int, stage: str, *, keep: bool = True) -> np.ndarray:
        """(T, T) float32 map of one stage: ``scores``, ``masked`` or ``probs``.

        Rows are queries, columns keys. ``masked`` holds -inf above the diagonal;
        ``probs`` rows sum to 1 with exact zeros above it. Which cells the mask hid is
        :meth:`map_mask`'s answer, not something to read back from the values.

        Args:
            keep: store the map in the LRU cache; False for a map used once (a viewer
                that keeps only a shrunken picture of it), which then evicts nothing.

        Safe to call from several threads (a viewer prepares maps on its own thread).
        """
        check_stage(stage)
        self._check_index(layer, head)
        key = (layer, head, stage)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        values = self._compute(layer, head, stage)
        if keep:
            with self._lock:
                self._store(key, values)
        return values

    def attention_rows(
        self, layer: int, head: int, stage: str, start: int, stop: int
    ) -> np.ndarray:
        """Rows ``start:stop`` of a stage map, computed alone: (stop - start, T) float32.

        What a zoomed-in viewer or one hovered cell needs of a long prompt's map without
        building all T² cells; equal to the same rows of :meth:`attention_map` (each row's
        softmax runs over all its keys either way).
        """
        check_stage(stage)
        self._check_index(layer, head)
        if not 0 <= start < stop <= self.n_tokens:
            raise ValueError(f"rows {start}:{stop} are outside 0:{self.n_tokens}")
        with self._lock:
            cached = self._cache.get((layer, head, stage))
        if cached is not None:
            return cached[start:stop]
        i = self.slot(layer)
        q = torch.from_numpy(self.q_rot[i, head, start:stop])  # (R, hd)
        k = torch.from_numpy(self.k_rot[i, self.kv_head(head)])  # (T, hd)
        visible = causal_mask(stop - start, start_pos=start, n_keys=self.n_tokens)  # (R, T)
        return attention_stage(q, k, visible, stage).numpy()  # (R, T)

    def layer_maps(self, layer: int, stage: str) -> list[np.ndarray]:
        """The (T, T) maps of every head of a layer (each rebuilt as on its own)."""
        check_stage(stage)
        self._check_index(layer, 0)
        return [self.attention_map(layer, h, stage) for h in range(self.n_heads)]

    def map_mask(self, stage: str) -> np.ndarray | None:
        """The cells of a ``stage`` map that the causal mask hid.

        Returns:
            None for raw scores, else (T, T) read-only bool, True for future keys.
        """
        return stage_mask(self.n_tokens, stage)

    def _store(self, key: tuple[int, int, str], value: np.ndarray) -> None:
        self._cache[key] = value
        total = sum(a.nbytes for a in self._cache.values())
        while len(self._cache) > 1 and total > CACHE_BYTES:
            _, dropped = self._cache.popitem(last=False)
            total -= dropped.nbytes

    def _compute(self, layer: int, head: int, stage: str) -> np.ndarray:
        """The forward pass's attention function on one head: (T, T) float32.

        One head at a time keeps the temporaries at one (T, T) map, so a whole layer
        costs what its heads cost one by one.
        """
        t = self.n_tokens
        with self._lock:
            if self._visible is None or self._visible.shape[0] != t:
                self._visible = causal_mask(t)  # (T, T)
            visible = self._visible
        i = self.slot(layer)
        q = torch.from_numpy(self.q_rot[i, head])  # (T, hd)
        k = torch.from_numpy(self.k_rot[i, self.kv_head(head)])  # (T, hd)
        return attention_stage(q, k, visible, stage).numpy()  # (T, T)

    def scores(self, layer: int, head: int) -> np.ndarray:
        """(T, T) raw QKᵀ/√hd before the mask."""
        return self.attention_map(layer, head, "scores")

    def masked(self, layer: int, head: int) -> np.ndarray:
        """(T, T) scores with -inf where a query would see the future."""
        return self.attention_map(layer, head, "masked")

    def probs(self, layer: int, head: int) -> np.ndarray:
        """(T, T) softmax of the masked scores."""
        return self.attention_map(layer, head, "probs")

    # ---- RoPE ----------------------------------------------------------------------------
    def rope_query(self, layer: int, head: int, position: int) -> RopeView:
        """The query of ``head`` at ``position`` as complex pairs before/after rotation."""
        self._check_index(layer, head)
        i = self.slot(layer)
        return self._rope(self.q[i, head, position], self.q_rot[i, head, position], position)

    def rope_key(self, layer: int, head: int, position: int) -> RopeView:
        """The key that query ``head`` reads (its KV head) at ``position``."""
        self._check_index(layer, head)
        kv = self.kv_head(head)
        i = self.slot(layer)
        return self._rope(self.k[i, kv, position], self.k_rot[i, kv, position], position)

    def _rope(self, before: np.ndarray, after: np.ndarray, position: int) -> RopeView:
        if not 0 <= position < self.n_tokens:
            raise ValueError(f"position {position} is out of range 0..{self.n_tokens - 1}")
        pairs = lambda x: x[0::2].astype(np.float64) + 1j * x[1::2].astype(np.float64)  # noqa: E731
        return RopeView(
            before=pairs(before),
            after=pairs(after),
            theta=self.theta,
            angle=position * self.theta,
            position=position,
        )

    def pair_contributions(self, layer: int, head: int, query: int, key: int) -> np.ndarray:
        """(hd/2,) Re(q̃_i · conj(k̃_i))/√hd; their sum is the raw score at (query, key)."""
        q = self.rope_query(layer, head, query).after
        k = self.rope_key(layer, head, key).after
        return np.real(q * np.conj(k)) / math.sqrt(self.head_dim)

    @property
    def variant_label(self) -> str:
        """The variant's label ("" for the model itself)."""
        return str(self.variant.get("label", ""))

    @property
    def rope_scale(self) -> float:
        """How much RoPE scaled q and k (YaRN's attention factor; 1 otherwise)."""
        scaling = self.config.get("rope_scaling")
        return attention_factor(RopeScaling(**scaling)) if scaling else 1.0

    def freqs_cis(self) -> np.ndarray:
        """(T, hd/2) complex64 a·e^{j·m·θ_i} for the trace's positions (a: :attr:`rope_scale`)."""
        angles = np.outer(np.arange(self.n_tokens), self.theta).astype(np.float32)
        return (self.rope_scale * np.exp(1j * angles)).astype(np.complex64)

    # ---- growth --------------------------------------------------------------------------
    def extended(self, *others: Trace) -> Trace:
        """This trace followed by ``others``' positions (KV-cache steps), copied once."""
        parts = (self, *others)
        cat = lambda name, axis: np.concatenate([getattr(p, name) for p in parts], axis)  # noqa: E731
        logits = None if any(p.logits is None for p in parts) else cat("logits", 0)
        return Trace(
            token_ids=cat("token_ids", 0),
            token_strs=sum((p.token_strs for p in parts), []),
            token_bytes=sum((p.token_bytes for p in parts), []),
            token_special=sum((p.token_special for p in parts), []),
            config=self.config,
            q=cat("q", 2),
            k=cat("k", 2),
            q_rot=cat("q_rot", 2),
            k_rot=cat("k_rot", 2),
            v=cat("v", 2),
            theta=self.theta,
            last_logits=parts[-1].last_logits,
            logits=logits,
            resid_norms=cat("resid_norms", 2),
            resid_post=cat("resid_post", 1),
            variant=self.variant,
            layers=self.layers,
        )

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays (the LRU map cache included)."""
        arrays = (
            self.q,
            self.k,
            self.q_rot,
            self.k_rot,
            self.v,
            self.last_logits,
            self.resid_norms,
            self.resid_post,
            *list(self._cache.values()),
        )
        if self.logits is not None:
            arrays += (self.logits,)
        return int(sum(a.nbytes for a in arrays))

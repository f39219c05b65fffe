"""The engine's what-if variants: ablated heads and RoPE changes on the loaded model.

:class:`VariantsMixin` gives :class:`~llamalens.model.engine.Engine` the current variant,
switching it (for good or inside a ``with`` block, keeping the KV cache), the unchanged
model's "before", ranking heads by ablation, and the check that a trace is continued by
the variant that made it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from llamalens.model.ablation import ablation_targets
from llamalens.model.ablation import install as install_ablations
from llamalens.model.ablation import remove as remove_ablations
from llamalens.model.head_ranking import HeadRanking, rank_heads
from llamalens.model.rope_scaling import attention_factor
from llamalens.model.trace import Trace
from llamalens.model.variants import Baseline, Variant

if TYPE_CHECKING:
    from llamalens.model.engine import Engine


class VariantsMixin:
    """What-if methods of the Engine (it provides ``module``, ``checkpoint``,
    ``_divisors``, ``_tensor`` and ``check_length``)."""

    _variant: Variant
    _ablation_hooks: list

    @property
    def variant(self) -> Variant:
        """The variant every run uses (``Variant()``: the model itself)."""
        return self._variant

    def set_variant(self, variant: Variant | None) -> None:
        """Run every later request on ``variant`` (None or ``Variant()``: the model).

        The RoPE change replaces the model's config for RoPE (a new scaling also replaces
        the checkpoint's own ``rope_freqs``); ablations hook the attention ``out`` taps.
        The KV cache is cleared: it holds keys of the previous variant.

        Raises:
            ValueError: a head out of range or an invalid RoPE change (nothing changes).
        """
        variant = variant or Variant()
        variant.check(self.checkpoint.config)
        self._apply(variant)
        self.module.clear_cache()

    @contextmanager
    def varied(self, variant: Variant | None) -> Iterator[Engine]:
        """Use ``variant`` inside the ``with`` block, then the previous one again.

        The KV cache of the previous variant is kept and restored, so a trace made before
        can still be continued with :meth:`append`.
        """
        previous, saved = self._variant, self.module.save_cache()
        self.set_variant(variant)
        try:
            yield self
        finally:
            self._apply(previous)
            self.module.restore_cache(saved)

    def _apply(self, variant: Variant) -> None:
        remove_ablations(self._ablation_hooks)
        module = self.module
        module.config = variant.applied_config(self.checkpoint.config)
        keeps_scaling = variant.rope is None or not variant.rope.changes_scaling
        module.rope_divisors = self._divisors if keeps_scaling else None
        module.drop_rope_table()
        self._ablation_hooks = install_ablations(module, ablation_targets(variant))
        self._variant = variant

    def rope(self, variant: Variant | None = None) -> tuple[np.ndarray, float]:
        """RoPE of ``variant`` (None: the current one): θ_i (hd/2,) float64 and the scale
        of q and k (YaRN's attention factor, else 1)."""
        with self.varied(variant if variant is not None else self._variant):
            cfg = self.module.config
            return self.module.freqs().numpy(), attention_factor(cfg.rope_scaling)

    def baseline(self, ids: Sequence[int]) -> Baseline:
        """What the unchanged model computes for ids: last logits and RoPE (the "before")."""
        with self.varied(Variant()):
            logits = self.module(self._tensor(ids), last_only=True)[0, -1].float().cpu().numpy()
            theta, scale = self.rope()
        return Baseline(last_logits=logits, theta=theta, rope_scale=scale)

    def rank_heads(
        self,
        ids: Sequence[int],
        layers: Sequence[int] | None = None,
        mode: str = "zero",
        target: int | None = None,
        on_layer: Callable[[int, int], None] | None = None,
    ) -> HeadRanking:
        """Ablate each head of ``layers`` (default all) in turn, on top of the variant.

        Args:
            ids: the prompt.
            layers: which layers' heads to rank.
            mode: ``zero`` or ``mean``.
            target: the next token whose log-probability measures the effect (default the
                run's most likely next token).
            on_layer: called with (done, total) after each layer; raising there cancels.

        Returns:
            Per (layer, head) the change of log p(target) and the KL divergence.
        """
        self.check_length(len(ids))
        ranking = rank_heads(self.module, ids, layers, mode, target, on_layer)
        return replace(ranking, variant=self._variant.to_dict())

    def _check_variant(self, trace: Trace) -> None:
        if trace.variant != self._variant.to_dict():
            made = Variant.from_dict(trace.variant).label() or "the model"
            now = self._variant.label() or "the model"
            raise ValueError(f"this trace was made by {made}, not by {now}: run it again")

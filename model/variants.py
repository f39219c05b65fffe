"""What-if variants of a loaded model: ablated heads and a changed RoPE.

A :class:`Variant` is a frozen description; the Engine applies it to its model
(:meth:`~llamalens.model.engine.Engine.set_variant`). It is labelled wherever it shows
(traces, figures, sessions, the window title, ``--json`` output), so a variant is never
mistaken for the model. The empty ``Variant()`` is the model itself, bit for bit.

Ablations replace one head's attention output (its slice of the (B, T, H·hd) ``out``
tap, before ``wo``) by zeros or by its mean over positions
(:mod:`~llamalens.model.ablation`). A RoPE change sets the base θ, the rotary fraction
and the scaling method (:mod:`~llamalens.model.rope_scaling`); the model's own scaling
is kept unless the variant names another one (or ``None``, no scaling).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from llamalens.model.config import ROPE_TYPES, LlamaConfig, RopeScaling

ABLATION_MODES = ("zero", "mean")
SCALING_NAMES = ("none", *ROPE_TYPES)
MODEL_SCALING = "model"  # RopeChange.scaling: keep the checkpoint's own scaling
METHOD_LABELS = {"linear": "linear", "ntk": "NTK", "yarn": "YaRN", "llama3": "Llama 3.1"}


def variant_title(model_name: str, label: str) -> str:
    """How a variant is named wherever it shows: ``SmolLM2 [variant: ablated L3.H1]``
    (the model's name alone for ``label`` "")."""
    return f"{model_name} [variant: {label}]" if label else model_name


@dataclass(frozen=True, order=True)
class HeadAblation:
    """One head's attention output replaced: ``zero`` or ``mean`` (over positions)."""

    layer: int
    head: int
    mode: str = "zero"

    def __post_init__(self) -> None:
        if self.mode not in ABLATION_MODES:
            raise ValueError(f"ablation mode is {self.mode!r}, expected one of {ABLATION_MODES}")

    def label(self) -> str:
        """``L3.H1`` (zero) or ``L3.H1 mean``."""
        return f"L{self.layer}.H{self.head}" + ("" if self.mode == "zero" else f" {self.mode}")


@dataclass(frozen=True)
class RopeChange:
    """A changed RoPE: each field None (or ``"model"``) keeps the model's own.

    Attributes:
        theta: the base θ.
        rotary_fraction: the share of each head that rotates (the first pairs).
        scaling: ``"model"`` (the checkpoint's own), None (no scaling) or a RopeScaling.
    """

    theta: float | None = None
    rotary_fraction: float | None = None
    scaling: RopeScaling | str | None = MODEL_SCALING

    def __post_init__(self) -> None:
        if isinstance(self.scaling, str) and self.scaling != MODEL_SCALING:
            raise ValueError(
                f"scaling is {self.scaling!r}, expected {MODEL_SCALING!r}, None or a RopeScaling"
            )

    @property
    def changes_scaling(self) -> bool:
        return self.scaling != MODEL_SCALING

    def is_identity(self) -> bool:
        return self.theta is None and self.rotary_fraction is None and not self.changes_scaling

    def label(self) -> str:
        """``θ 500000, fraction 0.5, YaRN ×4`` (only what changed)."""
        parts = []
        if self.theta is not None:
            parts.append(f"θ {self.theta:g}")
        if self.rotary_fraction is not None:
            parts.append(f"rotary {self.rotary_fraction:g}")
        if self.scaling is None:
            parts.append("no scaling")
        elif isinstance(self.scaling, RopeScaling):
            parts.append(f"{METHOD_LABELS[self.scaling.rope_type]} ×{self.scaling.factor:g}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Variant:
    """Ablated heads and a RoPE change; ``Variant()`` is the unchanged model."""

    ablations: tuple[HeadAblation, ...] = ()
    rope: RopeChange | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "ablations", tuple(sorted(set(self.ablations))))
        heads = [(a.layer, a.head) for a in self.ablations]
        if len(heads) != len(set(heads)):
            raise ValueError("a head is ablated twice, with two modes; choose one")
        if self.rope is not None and self.rope.is_identity():
            object.__setattr__(self, "rope", None)

    def is_model(self) -> bool:
        """True when nothing is changed (runs are bit-exact with the model's)."""
        return not self.ablations and self.rope is None

    def label(self) -> str:
        """A short description, "" for the model: ``ablated L3.H1, L5.H0 mean · RoPE θ 5e+05``."""
        parts = []
        if self.ablations:
            parts.append("ablated " + ", ".join(a.label() for a in self.ablations))
        if self.rope is not None:
            parts.append("RoPE " + self.rope.label())
        return " · ".join(parts)

    def title(self, model_name: str) -> str:
        """``SmolLM2 [variant: ablated L3.H1]`` or just the model's name."""
        return variant_title(model_name, self.label())

    # ---- editing ---------------------------------------------------------------------------
    def with_ablation(self, layer: int, head: int, mode: str | None) -> Variant:
        """This variant with head (layer, head) ablated by ``mode`` (None: not ablated)."""
        kept = tuple(a for a in self.ablations if (a.layer, a.head) != (layer, head))
        added = () if mode is None else (HeadAblation(layer, head, mode),)
        return replace(self, ablations=kept + added)

    def with_rope(self, rope: RopeChange | None) -> Variant:
        return replace(self, rope=rope)

    # ---- the model it describes ------------------------------------------------------------
    def check(self, config: LlamaConfig) -> None:
        """Raise ValueError unless every head exists and the changed RoPE is valid."""
        for a in self.ablations:
            if not 0 <= a.layer < config.n_layers:
                raise ValueError(
                    f"ablated layer {a.layer} is out of range 0..{config.n_layers - 1}"
                )
            if not 0 <= a.head < config.n_heads:
                raise ValueError(f"ablated head {a.head} is out of range 0..{config.n_heads - 1}")
        problems = self.applied_config(config).problems()
        if problems:
            raise ValueError("the RoPE variant is invalid: " + "; ".join(problems))

    def applied_config(self, config: LlamaConfig) -> LlamaConfig:
        """The model's config with this variant's RoPE (ablations change no config)."""
        rope = self.rope
        if rope is None:
            return config
        changes: dict[str, Any] = {}
        if rope.theta is not None:
            changes["rope_theta"] = float(rope.theta)
        if rope.rotary_fraction is not None:
            changes["rotary_fraction"] = float(rope.rotary_fraction)
        if rope.changes_scaling:
            changes["rope_scaling"] = rope.scaling
        return replace(config, **changes)

    # ---- plain JSON --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (traces, sessions, ``--json``); ``{}`` for the model."""
        if self.is_model():
            return {}
        out: dict[str, Any] = {"label": self.label()}
        out["ablations"] = [[a.layer, a.head, a.mode] for a in self.ablations]
        if self.rope is not None:
            r = self.rope
            scaling = r.scaling
            out["rope"] = {
                "theta": r.theta,
                "rotary_fraction": r.rotary_fraction,
                "scaling": asdict(scaling) if isinstance(scaling, RopeScaling) else scaling,
            }
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Variant:
        """The inverse of :meth:`to_dict`.

        Raises:
            ValueError: a malformed entry (named).
        """
        if not data:
            return cls()
        try:
            ablations = tuple(
                HeadAblation(int(layer), int(head), str(mode))
                for layer, head, mode in data.get("ablations", [])
            )
            rope = data.get("rope")
            change = None
            if rope is not None:
                scaling = rope.get("scaling", MODEL_SCALING)
                if isinstance(scaling, dict):
                    scaling = RopeScaling(**scaling)
                theta, fraction = rope.get("theta"), rope.get("rotary_fraction")
                change = RopeChange(
                    theta=None if theta is None else float(theta),
                    rotary_fraction=None if fraction is None else float(fraction),
                    scaling=scaling,
                )
            return cls(ablations, change)
        except (TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"variant is malformed ({exc}): {data!r}") from exc


@dataclass(frozen=True, eq=False)
class Baseline:
    """What the unchanged model computes for the prompt a variant ran: the "before".

    Attributes:
        last_logits: (V,) float32 next-token logits of the model.
        theta: (hd/2,) float64 the model's RoPE frequencies θ_i.
        rope_scale: how much the model's RoPE scales q and k (1 but for YaRN).
    """

    last_logits: np.ndarray
    theta: np.ndarray
    rope_scale: float = 1.0


# ---- the command line's spelling ----------------------------------------------------------------
def parse_ablations(spec: str) -> tuple[HeadAblation, ...]:
    """``"3.1,5.0"`` (zero) or ``"3.1:mean,5.0"`` → head ablations.

    Raises:
        ValueError: naming the part that is not ``layer.head[:zero|mean]``.
    """
    out = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        where, _, mode = part.partition(":")
        layer, dot, head = where.partition(".")
        try:
            if not dot:
                raise ValueError
            out.append(HeadAblation(int(layer), int(head), mode or "zero"))
        except ValueError as exc:
            raise ValueError(
                f"--ablate {spec!r}: {part!r} is not LAYER.HEAD or LAYER.HEAD:mean "
                "(e.g. 3.1,5.0 or 3.1:mean)"
            ) from exc
    if not out:
        raise ValueError(f"--ablate {spec!r}: expected heads like 3.1,5.0 or 3.1:mean")
    return tuple(out)


def parse_scaling(spec: str, context: int) -> RopeScaling | None:
    """``"linear:4"``, ``"ntk:4"``, ``"yarn:4"``, ``"llama3:8"`` or ``"none"``.

    Args:
        spec: METHOD:FACTOR.
        context: the model's context, the ``original_max_position`` of YaRN and Llama 3.1
            (the length the model was trained for, which the factor stretches).

    Raises:
        ValueError: an unknown method or a factor that is not a positive number.
    """
    method, _, factor = spec.strip().partition(":")
    if method == "none" and not factor:
        return None
    if method not in ROPE_TYPES:
        raise ValueError(
            f"--rope-scaling {spec!r}: method is {method!r}, expected one of {SCALING_NAMES}"
        )
    try:
        value = float(factor)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise ValueError(
            f"--rope-scaling {spec!r}: expected METHOD:FACTOR with a positive factor, e.g. yarn:4"
        )
    return RopeScaling(factor=value, original_max_position=context, rope_type=method)


def variant_from_options(
    config: LlamaConfig,
    *,
    ablate: str | None = None,
    rope_theta: float | None = None,
    rope_scaling: str | None = None,
    rotary_fraction: float | None = None,
) -> Variant:
    """A checked Variant from the command line's ``--ablate``, ``--rope-theta``,
    ``--rope-scaling`` and ``--rotary-fraction`` (each None: unchanged)."""
    scaling: RopeScaling | str | None = MODEL_SCALING
    if rope_scaling is not None:
        scaling = parse_scaling(rope_scaling, config.max_seq_len)
    if rope_theta is not None and not rope_theta > 0:
        raise ValueError(f"--rope-theta is {rope_theta}, expected a positive number")
    variant = Variant(
        ablations=parse_ablations(ablate) if ablate else (),
        rope=RopeChange(rope_theta, rotary_fraction, scaling),
    )
    variant.check(config)
    return variant

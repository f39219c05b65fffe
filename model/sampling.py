"""Next-token sampling: temperature, top-k, top-p (Meta's rule), seeded.

Everything is float64 numpy so that a panel can show each stage: the model's
distribution, the tempered one, the kept set and the renormalised nucleus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The settings a user can choose (the app's controls and saved sessions stay inside them).
TEMPERATURE_MAX = 2.0
TOP_K_MAX = 100_000
SEED_MAX = 2**31 - 1


@dataclass(frozen=True)
class SamplingParams:
    """temperature 0 means greedy; top_k 0 and top_p 1 mean "no cut"."""

    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int | None = None

    def __post_init__(self) -> None:
        if not (np.isfinite(self.temperature) and self.temperature >= 0):
            raise ValueError(f"temperature is {self.temperature}, expected a number >= 0")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p is {self.top_p}, expected 0 < top_p <= 1")
        if self.top_k < 0:
            raise ValueError(f"top_k is {self.top_k}, expected >= 0 (0 = no limit)")


@dataclass(frozen=True)
class Distribution:
    """Every stage of the next-token distribution (what a sampling panel draws).

    Attributes:
        probs: (V,) softmax of the raw logits (temperature 1).
        tempered: (V,) softmax of logits / T (equal to ``probs`` when greedy).
        kept: ids that survive top-k and top-p, most likely first (greedy: the argmax).
        final: (V,) the renormalised distribution over ``kept`` (zeros elsewhere).
    """

    probs: np.ndarray
    tempered: np.ndarray
    kept: np.ndarray
    final: np.ndarray


@dataclass(frozen=True)
class SamplingResult(Distribution):
    """The distribution and the token drawn from it."""

    token: int


def usable_logits(logits: np.ndarray) -> np.ndarray:
    """(V,) float64 logits with NaN as -inf (a token never chosen).

    Raises:
        ValueError: no token has a logit above -inf, so none can be chosen.
    """
    z = np.array(logits, dtype=np.float64)
    z[np.isnan(z)] = -np.inf
    if z.size and not np.any(z > -np.inf):
        raise ValueError("no token has a usable logit (all are NaN or -inf): nothing to choose")
    return z


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Numerically stable softmax of (V,) logits / temperature, float64.

    NaN counts as -inf; tokens at +inf (an overflow) share all the probability.
    """
    z = usable_logits(logits) / temperature
    top = np.isposinf(z)
    if top.any():
        return top / top.sum()
    e = np.exp(z - z.max())
    return e / e.sum()


def nucleus(tempered: np.ndarray, top_p: float, top_k: int) -> np.ndarray:
    """Ids kept by top-k then top-p, most likely first.

    Top-p follows Meta's ``_sample_top_p``: sort descending and drop a token when the
    mass strictly before it already exceeds p, i.e. keep the smallest prefix whose
    mass reaches p.
    """
    order = np.argsort(-tempered, kind="stable")
    if top_k:
        order = order[:top_k]
    sorted_p = tempered[order]
    before = np.cumsum(sorted_p) - sorted_p  # mass of the tokens ranked above each one
    return order[before <= top_p] if top_p < 1 else order[sorted_p > 0]


def distribution(logits: np.ndarray, params: SamplingParams) -> Distribution:
    """The next-token distribution of (V,) logits under temperature, top-k and top-p."""
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 1 or logits.size == 0:
        raise ValueError(f"logits have shape {logits.shape}, expected (V,) with V > 0")
    logits = usable_logits(logits)
    probs = softmax(logits)
    if params.temperature == 0:
        token = int(np.argmax(logits))
        final = np.zeros_like(probs)
        final[token] = 1.0
        return Distribution(probs, probs, np.array([token]), final)
    tempered = softmax(logits, params.temperature)
    kept = nucleus(tempered, params.top_p, params.top_k)
    final = np.zeros_like(tempered)
    final[kept] = tempered[kept] / tempered[kept].sum()
    return Distribution(probs, tempered, kept, final)


def sample(
    logits: np.ndarray, params: SamplingParams, rng: np.random.Generator | None = None
) -> SamplingResult:
    """Choose the next token from (V,) logits (greedy at temperature 0, else a seeded draw)."""
    d = distribution(logits, params)
    if params.temperature == 0:
        token = int(d.kept[0])
    else:
        rng = rng or np.random.default_rng(params.seed)
        token = int(d.kept[rng.choice(len(d.kept), p=d.final[d.kept])])
    return SamplingResult(d.probs, d.tempered, d.kept, d.final, token)

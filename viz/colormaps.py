"""Colour for attention matrices: colormaps, masked cells and colour ranges.

A matrix is coloured in two layers: the visible values go through a perceptual
colormap, and the cells its mask hides (given explicitly by the caller, never guessed
from the values) get one flat colour of their own, so they can never be mistaken for
the low end of the colour scale.

Values are of one of three kinds: ``"probability"`` (coloured from 0, log scale floored),
``"score"`` (coloured from the smallest visible value) or ``"difference"`` (B − A,
coloured on a range centred at zero, meant for a diverging colormap such as ``rdbu``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

KINDS = ("probability", "score", "difference")
COLORMAP_NAMES = ("viridis", "cividis", "magma", "inferno", "gray")
# Diverging maps for differences: blue below zero, white at zero, red above
# (ColorBrewer's RdBu, reversed). Kept apart from COLORMAP_NAMES, which suit one-sided values.
DIVERGING = {
    "rdbu": (
        "#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
        "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f",
    ),
}  # fmt: skip
DIVERGING_COLORMAP = "rdbu"
DEFAULT_COLORMAP = "viridis"
# Light neutral grey: no perceptual map above passes through it. The gray map does,
# so it gets a pale blue instead; the diverging map is white in the middle, so a mid grey.
MASKED_COLORS = {"gray": "#c6dbef", "rdbu": "#9e9e9e"}
DEFAULT_MASKED_COLOR = "#d9d9d9"


def check_kind(kind: str) -> None:
    """Raise ValueError unless ``kind`` is one of KINDS."""
    if kind not in KINDS:
        raise ValueError(f"value kind is {kind!r}; expected one of {', '.join(KINDS)}")


def get_colormap(name: str) -> pg.ColorMap:
    """The named colormap (one of COLORMAP_NAMES or DIVERGING); "gray" runs black to white."""
    if name in DIVERGING:
        colors = DIVERGING[name]
        return pg.ColorMap(np.linspace(0.0, 1.0, len(colors)), list(colors), name=name)
    if name not in COLORMAP_NAMES:
        known = ", ".join((*COLORMAP_NAMES, *DIVERGING))
        raise ValueError(f"colormap is {name!r}; expected one of {known}")
    if name == "gray":
        return pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)], name="gray")
    return pg.colormap.get(name)


@lru_cache(maxsize=8)
def lookup_table(name: str) -> np.ndarray:
    """(256, 4) uint8 RGBA lookup table of the named colormap (read-only)."""
    lut = np.ascontiguousarray(
        get_colormap(name).getLookupTable(nPts=256, alpha=True), dtype=np.uint8
    )
    lut.flags.writeable = False
    return lut


def default_masked_color(colormap: str) -> QColor:
    """The masked-cell colour that stands apart from every colour of ``colormap``."""
    return QColor(MASKED_COLORS.get(colormap, DEFAULT_MASKED_COLOR))


def alpha_ramp(color: QColor) -> np.ndarray:
    """(256, 4) uint8 lookup table: ``color`` with alpha 0..255 (for a mask overlay)."""
    lut = np.empty((256, 4), dtype=np.uint8)
    lut[:, 0], lut[:, 1], lut[:, 2] = color.red(), color.green(), color.blue()
    lut[:, 3] = np.arange(256)
    return lut


def visible_cells(matrix: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """(T, T) bool: the cells that set the colour range (not masked, finite)."""
    finite = np.isfinite(matrix)
    return finite if mask is None else finite & ~mask


def color_levels(
    matrix: np.ndarray, visible: np.ndarray, kind: str, fixed_probs: bool = False
) -> tuple[float, float]:
    """Colour range from the visible values: probabilities 0..max (or 0..1), scores
    min..max, differences −m..m with m the largest |value| (zero in the middle).

    Args:
        matrix: (T, T) values.
        visible: (T, T) bool, the cells that count (see ``visible_cells``).
        kind: "probability", "score" or "difference".
        fixed_probs: use 0..1 for probabilities instead of 0..max.

    Returns:
        ``(low, high)`` with ``low < high``, even for a constant or empty matrix.
    """
    if kind == "difference":
        m = float(np.max(np.abs(matrix), where=visible, initial=0.0))
        return (-m, m) if m > 0 else (-1.0, 1.0)
    probability = kind == "probability"
    if probability and fixed_probs:
        return 0.0, 1.0
    high = float(np.max(matrix, where=visible, initial=-np.inf))
    low = 0.0 if probability else float(np.min(matrix, where=visible, initial=np.inf))
    if not (np.isfinite(low) and np.isfinite(high)):
        return 0.0, 1.0
    if high <= low:  # a constant map still needs a non-empty range
        return (low, low + 1.0) if probability else (low - 0.5, high + 0.5)
    return low, high


def to_rgba(
    values: np.ndarray,
    levels: tuple[float, float],
    lut: np.ndarray,
    masked: np.ndarray | None,
    masked_color: QColor,
) -> np.ndarray:
    """Colour a small matrix in numpy (thumbnails; the big map is coloured by its ImageItem).

    Args:
        values: (h, w) float values.
        levels: ``(low, high)`` mapped to the first and last entry of ``lut``.
        lut: (256, 4) uint8 RGBA lookup table.
        masked: (h, w) bool cells to paint in ``masked_color``, or None.
        masked_color: colour of masked cells.

    Returns:
        (h, w, 4) uint8 RGBA, C-contiguous.
    """
    low, high = levels
    scaled = (np.nan_to_num(values, nan=low, posinf=high, neginf=low) - low) * (
        255.0 / (high - low)
    )
    index = np.clip(scaled, 0, 255).astype(np.uint8)
    rgba = lut[index]
    if masked is not None:
        rgba[masked] = (masked_color.red(), masked_color.green(), masked_color.blue(), 255)
    return np.ascontiguousarray(rgba)


SCALES = ("linear", "log", "gamma")
LOG_FLOOR = 1e-6  # probabilities below this share the bottom colour on the log scale


def scaled_for_color(
    values: np.ndarray,
    visible: np.ndarray,
    kind: str,
    scale: str,
    gamma: float,
    bounds: tuple[float, float] | None = None,
) -> tuple[np.ndarray, str]:
    """Values transformed for colouring (the readout keeps the originals).

    Args:
        values: (T, T) map (or any part or overview of one).
        visible: (T, T) cells that count.
        kind: "probability" or "score".
        scale: "linear"; "log" (log₁₀ of probabilities, floored at LOG_FLOOR; for raw
            scores log₁₀ of the distance above the visible minimum + 1); or "gamma"
            (the visible range normalised to 0..1, then raised to ``gamma``).
        gamma: exponent of the gamma scale, > 0 (< 1 brightens small values).
        bounds: (min, max) of the visible values of the whole map when ``values`` is
            only a part or an overview of it; None: taken from ``values``.

    Returns:
        (transformed (T, T) float32, colour-bar label suffix).
    """
    if scale not in SCALES:
        raise ValueError(f"colour scale is {scale!r}, expected one of {SCALES}")
    if scale == "linear":
        return values, ""
    if not gamma > 0:
        raise ValueError(f"gamma is {gamma}, expected a positive number")
    lowest, highest = _visible_bounds(values, visible) if bounds is None else bounds
    with np.errstate(invalid="ignore", divide="ignore"):
        if scale == "log":
            if kind == "probability":
                out = np.log10(np.maximum(values, LOG_FLOOR))
                return out.astype(np.float32), " (log₁₀)"
            low = lowest if np.isfinite(lowest) else 0.0
            out = np.log10(np.maximum(values - low, 0.0) + 1.0)
            return out.astype(np.float32), " (log₁₀(x − min + 1))"
        low = 0.0 if kind == "probability" else (lowest if np.isfinite(lowest) else 0.0)
        high = highest if np.isfinite(highest) else 1.0
        span = high - low if high > low else 1.0
        out = np.clip((values - low) / span, 0.0, 1.0) ** gamma
        return out.astype(np.float32), f" (normalised^{gamma:g})"


def _visible_bounds(values: np.ndarray, visible: np.ndarray) -> tuple[float, float]:
    """(min, max) of the finite visible values, (nan, nan) when there are none."""
    finite = visible & np.isfinite(values)
    if not finite.any():
        return float("nan"), float("nan")
    return (
        float(np.min(values, where=finite, initial=np.inf)),
        float(np.max(values, where=finite, initial=-np.inf)),
    )

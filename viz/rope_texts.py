"""The RoPE plot's words, marked for Qt's translation system (context "RopePlane")."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

PLANE_CAPTION = QT_TRANSLATE_NOOP(
    "RopePlane",
    "Each pair as a complex number: dashed before RoPE, solid after; darker pairs turn faster.",
)
PAIR = QT_TRANSLATE_NOOP("RopePlane", "pair i:")
ALL = QT_TRANSLATE_NOOP("RopePlane", "all")
NO_KEY = QT_TRANSLATE_NOOP("RopePlane", "Σ —  (no key token chosen)")
SUM = QT_TRANSLATE_NOOP("RopePlane", "Σ = {sum} = the score: Re(q̃ᵢ·k̃ᵢ*)/√hd per pair")
ALL_PAIRS = QT_TRANSLATE_NOOP(
    "RopePlane",
    "{n} pairs (hd = {hd}), θᵢ from {first} to {last} rad/position; "
    "click a point or bar to pick one.",
)
ONE_PAIR = QT_TRANSLATE_NOOP("RopePlane", "pair i = {i}: θᵢ = {theta} rad/position")
QUERY_ANGLE = QT_TRANSLATE_NOOP("RopePlane", "query m = {m}: m·θᵢ = {angle} rad = {turns} turns")
KEY_ANGLE = QT_TRANSLATE_NOOP(
    "RopePlane", "key n = {n}: n·θᵢ = {angle} rad; (m−n)·θᵢ = {delta} rad"
)
CONTRIBUTION = QT_TRANSLATE_NOOP("RopePlane", "contribution {value}")


def rope_tr(text: str) -> str:
    """``text`` (one of the sources above) in the current language."""
    return QCoreApplication.translate("RopePlane", text)

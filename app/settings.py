"""Persistent settings (window layout, recent models, device) via QSettings."""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings

SETTINGS_ENV = "LLAMALENS_SETTINGS"  # an .ini path; tests point it at a temporary file
MAX_RECENT = 8


def settings() -> QSettings:
    """The app's QSettings (an ini file when $LLAMALENS_SETTINGS is set)."""
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings("LlamaLens", "LlamaLens")


def recent_models() -> list[str]:
    value = settings().value("recent", [])
    if isinstance(value, str):  # QSettings returns a lone string for one-item lists
        value = [value]
    return [str(v) for v in value or []]


def remember_model(path: str) -> list[str]:
    """Put path first in the recent list (deduplicated, at most MAX_RECENT)."""
    items = [path] + [p for p in recent_models() if p != path]
    settings().setValue("recent", items[:MAX_RECENT])
    return items[:MAX_RECENT]

"""Where LlamaLens keeps files it makes: one cache root and one log folder, overridable."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "LLAMALENS_CACHE_DIR"
LOG_ENV = "LLAMALENS_LOG_DIR"


def cache_dir(*parts: str) -> Path:
    """The user cache directory (or ``$LLAMALENS_CACHE_DIR``), joined with parts, created."""
    root = os.environ.get(CACHE_ENV)
    if not root:
        from platformdirs import user_cache_dir

        root = user_cache_dir("llamalens", appauthor=False)
    path = Path(root, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    """The user log directory (or ``$LLAMALENS_LOG_DIR``), created: where bug reports go."""
    root = os.environ.get(LOG_ENV)
    if not root:
        from platformdirs import user_log_dir

        root = user_log_dir("llamalens", appauthor=False)
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path

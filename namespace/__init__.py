"""LlamaLens: see inside a Llama-family language model.

The installed package is one namespace; its parts live in the project's top-level
folders and are mapped in by ``pyproject.toml``:

- :mod:`llamalens.model`: the PyTorch model, loaders, tokenizers, the engine (no Qt).
- :mod:`llamalens.viz`: Qt/pyqtgraph widgets, numpy in, pixels out (no torch).
- :mod:`llamalens.app`: the desktop app, its worker thread and the command line.
- :mod:`llamalens.resources`: themes, translations and example prompts.
"""

from __future__ import annotations

__version__ = "0.2.0"

# The Python API (see README "From Python"), imported on first use so that
# ``import llamalens`` stays light: ``llamalens.load()``, ``llamalens.figure(...)``, ...
_API = {
    "load": "llamalens.app.notebook",
    "figure": "llamalens.app.notebook",
    "next_token_figure": "llamalens.app.notebook",
    "ranking_figure": "llamalens.app.notebook",
    "decay_figure": "llamalens.app.notebook",
    "angles_figure": "llamalens.app.notebook",
    "compare_figure": "llamalens.app.notebook",
    "save_session": "llamalens.app.notebook",
    "open_in_app": "llamalens.app.notebook",
    "Figure": "llamalens.app.notebook",
    "Engine": "llamalens.model.engine",
    "Variant": "llamalens.model.variants",
    "HeadAblation": "llamalens.model.variants",
    "RopeChange": "llamalens.model.variants",
    "variant_from_options": "llamalens.model.variants",
    "RopeScaling": "llamalens.model.config",
    "SamplingParams": "llamalens.model.sampling",
    "trace_decay": "llamalens.model.rope_decay",
    "map_difference": "llamalens.model.compare",
    "next_token_difference": "llamalens.model.compare",
}
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'llamalens' has no attribute {name!r}")

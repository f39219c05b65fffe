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

"""The LlamaLens Qt application: windows, panels, the worker thread and the CLI."""

from __future__ import annotations


def create_main_window(
    model: str | None = None, device: str | None = None, session: str | None = None
):
    """Build the main window; ``model`` is a checkpoint path or None for the default model,
    ``session`` a saved ``.llamalens`` session to show at once."""
    from llamalens.app.launch import create_main_window as _create

    return _create(model, device, session=session)

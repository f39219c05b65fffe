"""Save and open sessions (File ▸ Save Session…, Open Session…) on the main window.

An opened session shows a saved trace, its analysis and the view without loading a model:
the state's tokenizer becomes the saved :class:`~model.vocab_table.VocabTable`, which labels
tokens but cannot run anything, so Run / Append / Generate answer "no model is loaded yet"
until a model is opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtWidgets import QFileDialog

from llamalens.app.panels.sampling_panel import P_STEPS, TEMP_STEPS
from llamalens.app.requests import AnalysisResult
from llamalens.model import session_io
from llamalens.model.session_io import Analysis, Session
from llamalens.model.vocab_table import VocabTable

FILTER = "LlamaLens sessions (*.llamalens);;All files (*)"
STAT_COLUMNS = {"entropy", "sink", "previous", "self", "self_attn", "induction"}


def track_analysis(window) -> None:
    """Keep the last shown AnalysisResult in ``window.last_analysis`` (saved with sessions)."""
    window.last_analysis = None
    window.session_model = None  # the saved model description while a session is shown

    def remember(result: AnalysisResult) -> None:
        window.last_analysis = result

    window.analysis_shown.connect(remember)


# ---- saving --------------------------------------------------------------------------------
def _model_meta(window) -> dict[str, Any]:
    info = window.info
    if info is None:
        return dict(getattr(window, "session_model", None) or {"name": "unknown"})
    return {
        "name": info.name,
        "path": info.path,
        "format": info.format,
        "device": info.device,
        "quantization": info.quantization,
    }


def _analysis(window, trace) -> Analysis | None:
    """The last analysis if it still fits the trace (an appended token keeps the old one)."""
    result = getattr(window, "last_analysis", None)
    if result is None:
        return None
    stats = {k: np.asarray(v) for k, v in result.stats.items()}
    if any(v.shape != (trace.n_layers, trace.n_heads) for v in stats.values()):
        return None
    analysis = Analysis(stats=stats)
    if result.lens_probs is not None and all(0 <= p < trace.n_tokens for p in result.positions):
        analysis.lens_text = np.asarray(result.lens_text, dtype=str)
        analysis.lens_probs = np.asarray(result.lens_probs)
        analysis.positions = tuple(int(p) for p in result.positions)
    return analysis


def build_session(window) -> Session:
    """The window's trace, analysis, prompt, view, sampling and history as a Session.

    Raises:
        ValueError: there is no trace or no vocabulary to save.
    """
    state, sampling = window.state, window.sampling
    if state.trace is None or state.tokenizer is None:
        raise ValueError("there is nothing to save yet: run a prompt first")
    vocab = (
        state.tokenizer
        if isinstance(state.tokenizer, VocabTable)
        else VocabTable.from_tokenizer(state.tokenizer)
    )
    meta = session_io.new_meta(
        model=_model_meta(window),
        prompt={
            "text": window.prompt.text(),
            "chat": window.prompt.chat.isChecked(),
            "plain": window.prompt.plain.isChecked(),
        },
        view={
            "layer": state.layer,
            "head": state.head,
            "stage": state.stage,
            "token": state.token,
            "key": state.key,
        },
        sampling={
            "temperature": sampling.temperature_slider.value() / TEMP_STEPS,
            "top_p": sampling.top_p_slider.value() / P_STEPS,
            "top_k": sampling.top_k_spin.value(),
            "seed": sampling.seed_spin.value(),
        },
        history=[sampling.history.item(i).text() for i in range(sampling.history.count())],
    )
    return Session(state.trace, vocab, meta, _analysis(window, state.trace))


def save_session(window, path: str | Path) -> None:
    """Write the window's session to ``path``; failures open an error dialog."""
    try:
        session_io.save_session(build_session(window), path)
    except (OSError, ValueError) as exc:
        window.show_error("Could not save the session", f"{path}: {exc}")
        return
    window.statusBar().showMessage(f"Saved session {Path(path).name}", 5000)


# ---- opening -------------------------------------------------------------------------------
def open_session(window, path: str | Path) -> None:
    """Show a saved session without loading a model.

    The file is read and checked completely first: a corrupt or foreign file opens an error
    dialog and leaves the window unchanged.
    """
    try:
        session = session_io.load_session(path)
    except ValueError as exc:
        window.show_error("Could not open the session", str(exc))
        return
    unknown = set(session.analysis.stats) - STAT_COLUMNS if session.analysis else set()
    if unknown:
        window.show_error(
            "Could not open the session",
            f"{path}: unknown head statistics {', '.join(sorted(unknown))}",
        )
        return
    window._trace_id = window._new_id()  # answers to earlier runs are now stale
    window.session_model = session.meta["model"]
    window.tokens.dropped = ()
    window.state.tokenizer = session.vocab  # before the trace: the panels label its tokens
    window.state.set_trace(session.trace, keep_token=False)
    window.adopt_trace(session.trace)
    _restore_prompt(window, session.meta["prompt"])
    _restore_sampling(window, session.meta["sampling"], session.meta["history"])
    _restore_view(window.state, session.meta["view"])
    _restore_analysis(window, session.analysis)
    window.count_label.setText(f"{session.trace.n_tokens} tokens")
    window.time_label.setText("")
    loaded = "no model loaded" if window.info is None else f"model: {window.info.name}"
    window.model_label.setText(f"session: {Path(path).name} ({loaded})")


def _restore_prompt(window, prompt: dict[str, Any]) -> None:
    window.prompt.edit.setPlainText(str(prompt.get("text", "")))
    window.prompt.chat.setChecked(bool(prompt.get("chat", False)))
    window.prompt.plain.setChecked(bool(prompt.get("plain", False)))


def _restore_sampling(window, sampling: dict[str, Any], history: list) -> None:
    panel = window.sampling
    panel.temperature_slider.setValue(round(float(sampling.get("temperature", 1.0)) * TEMP_STEPS))
    panel.top_p_slider.setValue(round(float(sampling.get("top_p", 1.0)) * P_STEPS))
    panel.top_k_spin.setValue(int(sampling.get("top_k", 0)))
    panel.seed_spin.setValue(int(sampling.get("seed", 0)))
    panel.history.clear()
    panel.history.addItems([str(h) for h in history])
    panel.chosen_label.setText("Choose a token with Greedy or Sample, then Append it.")


def _restore_view(state, view: dict[str, Any]) -> None:
    state.set_layer(int(view.get("layer", 0)))
    state.set_head(int(view.get("head", 0)))
    state.set_stage(str(view.get("stage", "probs")))
    state.set_token(int(view.get("token", state.n_tokens - 1)))
    state.set_key(int(view.get("key", 0)))


def _restore_analysis(window, analysis: Analysis | None) -> None:
    if analysis is None:
        window.last_analysis = None
        return
    result = AnalysisResult(
        stats=dict(analysis.stats),
        lens_text=[] if analysis.lens_text is None else analysis.lens_text.tolist(),
        lens_probs=analysis.lens_probs,
        positions=analysis.positions,
    )
    if result.stats:
        window.stats.set_stats(result.stats)
    if result.lens_probs is not None:
        window.lens.set_lens(result.lens_text, result.lens_probs, result.positions)
    window.last_analysis = result


# ---- menu actions --------------------------------------------------------------------------
def choose_save(window) -> None:
    """Ask for a file name and save the session there (``.llamalens`` added if missing)."""
    path, _ = QFileDialog.getSaveFileName(window, "Save session", "", FILTER)
    if path:
        if not Path(path).suffix:
            path += session_io.SUFFIX
        save_session(window, path)


def choose_open(window) -> None:
    """Ask for a session file and open it."""
    path, _ = QFileDialog.getOpenFileName(window, "Open session", "", FILTER)
    if path:
        open_session(window, path)

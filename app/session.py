"""Sessions: the InspectorState to and from a ``.llamalens`` file (File ▸ Save/Open Session).

A session holds exactly the state: the trace and its analysis, the vocabulary, the
prompt, the selection, the sampling settings and history, and the description of the
model the trace came from. An opened session shows the saved trace without loading a
model: the state's vocabulary becomes the saved :class:`~llamalens.model.vocab_table.
VocabTable`, which labels tokens but cannot run anything, so Run / Append / Generate
answer "no model is loaded yet" until a model is opened (or, with a model of the same
shape loaded, continue the saved trace).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtWidgets import QFileDialog

from llamalens.app.state import InspectorState, PromptSettings, RunInfo
from llamalens.app.walkthrough.steps import STEP_IDS
from llamalens.model import session_io
from llamalens.model.sampling import SamplingParams
from llamalens.model.session_io import Session
from llamalens.model.variants import Variant
from llamalens.model.vocab_table import VocabTable

FILTER = QT_TRANSLATE_NOOP("Session", "LlamaLens sessions (*.llamalens);;All files (*)")


def _tr(text: str) -> str:
    return QCoreApplication.translate("Session", text)


# ---- state → session -----------------------------------------------------------------------
def session_from_state(state: InspectorState) -> Session:
    """Everything the state shows, as a Session.

    Raises:
        ValueError: there is no trace or no vocabulary to save.
    """
    if state.trace is None or state.vocab is None:
        raise ValueError("there is nothing to save yet: run a prompt first")
    vocab = (
        state.vocab
        if isinstance(state.vocab, VocabTable)
        else VocabTable.from_tokenizer(state.vocab)
    )
    p, s = state.prompt, state.sampling
    model = {k: v for k, v in state.source.items() if k != "session"} or {"name": "unknown"}
    meta = session_io.new_meta(
        model=model,
        prompt={"text": p.text, "chat": p.chat, "plain": p.plain},
        view={
            "layer": state.layer,
            "head": state.head,
            "stage": state.stage,
            "token": state.token,
            "key": state.key,
            "walk_step": state.walk_step,
        },
        sampling={
            "temperature": s.temperature,
            "top_p": s.top_p,
            "top_k": s.top_k,
            "seed": s.seed or 0,
        },
        history=list(state.history),
        variant=state.variant.to_dict(),
    )
    baseline = state.baseline if state.trace.variant_label else None
    return Session(
        state.trace,
        vocab,
        meta,
        state.current_analysis(),
        detail=state.current_detail(),
        baseline=baseline,
    )


# ---- session → state -----------------------------------------------------------------------
def restore_state(state: InspectorState, session: Session, name: str) -> None:
    """Show a (completely checked) session: every part of the state comes from it.

    :func:`~llamalens.model.session_io.load_session` has checked every value's type and
    range (the view against the trace, sampling within the controls' ranges), so nothing
    here can fail half-way.
    """
    meta = session.meta
    state.set_model(state.model, session.vocab, {**meta["model"], "session": name})
    prompt = meta["prompt"]
    state.set_prompt(PromptSettings(prompt["text"], prompt["chat"], prompt["plain"]))
    state.set_sampling(SamplingParams(**meta["sampling"]))
    state.set_history(meta["history"])
    state.set_variant(Variant.from_dict(meta.get("variant")))
    state.set_trace(session.trace, RunInfo("session"), keep_token=False)
    state.set_baseline(session.baseline)
    view = meta["view"]
    state.set_layer(view["layer"])
    state.set_head(view["head"])
    state.set_stage(view["stage"])
    state.set_token(view["token"])
    state.set_key(view["key"])
    state.set_analysis(session.analysis)
    state.set_detail(session.detail)
    step = view.get("walk_step")
    state.set_walk_step(step if step in STEP_IDS else STEP_IDS[0])


# ---- the window's actions ------------------------------------------------------------------
def save_session(window, path: str | Path) -> None:
    """Write the window's state to ``path``; failures open an error dialog."""
    try:
        session_io.save_session(session_from_state(window.state), path)
    except (OSError, ValueError) as exc:
        window.show_error(
            _tr(QT_TRANSLATE_NOOP("Session", "Could not save the session")), f"{path}: {exc}"
        )
        return
    saved = _tr(QT_TRANSLATE_NOOP("Session", "Saved session {name}"))
    window.statusBar().showMessage(saved.format(name=Path(path).name), 5000)


def open_session(window, path: str | Path) -> None:
    """Show a saved session without loading a model.

    The file is read and checked completely first (:func:`~llamalens.model.session_io.
    load_session`): a corrupt or foreign file opens an error dialog and changes nothing.
    """
    try:
        session = session_io.load_session(path)
    except ValueError as exc:  # SessionError: names the file and the problem
        window.show_error(_tr(QT_TRANSLATE_NOOP("Session", "Could not open the session")), str(exc))
        return
    except Exception as exc:  # a bug: reported (traceback in the log), nothing changed
        window.show_bug(exc, _tr(QT_TRANSLATE_NOOP("Session", "Could not open the session")))
        return
    window.adopt_trace(session.trace)  # answers to earlier runs are stale from here on
    restore_state(window.state, session, Path(path).name)


def choose_save(window) -> None:
    """Ask for a file name and save the session there (``.llamalens`` added if missing)."""
    caption = _tr(QT_TRANSLATE_NOOP("Session", "Save session"))
    path, _ = QFileDialog.getSaveFileName(window, caption, "", _tr(FILTER))
    if path:
        if not Path(path).suffix:
            path += session_io.SUFFIX
        save_session(window, path)


def choose_open(window) -> None:
    """Ask for a session file and open it."""
    caption = _tr(QT_TRANSLATE_NOOP("Session", "Open session"))
    path, _ = QFileDialog.getOpenFileName(window, caption, "", _tr(FILTER))
    if path:
        open_session(window, path)

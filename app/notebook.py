"""LlamaLens from Python (scripts and Jupyter): the app's engine, figures and sessions.

The engine is the one the app and the command line use
(:class:`~llamalens.model.engine.Engine`); this module adds what a notebook needs on
top: loading with the app's options, figures drawn by the app's own figure code that
show inline (``_repr_png_`` / ``_repr_svg_``) and save as PNG, SVG or PDF, sessions the
app opens, and opening a trace in the desktop app::

    import llamalens as ll

    engine = ll.load(device="cpu")  # the default model
    trace = engine.trace(engine.encode("The capital of France is").ids)
    ll.figure(trace, "map", layer=3, head=2, engine=engine)  # inline in Jupyter
    ll.save_session("lesson.llamalens", trace, engine, prompt="The capital of France is")
    ll.open_in_app(trace, engine, prompt="The capital of France is")

Every figure is drawn offscreen (no window opens).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llamalens.app.figures import STAGE_ALIASES, FigureSpec, build_figure, figure_title
from llamalens.app.offscreen import offscreen_app
from llamalens.model import session_io
from llamalens.model.engine import Engine
from llamalens.model.vocab_table import VocabTable


def load(
    path: str | Path | None = None,
    *,
    device: str | None = None,
    dtype: str | None = None,
    progress: Callable[[float, str], None] | None = None,
    **engine_options: Any,
) -> Engine:
    """Load a checkpoint as the app does (the default model when ``path`` is None).

    Args:
        path: a ``.gguf`` file, a Meta or a Hugging Face directory.
        device: ``auto`` (None), ``cpu``, ``cuda``, ``mps``.
        dtype: ``auto`` (None), ``fp32``, ``bf16``, ``fp16``.
        progress: called with (fraction, message) while loading.
        **engine_options: passed unchanged to :meth:`Engine.load`: ``max_memory``
            (e.g. ``"cuda:0=20GiB,cpu=30GiB"``) and ``offload_dir`` spread a big model
            over devices and disk, as the app's ``--max-memory`` and ``--offload-dir``.
    """
    device = None if device == "auto" else device
    return Engine.load(path, device=device, dtype=dtype, progress=progress, **engine_options)


class Figure:
    """A figure as the app exports it; shows itself inline in Jupyter.

    Attributes:
        title: the title line drawn above the figure.
        theme: ``light`` or ``dark``.
    """

    def __init__(
        self,
        build: Callable[[], Any],
        title: str,
        theme: str = "light",
        title_points: float | None = None,
    ) -> None:
        self._build = build
        self._widget = None
        self.title = title
        self.theme = theme
        self.title_points = title_points

    @property
    def widget(self):
        """The drawn widget (built on first use, on an offscreen Qt application)."""
        if self._widget is None:
            offscreen_app()
            self._widget = self._build()
        return self._widget

    def _style(self) -> dict[str, Any]:
        """The export's title and colours, as ``llamalens export`` draws them."""
        from llamalens.app.appearance import THEMES

        background, foreground = THEMES[self.theme]
        return {
            "title": self.title,
            "background": background,
            "foreground": foreground,
            "title_points": self.title_points,
        }

    def save(self, path: str | Path, *, width: int | None = None, dpi: int | None = None) -> Path:
        """Write ``.png``, ``.svg`` or ``.pdf`` (the app's export; text stays text in vectors)."""
        from llamalens.viz.export import export_figure

        return export_figure(self.widget, path, width=width, dpi=dpi, **self._style())

    def png(self, width: int | None = None, dpi: int | None = None) -> bytes:
        """The figure as PNG bytes."""
        from PySide6.QtCore import QBuffer, QIODevice

        from llamalens.viz.export import render_image

        image = render_image(self.widget, width=width, dpi=dpi, **self._style())
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        return bytes(buffer.data())

    def svg(self) -> str:
        """The figure as SVG text."""
        with tempfile.TemporaryDirectory() as folder:
            return self.save(Path(folder) / "figure.svg").read_text(encoding="utf-8")

    def _repr_png_(self) -> bytes:
        return self.png()

    def _repr_svg_(self) -> str:
        return self.svg()

    def __repr__(self) -> str:
        return f"<llamalens Figure: {self.title}>"


def _vocab_and_name(engine_or_vocab) -> tuple[Any, str]:
    if isinstance(engine_or_vocab, Engine):
        return engine_or_vocab.tokenizer, engine_or_vocab.name
    return engine_or_vocab, "LlamaLens"


def figure(
    trace,
    what: str = "map",
    *,
    engine: Engine | None = None,
    vocab=None,
    prompt: str = "",
    stage: str = "probs",
    **options: Any,
) -> Figure:
    """One of the app's trace figures: ``map``, ``grid``, ``sheet``, ``rope`` or ``logits``.

    Args:
        trace: a Trace from :meth:`Engine.trace` (its variant is named in the title).
        what: the figure, as ``llamalens export --what``.
        engine: labels tokens and names the model (or pass ``vocab``).
        prompt: for the title.
        stage: scores (or raw), masked, probs (or softmax).
        **options: the other :class:`~llamalens.app.figures.FigureSpec` fields: layer,
            head, query, key, theme, colormap, scale, gamma.
    """
    tokens, name = _vocab_and_name(engine if engine is not None else vocab)
    spec = FigureSpec(
        what=what,
        stage=STAGE_ALIASES.get(stage, stage),
        model_name=name,
        prompt=prompt,
        variant=trace.variant_label,
        **options,
    )
    return Figure(
        lambda: build_figure(spec, trace, tokens),
        spec.figure_title(),
        spec.theme,
        spec.title_points(),
    )


def _whatif(builder: str, title: str, theme: str, *args, **kwargs) -> Figure:
    def build():
        from llamalens.app import whatif_figures

        return getattr(whatif_figures, builder)(*args, theme=theme, **kwargs)

    return Figure(build, title, theme)


def next_token_figure(
    logits_a, logits_b, engine: Engine, *, names=("before", "after"), prompt="", theme="light"
) -> Figure:
    """Two next-token distributions as paired bars with Δ log p (A = before, B = after)."""
    title = figure_title(engine.name, "", prompt, [f"next token: {names[0]} vs {names[1]}"])
    return _whatif("next_token_figure", title, theme, logits_a, logits_b, engine.tokenizer, names)


def ranking_figure(ranking, engine: Engine, *, prompt: str = "", theme: str = "light") -> Figure:
    """The layers × heads map of :meth:`Engine.rank_heads`."""
    label = ranking.variant.get("label", "")
    details = [f"heads ranked ({ranking.mode} ablation)"]
    title = figure_title(engine.name, label, prompt, details)
    return _whatif("ranking_figure", title, theme, ranking, engine.tokenizer)


def decay_figure(curve, *, model_name: str = "LlamaLens", theme: str = "light") -> Figure:
    """The expected score against distance of :func:`~llamalens.model.rope_decay.trace_decay`."""
    title = f"{model_name} · RoPE long-range decay · {curve.label}"
    return _whatif("decay_figure", title, theme, curve)


def angles_figure(
    theta_before, theta_after, position: int, *, model_name="LlamaLens", theme="light"
) -> Figure:
    """Each pair's angle m·θ_i at ``position`` for two RoPEs (the model's and a variant's)."""
    title = f"{model_name} · RoPE angles per pair at position {position}"
    return _whatif("angles_figure", title, theme, theta_before, theta_after, position)


def compare_figure(
    a,
    b,
    *,
    stage: str = "probs",
    head_a: tuple[int, int] = (0, 0),
    head_b: tuple[int, int] | None = None,
    names: tuple[str, str] = ("A", "B"),
    model_name: str = "LlamaLens",
    theme: str = "light",
) -> Figure:
    """A's and B's maps and B − A on a diverging colormap centred at zero."""
    stage = STAGE_ALIASES.get(stage, stage)
    head_b = head_b or head_a
    title = f"{model_name} · compare {names[0]} (A) and {names[1]} (B) · {stage}"
    return _whatif("compare_figure", title, theme, a, b, stage, head_a, head_b, names)


def save_session(
    path: str | Path,
    trace,
    engine: Engine,
    *,
    prompt: str = "",
    chat: bool = False,
    plain: bool = False,
    analysis=None,
    baseline=None,
    view: dict | None = None,
) -> Path:
    """Write a ``.llamalens`` session the app opens (File ▸ Open Session, ``--session``).

    Args:
        path: the file to write.
        trace: what to show.
        engine: names the model and gives the vocabulary; its current variant is the
            one the app will run next.
        prompt, chat, plain: the prompt as typed.
        analysis: ``engine.analyse(trace)`` to include head statistics and the lens.
        baseline: for a variant's trace, ``engine.baseline(ids)`` (before / after bars).
        view: layer, head, stage, token, key to show (default the last token of L0 H0).
    """
    info = engine.info()
    model = {k: getattr(info, k) for k in ("name", "path", "format", "device", "quantization")}
    meta = session_io.new_meta(
        model=model,
        prompt={"text": prompt, "chat": chat, "plain": plain},
        view={"layer": 0, "head": 0, "stage": "probs", "token": trace.n_tokens - 1, "key": 0}
        | (view or {}),
        sampling={"temperature": 1.0, "top_p": 1.0, "top_k": 0, "seed": 0},
        history=[],
        variant=engine.variant.to_dict(),
    )
    vocab = VocabTable.from_tokenizer(engine.tokenizer)
    session = session_io.Session(trace, vocab, meta, analysis, baseline=baseline)
    session_io.save_session(session, path)
    return Path(path)


def open_in_app(trace_or_session, engine: Engine | None = None, **session_options):
    """Open a trace (or a saved ``.llamalens`` file) in the desktop app.

    The trace is saved to a temporary session first (``engine`` and ``session_options``
    as :func:`save_session`); the app starts in its own process on the same checkpoint,
    so appending and generating continue there.

    Returns:
        The app's ``subprocess.Popen``.
    """
    if isinstance(trace_or_session, str | Path):
        session = Path(trace_or_session)
    else:
        if engine is None:
            raise ValueError("open_in_app needs the engine that made the trace")
        folder = Path(tempfile.mkdtemp(prefix="llamalens-"))
        session = save_session(
            folder / "trace.llamalens", trace_or_session, engine, **session_options
        )
    command = [sys.executable, "-m", "llamalens"]
    if engine is not None:
        command.append(str(engine.checkpoint.path))
    command += ["--session", str(session)]
    return subprocess.Popen(command)

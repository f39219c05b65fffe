"""InspectorState: everything a panel reads, in one observable object.

Panels read only this state and change it only through its setters; each kind of
change has its own signal. Sessions save and restore exactly this state
(:mod:`llamalens.app.session`). The worker's answers land here too: the window's job
is to route requests and answers, not to hold data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from llamalens.app.i18n import check_language
from llamalens.app.walkthrough.steps import STEP_IDS, check_step
from llamalens.model.analysis import Analysis
from llamalens.model.attention import STAGES, check_stage
from llamalens.model.model_info import ModelInfo
from llamalens.model.sampling import SamplingParams
from llamalens.model.variants import Baseline, Variant, variant_title
from llamalens.viz.colormaps import COLORMAP_NAMES, SCALES

if TYPE_CHECKING:
    from llamalens.model.head_ranking import HeadRanking


@dataclass(frozen=True)
class PromptSettings:
    """The prompt as typed: its text, whether the chat template wraps it, whether
    special-token text stays plain text."""

    text: str = ""
    chat: bool = False
    plain: bool = False


@dataclass(frozen=True)
class DisplaySettings:
    """How maps are coloured: colormap, colour scale (γ for "gamma"), a fixed 0–1 range
    for probabilities, and the first key column drawn as masked (the attention sink)."""

    colormap: str = "viridis"
    scale: str = "linear"
    gamma: float = 0.5
    fixed_range: bool = False
    hide_first: bool = False

    def __post_init__(self) -> None:
        if self.colormap not in COLORMAP_NAMES:
            raise ValueError(f"colormap is {self.colormap!r}, expected one of {COLORMAP_NAMES}")
        if self.scale not in SCALES:
            raise ValueError(f"colour scale is {self.scale!r}, expected one of {SCALES}")
        if not 0 < self.gamma <= 10:
            raise ValueError(f"gamma is {self.gamma}, expected a number in (0, 10]")


@dataclass(frozen=True, eq=False)
class Comparison:
    """Two runs side by side (the Compare panel): ``a`` and ``b`` are traces.

    ``mode`` is ``prompts`` (two prompts), ``variant`` (the model and a variant on one
    prompt) or ``heads`` (two heads of one trace: A is the selected head, B is
    ``head_b``); ``names`` label the sides.
    """

    a: Any
    b: Any
    mode: str = "prompts"
    names: tuple[str, str] = ("A", "B")
    head_b: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class RunInfo:
    """How the current trace came to be: ``run``, ``append``, ``generate`` or ``session``,
    the ids it added, the bytes the vocabulary dropped from the prompt, and the time."""

    kind: str = "run"
    new_ids: tuple[int, ...] = ()
    dropped: tuple[tuple[int, int], ...] = ()
    seconds: float = 0.0


class InspectorState(QObject):
    """The model, the run, its analysis, the settings and the selection.

    Signals:
        model_changed(): ``model`` / ``vocab`` / ``source`` changed (a load or a session).
        prompt_changed(): the prompt text or its chat/plain flags.
        trace_changed(): a new trace (run, appended token, opened session) and its ``run``.
        analysis_changed(): head statistics and logit lens of the trace.
        sampling_changed(): temperature, top-p, top-k or seed.
        history_changed(): the list of appended and generated tokens.
        display_changed(): colormap, colour scale, fixed range, hidden first column.
        layer_changed(int), head_changed(int), stage_changed(str)
        token_changed(int): the selected query position.
        key_changed(int): the selected key position.
        variant_changed(): the what-if variant the next runs use (``variant``).
        baseline_changed(): the unchanged model's next-token logits and RoPE for the
            shown variant's prompt (``baseline``; None when the trace is the model's).
        ranking_changed(): the heads ranked by their effect on the next token.
        comparison_changed(): the two runs of the Compare panel.
        walkthrough_changed(bool): the walkthrough mode turned on or off.
        walk_step_changed(str): the walkthrough's current step.
        detail_changed(): new per-position values for the walkthrough (``detail``).
        language_changed(str): the interface language (``en``, ``zh_CN``).
    """

    model_changed = Signal()
    prompt_changed = Signal()
    trace_changed = Signal()
    analysis_changed = Signal()
    sampling_changed = Signal()
    history_changed = Signal()
    display_changed = Signal()
    layer_changed = Signal(int)
    head_changed = Signal(int)
    stage_changed = Signal(str)
    token_changed = Signal(int)
    key_changed = Signal(int)
    variant_changed = Signal()
    baseline_changed = Signal()
    ranking_changed = Signal()
    comparison_changed = Signal()
    walkthrough_changed = Signal(bool)
    walk_step_changed = Signal(str)
    detail_changed = Signal()
    language_changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model: ModelInfo | None = None  # the loaded model, None without one
        self.vocab: Any = None  # Tokenizer of the model, or a session's VocabTable
        self.source: dict[str, Any] = {}  # the shown trace's model, as a session saves it
        self.prompt = PromptSettings()
        self.trace = None  # llamalens.model.trace.Trace, or None before the first run
        self.run = RunInfo()
        self.analysis: Analysis | None = None
        self.sampling = SamplingParams(temperature=1.0, top_p=1.0, top_k=0, seed=0)
        self.history: tuple[str, ...] = ()
        self.display = DisplaySettings()
        self.layer = 0
        self.head = 0
        self.stage = "probs"
        self.token = 0
        self.key = 0
        self.variant = Variant()  # what the next runs use
        self.baseline: Baseline | None = None
        self.ranking: HeadRanking | None = None
        self.comparison: Comparison | None = None
        self.walkthrough = False
        self.walk_step = STEP_IDS[0]
        self.detail = None  # llamalens.model.position_capture.PositionDetail, or None
        self.language = "en"

    # ---- limits ---------------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        return self.trace.n_layers if self.trace is not None else 1

    @property
    def layers(self) -> tuple[int, ...]:
        """The model layers the trace captured (all of them unless a run chose fewer)."""
        return self.trace.layers if self.trace is not None else (0,)

    @property
    def n_heads(self) -> int:
        return self.trace.n_heads if self.trace is not None else 1

    @property
    def n_tokens(self) -> int:
        return self.trace.n_tokens if self.trace is not None else 1

    @property
    def model_name(self) -> str:
        """The name of what the trace came from (the loaded model or a session's)."""
        return str(self.source.get("name") or "LlamaLens")

    @property
    def shown_variant(self) -> str:
        """The label of the variant that made the shown trace ("" for the model)."""
        return "" if self.trace is None else self.trace.variant_label

    def shown_title(self) -> str:
        """The model's name, with the shown trace's variant: ``SmolLM2 [variant: …]``."""
        return variant_title(self.model_name, self.shown_variant)

    # ---- model, prompt, run, analysis -----------------------------------------------------
    def set_model(self, info: ModelInfo | None, vocab: Any, source: dict[str, Any]) -> None:
        """A loaded model (``info``) or a session's saved one (``info`` None)."""
        self.model, self.vocab, self.source = info, vocab, dict(source)
        self.model_changed.emit()

    def set_prompt(self, prompt: PromptSettings) -> None:
        if prompt != self.prompt:
            self.prompt = prompt
            self.prompt_changed.emit()

    def set_trace(self, trace, run: RunInfo | None = None, keep_token: bool = False) -> None:
        """Show a new trace; the query row moves to the last token unless keep_token.

        A fresh run drops the analysis of the previous prompt (its own follows); an
        appended token keeps it until a new one arrives.
        """
        self.trace = trace
        self.run = run or RunInfo()
        self.layer = self._captured(self.layer)
        self.head = min(self.head, self.n_heads - 1)
        self.token = min(self.token, self.n_tokens - 1) if keep_token else self.n_tokens - 1
        self.key = min(self.key, self.token)
        self.trace_changed.emit()
        if self.run.kind == "run" and self.analysis is not None:
            self.set_analysis(None)
        ranked = None if self.ranking is None else self.ranking.token_ids
        if ranked is not None and (trace is None or ranked != tuple(trace.token_ids.tolist())):
            self.set_ranking(None)  # it ranked another prompt's heads

    def set_analysis(self, analysis: Analysis | None) -> None:
        self.analysis = analysis
        self.analysis_changed.emit()

    def current_analysis(self) -> Analysis | None:
        """The analysis if it fits the current trace (else None: it belongs to another)."""
        a, t = self.analysis, self.trace
        if a is None or t is None or not a.fits(t.n_layers, t.n_heads, t.n_tokens):
            return None
        return a

    # ---- what if --------------------------------------------------------------------------
    def set_variant(self, variant: Variant) -> None:
        """The variant the next runs use (the shown trace keeps its own until a run)."""
        if variant != self.variant:
            self.variant = variant
            self.variant_changed.emit()

    def set_baseline(self, baseline: Baseline | None) -> None:
        self.baseline = baseline
        self.baseline_changed.emit()

    def set_ranking(self, ranking: HeadRanking | None) -> None:
        self.ranking = ranking
        self.ranking_changed.emit()

    def set_comparison(self, comparison: Comparison | None) -> None:
        self.comparison = comparison
        self.comparison_changed.emit()

    # ---- settings -------------------------------------------------------------------------
    def set_sampling(self, params: SamplingParams) -> None:
        if params != self.sampling:
            self.sampling = params
            self.sampling_changed.emit()

    def set_history(self, history: tuple[str, ...] | list[str]) -> None:
        self.history = tuple(str(h) for h in history)
        self.history_changed.emit()

    def add_history(self, line: str) -> None:
        self.set_history((*self.history, line))

    def set_display(self, **changes: Any) -> None:
        """Change some display settings (validated), e.g. ``set_display(colormap="magma")``."""
        display = replace(self.display, **changes)
        if display != self.display:
            self.display = display
            self.display_changed.emit()

    # ---- selection ------------------------------------------------------------------------
    def _captured(self, layer: int) -> int:
        """The captured layer nearest to ``layer`` (the first of two equally near)."""
        return min(self.layers, key=lambda captured: (abs(captured - int(layer)), captured))

    def set_layer(self, layer: int) -> None:
        layer = self._captured(layer)
        if layer != self.layer:
            self.layer = layer
            self.layer_changed.emit(layer)

    def set_head(self, head: int) -> None:
        head = max(0, min(int(head), self.n_heads - 1))
        if head != self.head:
            self.head = head
            self.head_changed.emit(head)

    def set_stage(self, stage: str) -> None:
        check_stage(stage)
        if stage != self.stage:
            self.stage = stage
            self.stage_changed.emit(stage)

    def set_token(self, token: int) -> None:
        token = max(0, min(int(token), self.n_tokens - 1))
        if token != self.token:
            self.token = token
            self.token_changed.emit(token)
        if self.key > token:
            self.set_key(token)

    def set_key(self, key: int) -> None:
        key = max(0, min(int(key), self.token))
        if key != self.key:
            self.key = key
            self.key_changed.emit(key)

    # ---- walkthrough and language ---------------------------------------------------------
    def set_walkthrough(self, on: bool) -> None:
        if bool(on) != self.walkthrough:
            self.walkthrough = bool(on)
            self.walkthrough_changed.emit(self.walkthrough)

    def set_walk_step(self, step_id: str) -> None:
        """Go to a walkthrough step (one of ``walkthrough.steps.STEP_IDS``)."""
        check_step(step_id)
        if step_id != self.walk_step:
            self.walk_step = step_id
            self.walk_step_changed.emit(step_id)

    def set_detail(self, detail) -> None:
        """Per-position values of a run (``Engine.walk``), or None."""
        self.detail = detail
        self.detail_changed.emit()

    def current_detail(self):
        """The detail if it belongs to the current trace and holds the selected token."""
        d, t = self.detail, self.trace
        if d is None or t is None or not d.fits(t.token_ids, self.token):
            return None
        return d

    def set_language(self, locale: str) -> None:
        """The interface language; the translators follow ``language_changed``."""
        check_language(locale)
        if locale != self.language:
            self.language = locale
            self.language_changed.emit(locale)

    # ---- stepping -------------------------------------------------------------------------
    def step_head(self, delta: int) -> None:
        self.set_head(self.head + delta)

    def step_layer(self, delta: int) -> None:
        """The next (delta > 0) or previous captured layer, stopping at the ends."""
        i = self.layers.index(self.layer) + delta
        self.set_layer(self.layers[max(0, min(i, len(self.layers) - 1))])

    def advance(self, delta: int) -> None:
        """Step ``delta`` heads through all layers, as slides: after the last head of a
        layer comes head 0 of the next (what a presenter remote's PageDown does)."""
        index = self.layers.index(self.layer) * self.n_heads + self.head + delta
        index = max(0, min(index, len(self.layers) * self.n_heads - 1))
        slot, head = divmod(index, self.n_heads)
        self.set_layer(self.layers[slot])
        self.set_head(head)

    def next_stage(self, delta: int = 1) -> None:
        self.set_stage(STAGES[(STAGES.index(self.stage) + delta) % len(STAGES)])

    def current_map(self):
        """(T, T) map of the selected layer, head and stage, or None without a trace."""
        if self.trace is None:
            return None
        return self.trace.attention_map(self.layer, self.head, self.stage)

    def current_mask(self):
        """(T, T) bool cells of the current map the causal mask hid, or None."""
        if self.trace is None:
            return None
        return self.trace.map_mask(self.stage)

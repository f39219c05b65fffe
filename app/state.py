"""InspectorState: the one selection every panel observes (layer, head, stage, tokens)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from llamalens.model.trace import STAGES

STAGE_NAMES = {"scores": "raw QKᵀ/√d", "masked": "masked", "probs": "softmax"}


class InspectorState(QObject):
    """Selection and current trace; setters clamp to the trace's shape and emit on change.

    Signals:
        trace_changed(): a new trace (run, appended token, opened session).
        layer_changed(int), head_changed(int), stage_changed(str)
        token_changed(int): the selected query position.
        key_changed(int): the selected key position (for RoPE contributions).
    """

    trace_changed = Signal()
    layer_changed = Signal(int)
    head_changed = Signal(int)
    stage_changed = Signal(str)
    token_changed = Signal(int)
    key_changed = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.trace = None  # model.trace.Trace (numpy views), or None before the first run
        self.tokenizer = None  # model.tokenizer.Tokenizer of the loaded model (pure Python)
        self.layer = 0
        self.head = 0
        self.stage = "probs"
        self.token = 0
        self.key = 0

    # ---- limits ---------------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        return self.trace.n_layers if self.trace is not None else 1

    @property
    def n_heads(self) -> int:
        return self.trace.n_heads if self.trace is not None else 1

    @property
    def n_tokens(self) -> int:
        return self.trace.n_tokens if self.trace is not None else 1

    # ---- setters --------------------------------------------------------------------------
    def set_trace(self, trace, keep_token: bool = False) -> None:
        """Show a new trace; the query row moves to the last token unless keep_token."""
        self.trace = trace
        self.layer = min(self.layer, self.n_layers - 1)
        self.head = min(self.head, self.n_heads - 1)
        self.token = min(self.token, self.n_tokens - 1) if keep_token else self.n_tokens - 1
        self.key = min(self.key, self.token)
        self.trace_changed.emit()

    def set_layer(self, layer: int) -> None:
        layer = max(0, min(int(layer), self.n_layers - 1))
        if layer != self.layer:
            self.layer = layer
            self.layer_changed.emit(layer)

    def set_head(self, head: int) -> None:
        head = max(0, min(int(head), self.n_heads - 1))
        if head != self.head:
            self.head = head
            self.head_changed.emit(head)

    def set_stage(self, stage: str) -> None:
        if stage not in STAGES:
            raise ValueError(f"stage is {stage!r}, expected one of {STAGES}")
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

    # ---- stepping -------------------------------------------------------------------------
    def step_head(self, delta: int) -> None:
        self.set_head(self.head + delta)

    def step_layer(self, delta: int) -> None:
        self.set_layer(self.layer + delta)

    def next_stage(self, delta: int = 1) -> None:
        self.set_stage(STAGES[(STAGES.index(self.stage) + delta) % len(STAGES)])

    def current_map(self):
        """(T, T) map of the selected layer, head and stage, or None without a trace."""
        if self.trace is None:
            return None
        return self.trace.attention_map(self.layer, self.head, self.stage)

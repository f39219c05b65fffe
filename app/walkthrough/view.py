"""WalkthroughView: one step of the forward pass on a projector-sized page.

Left, the model diagram with the current block highlighted; right, the step's title, its
formula, its tensors (real numbers, hover for values), its line of code in the seed
notebook's naming, two or three sentences, and the controls (previous / next, the layer,
head and token walked, export). The view draws what it is given; the mode
(:mod:`llamalens.app.walkthrough.mode`) decides which step and which numbers.
"""

from __future__ import annotations

import html
from dataclasses import replace

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from llamalens.app.walkthrough import texts as T
from llamalens.app.walkthrough.code import step_code
from llamalens.app.walkthrough.facts import step_facts
from llamalens.app.walkthrough.steps import BLOCKS, BY_ID, STEP_IDS, first_step_of
from llamalens.app.walkthrough.tensor_views import TensorViews
from llamalens.app.walkthrough.tensors import WalkContext, step_tensors
from llamalens.app.walkthrough.texts import tr
from llamalens.viz.model_diagram import Block, ModelDiagram

STATUSES = ("ready", "waiting", "needs_model", "no_trace")
# relative to the UI font (presentation mode doubles it): readable at 1024×768 and above
SIZES = {
    "title": 1.15,
    "formula": 0.95,
    "explanation": 0.8,
    "code": 0.65,
    "counter": 0.7,
    "button": 0.8,
}
DIAGRAM_SIZE = 0.7
CAPTION_SIZE = 0.75


class WalkthroughView(QWidget):
    """The walkthrough page.

    Signals:
        step_requested(str): a step chosen on the diagram or with a button.
        delta_requested(int): previous (-1) or next (+1).
        walk_layer_requested(int): walk this layer from its first step.
        open_rope_requested(): show the RoPE panel.
        export_requested(): export the step as a figure.
        layer_chosen(int), head_chosen(int), position_chosen(int): the spin boxes.
    """

    step_requested = Signal(str)
    delta_requested = Signal(int)
    walk_layer_requested = Signal(int)
    open_rope_requested = Signal()
    export_requested = Signal()
    layer_chosen = Signal(int)
    head_chosen = Signal(int)
    position_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("walkthroughView")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.step_id = STEP_IDS[0]
        self.ctx: WalkContext | None = None
        self.status = "no_trace"
        self._build()
        self.retranslate()

    # ---- construction ----------------------------------------------------------------------
    def _label(self, name: str, wrap: bool = True) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setWordWrap(wrap)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _build(self) -> None:
        self.diagram = ModelDiagram()
        self.diagram.block_clicked.connect(lambda b: self.step_requested.emit(first_step_of(b)))
        self.title = self._label("walkthroughTitle")
        self.counter = self._label("walkthroughCounter", wrap=False)
        self.formula = self._label("walkthroughFormula")
        self.code = self._label("walkthroughCode")
        self.code.setTextFormat(Qt.TextFormat.RichText)
        self.explanation = self._label("walkthroughExplanation")
        self.status_label = self._label("walkthroughStatus")
        self.tensors = TensorViews()
        self.tensors.token_chosen.connect(self.position_chosen)
        self.tensors.layer_chosen.connect(self.layer_chosen)
        self.figure = QWidget()
        self.figure.setObjectName("stepFigure")
        self.figure.setAutoFillBackground(True)
        body = QVBoxLayout(self.figure)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.formula)
        body.addWidget(self.tensors, 1)
        body.addWidget(self.code)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.counter, 0, Qt.AlignmentFlag.AlignTop)
        right = QVBoxLayout()
        right.addLayout(header)
        right.addWidget(self.figure, 1)
        right.addWidget(self.status_label)
        right.addWidget(self.explanation)
        right.addLayout(self._controls())
        left = QVBoxLayout()
        left.addWidget(self.diagram, 1)
        left.addLayout(self._selection())
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(left)
        lay.addLayout(right, 1)
        self._font_timer = QTimer(self)  # owned: stops with the view
        self._font_timer.setSingleShot(True)
        self._font_timer.setInterval(0)
        self._font_timer.timeout.connect(self._apply_fonts)

    def _button(self, name: str, slot) -> QPushButton:
        button = QPushButton()
        button.setObjectName(name)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space steps, it never clicks
        button.clicked.connect(slot)
        return button

    def _spin(self, name: str, signal) -> QSpinBox:
        spin = QSpinBox()
        spin.setObjectName(name)
        spin.valueChanged.connect(signal)
        return spin

    def _controls(self) -> QHBoxLayout:
        self.prev_button = self._button(
            "walkthroughPrevious", lambda: self.delta_requested.emit(-1)
        )
        self.next_button = self._button("walkthroughNext", lambda: self.delta_requested.emit(1))
        self.walk_button = self._button("walkthroughWalkLayer", self._walk_next_layer)
        self.skip_button = self._button(
            "walkthroughSkip", lambda: self.step_requested.emit("final_norm")
        )
        self.rope_button = self._button("walkthroughRope", self.open_rope_requested.emit)
        self.export_button = self._button("walkthroughExport", self.export_requested.emit)
        row = QHBoxLayout()
        for w in (self.prev_button, self.next_button, self.walk_button, self.skip_button):
            row.addWidget(w)
        row.addWidget(self.rope_button)
        row.addStretch(1)
        row.addWidget(self.export_button)
        return row

    def _selection(self) -> QGridLayout:
        """The layer, head and token walked, under the diagram."""
        self.layer_spin = self._spin("walkthroughLayer", self.layer_chosen)
        self.head_spin = self._spin("walkthroughHead", self.head_chosen)
        self.position_spin = self._spin("walkthroughPosition", self.position_chosen)
        self.spin_labels = [QLabel(), QLabel(), QLabel()]
        grid = QGridLayout()
        for row, (label, name, spin) in enumerate(
            zip(
                self.spin_labels,
                ("Layer", "Head", "Position"),
                (self.layer_spin, self.head_spin, self.position_spin),
            )
        ):
            label.setObjectName(f"walkthrough{name}Label")
            grid.addWidget(label, row, 0)
            grid.addWidget(spin, row, 1)
        return grid

    def _walk_next_layer(self) -> None:
        if self.ctx is not None:
            self.walk_layer_requested.emit(self.ctx.next_layer())

    # ---- language --------------------------------------------------------------------------
    def retranslate(self) -> None:
        """The view's own words in the current language, then the step again."""
        for button, text in (
            (self.prev_button, T.PREVIOUS),
            (self.next_button, T.NEXT),
            (self.skip_button, T.SKIP_TO_OUTPUT),
            (self.rope_button, T.OPEN_ROPE),
            (self.export_button, T.EXPORT),
        ):
            button.setText(tr(text))
        for label, text in zip(self.spin_labels, (T.LAYER, T.HEAD, T.POSITION)):
            label.setText(tr(text))
        self.refresh()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        elif event.type() == QEvent.Type.FontChange:
            # the app sets one font on every widget; the page's sizes follow it afterwards
            self._font_timer.start()
        super().changeEvent(event)

    def _apply_fonts(self) -> None:
        base = self.font().pointSizeF()
        small = [*self.spin_labels, self.layer_spin, self.head_spin, self.position_spin]
        buttons = [
            self.prev_button,
            self.next_button,
            self.walk_button,
            self.skip_button,
            self.rope_button,
            self.export_button,
        ]
        for label, key in (
            (self.title, "title"),
            (self.formula, "formula"),
            (self.explanation, "explanation"),
            (self.counter, "counter"),
            *((w, "counter") for w in small),
            *((w, "button") for w in buttons),
        ):
            font = QFont(self.font())
            font.setPointSizeF(base * SIZES[key])
            font.setBold(key == "title")
            label.setFont(font)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSizeF(base * SIZES["code"])
        self.code.setFont(mono)
        diagram = QFont(self.font())
        diagram.setPointSizeF(base * DIAGRAM_SIZE)
        self.diagram.setFont(diagram)
        self.diagram.setFixedWidth(self.diagram.sizeHint().width())  # labels never elided
        self.tensors.set_font_size(base * 0.9)
        self.tensors.set_caption_font(base * CAPTION_SIZE)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self._apply_fonts()

    # ---- content ---------------------------------------------------------------------------
    def show_step(self, step_id: str, ctx: WalkContext | None, status: str) -> None:
        """Draw ``step_id`` from ``ctx`` (None before any run).

        Args:
            step_id: one of :data:`~llamalens.app.walkthrough.steps.STEP_IDS`.
            ctx: the run and the selection, or None.
            status: ``ready``; ``waiting`` (the position's values are being computed);
                ``needs_model`` (no model can compute them); ``no_trace``.
        """
        if status not in STATUSES:
            raise ValueError(f"status is {status!r}, expected one of {STATUSES}")
        self.step_id, self.ctx, self.status = step_id, ctx, status
        self.refresh()

    def refresh(self) -> None:
        """Draw the current step again (after a language change, for instance)."""
        step, ctx = BY_ID[self.step_id], self.ctx
        texts = T.STEP_TEXTS[step.id]
        index = STEP_IDS.index(step.id)
        self.counter.setText(tr(T.STEP_COUNTER, index=index + 1, count=len(STEP_IDS)))
        self._sync_diagram(ctx, tr(texts.note))
        self.prev_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(STEP_IDS) - 1)
        at_jump = step.id == "next_layer"
        self.walk_button.setVisible(at_jump)
        self.skip_button.setVisible(step.block in {b for b, inside in BLOCKS if inside})
        self.rope_button.setVisible(step.id == "rope")
        if ctx is None:
            self._show_texts(texts, {}, [])
            self.status_label.setText(tr(T.NO_TRACE))
            self.tensors.show_tensors([], None)
            return
        self._sync_spins(ctx)
        ready = self.status == "ready" or not step.needs_detail
        facts = step_facts(step.id, ctx if ready else _without_detail(ctx))
        self.walk_button.setText(tr(T.WALK_LAYER, layer=ctx.next_layer()))
        self._show_texts(texts, facts, step_code(step.id, ctx))
        self.tensors.show_tensors(step_tensors(step.id, ctx) if ready else [], ctx)
        if ready:
            self.status_label.setText("")
        elif self.status == "waiting":
            self.status_label.setText(tr(T.WAITING, pos=ctx.position))
        else:
            self.status_label.setText(tr(T.NEEDS_MODEL))
        self.status_label.setVisible(bool(self.status_label.text()))

    def _show_texts(self, texts: T.StepText, facts: dict, code: list[str]) -> None:
        self.title.setText(tr(texts.title, **facts))
        self.formula.setText(tr(texts.formula, **facts))
        self.explanation.setText(tr(texts.explanation, **facts))
        lines = [html.escape(line) for line in code]
        if lines:
            lines[0] = f"<span style='color:#6a737d'>{lines[0]}</span>"
        self.code.setText("<div style='white-space:pre-wrap'>" + "<br>".join(lines) + "</div>")

    def _sync_diagram(self, ctx: WalkContext | None, note: str) -> None:
        blocks = [Block(b, tr(T.BLOCK_LABELS[b]), inside) for b, inside in BLOCKS]
        caption = ""
        if ctx is not None:
            caption = tr(T.LAYER_CAPTION, layer=ctx.layer, n_layers=ctx.n_layers)
        self.diagram.set_blocks(blocks, caption)
        self.diagram.set_current(BY_ID[self.step_id].block, note)

    def _sync_spins(self, ctx: WalkContext) -> None:
        t = ctx.trace
        for spin, value, top in (
            (self.layer_spin, ctx.layer, ctx.n_layers - 1),
            (self.head_spin, ctx.head, t.n_heads - 1),
            (self.position_spin, ctx.position, t.n_tokens - 1),
        ):
            spin.blockSignals(True)
            spin.setRange(0, top)
            spin.setValue(value)
            spin.blockSignals(False)

    # ---- what tests and the export read ------------------------------------------------------
    def visible_texts(self) -> dict[str, str]:
        """Every walkthrough text on the page, by where it is shown."""
        texts = {
            "title": self.title.text(),
            "formula": self.formula.text(),
            "explanation": self.explanation.text(),
            "code": self.code.text(),
            "counter": self.counter.text(),
        }
        for i, caption in enumerate(self.tensors.captions()):
            texts[f"tensor {i}"] = caption
        for i, label in enumerate(self.diagram.labels()):
            texts[f"diagram {i}"] = label
        for w in (self.prev_button, self.next_button, self.export_button, *self.spin_labels):
            texts[w.objectName()] = w.text()
        for w in (self.walk_button, self.skip_button, self.rope_button):
            if w.isVisibleTo(self):
                texts[w.objectName()] = w.text()
        if self.status_label.text():
            texts["status"] = self.status_label.text()
        return texts


def _without_detail(ctx: WalkContext) -> WalkContext:
    """The context with its detail dropped (facts that need it read "…")."""
    return replace(ctx, detail=None)

"""Next-token distribution with live temperature / top-p / top-k, sampling and appending."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from llamalens.app.state import InspectorState
from llamalens.model.sampling import SamplingParams, nucleus, sample, softmax
from llamalens.viz.logit_bars import LogitBars
from llamalens.viz.token_text import visible_text

TEMP_STEPS = 100  # slider units per 1.0 of temperature
P_STEPS = 100


class SamplingPanel(QWidget):
    """Signals: append_requested(int token), generate_requested(int n, float T, float p,
    int k, int seed)."""

    append_requested = Signal(int)
    generate_requested = Signal(int, float, float, int, int)

    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.chosen: int | None = None
        self.bars = LogitBars()
        self._build_controls()
        state.trace_changed.connect(self._on_trace)

    # ---- widgets --------------------------------------------------------------------------
    def _slider(self, name: str, top: int, value: int) -> QSlider:
        s = QSlider(Qt.Orientation.Horizontal)
        s.setObjectName(name)
        s.setRange(0 if name == "temperatureSlider" else 1, top)
        s.setValue(value)
        s.valueChanged.connect(self.redraw)
        return s

    def _spin(self, name: str, lo: int, hi: int, value: int, tip: str) -> QSpinBox:
        s = QSpinBox()
        s.setObjectName(name)
        s.setRange(lo, hi)
        s.setValue(value)
        s.setToolTip(tip)
        return s

    def _build_controls(self) -> None:
        self.temperature_slider = self._slider("temperatureSlider", 2 * TEMP_STEPS, TEMP_STEPS)
        self.top_p_slider = self._slider("topPSlider", P_STEPS, P_STEPS)
        self.top_k_spin = self._spin("topKSpin", 0, 100_000, 0, "0 = no top-k limit")
        self.top_k_spin.valueChanged.connect(self.redraw)
        self.shown_spin = self._spin("shownSpin", 3, 50, 12, "tokens shown")
        self.shown_spin.valueChanged.connect(self.redraw)
        self.seed_spin = self._spin("seedSpin", 0, 2**31 - 1, 0, "seed of the next draw")
        self.n_spin = self._spin("generateSpin", 1, 4096, 10, "tokens to generate")
        self.t_label, self.p_label = QLabel(), QLabel()
        self.chosen_label = QLabel("Choose a token with Greedy or Sample, then Append it.")
        self.chosen_label.setObjectName("chosenLabel")
        self.history = QListWidget()
        self.history.setObjectName("samplingHistory")
        self.history.setMaximumHeight(80)
        self.bars.setMinimumHeight(240)
        grid = QGridLayout()
        grid.addWidget(QLabel("Temperature"), 0, 0)
        grid.addWidget(self.temperature_slider, 0, 1)
        grid.addWidget(self.t_label, 0, 2)
        grid.addWidget(QLabel("Top-p"), 1, 0)
        grid.addWidget(self.top_p_slider, 1, 1)
        grid.addWidget(self.p_label, 1, 2)
        row = QHBoxLayout()
        for label, w in (
            ("Top-k", self.top_k_spin),
            ("Show", self.shown_spin),
            ("Seed", self.seed_spin),
        ):
            row.addWidget(QLabel(label))
            row.addWidget(w)
        buttons = QHBoxLayout()
        for name, text, slot in (
            ("greedyButton", "Greedy", self.choose_greedy),
            ("sampleButton", "Sample", self.choose_sample),
            ("appendButton", "Append", self.append_chosen),
            ("generateButton", "Generate", self._generate),
        ):
            b = QPushButton(text)
            b.setObjectName(name)
            b.clicked.connect(slot)
            setattr(self, name.replace("Button", "_button"), b)
            buttons.addWidget(b)
        buttons.addWidget(self.n_spin)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.bars, 3)
        lay.addLayout(grid)
        lay.addLayout(row)
        lay.addLayout(buttons)
        lay.addWidget(self.chosen_label)
        lay.addWidget(QLabel("History"))
        lay.addWidget(self.history, 1)
        self._update_labels()

    # ---- values ---------------------------------------------------------------------------
    def params(self, seed: int | None = None) -> SamplingParams:
        return SamplingParams(
            temperature=self.temperature_slider.value() / TEMP_STEPS,
            top_p=self.top_p_slider.value() / P_STEPS,
            top_k=self.top_k_spin.value(),
            seed=seed,
        )

    def _update_labels(self) -> None:
        self.t_label.setText(
            f"{self.temperature_slider.value() / TEMP_STEPS:.2f}"
            + (" (greedy)" if self.temperature_slider.value() == 0 else "")
        )
        self.p_label.setText(f"{self.top_p_slider.value() / P_STEPS:.2f}")

    def _on_trace(self) -> None:
        self.chosen = None
        self.redraw()

    def redraw(self, *_args) -> None:
        """Recompute the shown distribution from the trace's last logits."""
        self._update_labels()
        t = self.state.trace
        if t is None:
            return
        logits = t.last_logits
        p = self.params()
        probs = softmax(logits)
        tempered = probs if p.temperature == 0 else softmax(logits, p.temperature)
        kept = (
            np.array([int(np.argmax(logits))])
            if p.temperature == 0
            else nucleus(tempered, p.top_p, p.top_k)
        )
        final = np.zeros_like(tempered)
        final[kept] = tempered[kept] / tempered[kept].sum()
        order = np.argsort(-tempered, kind="stable")[: self.shown_spin.value()]
        kept_mask = np.isin(order, kept)
        shown = np.where(kept_mask, final[order], tempered[order])
        labels = [t_.text for t_ in self._tokens(order)]
        chosen = int(np.flatnonzero(order == self.chosen)[0]) if self.chosen in order else None
        self.bars.set_distribution(labels, probs[order], shown, kept_mask, chosen)
        self.kept_count = len(kept)

    def _tokens(self, ids):
        tok = self.state.tokenizer
        return [tok.token(int(i)) for i in ids]

    # ---- actions --------------------------------------------------------------------------
    def choose_greedy(self) -> None:
        if self.state.trace is None:
            return
        self._choose(int(np.argmax(self.state.trace.last_logits)), "greedy")

    def choose_sample(self) -> None:
        if self.state.trace is None:
            return
        seed = self.seed_spin.value()
        result = sample(self.state.trace.last_logits, self.params(seed))
        how = f"sampled T={self.params().temperature:.2f} seed {seed}"
        self._choose(result.token, how, float(result.final[result.token]))
        self.seed_spin.setValue(seed + 1)  # the next draw differs, and stays reproducible

    def _choose(self, token: int, how: str, prob: float | None = None) -> None:
        self.chosen = token
        text = visible_text(self._tokens([token])[0].text)
        p = "" if prob is None else f", p={prob:.3f}"
        self.chosen_label.setText(f"Chosen: {text!s} (id {token}, {how}{p}). Append adds it.")
        self.last_choice = (token, how)
        self.redraw()

    def append_chosen(self) -> None:
        if self.chosen is None:
            self.chosen_label.setText("Choose a token first (Greedy or Sample).")
            return
        token, how = self.last_choice
        self.history.addItem(
            f"+ {visible_text(self._tokens([token])[0].text)}  (id {token}, {how})"
        )
        self.history.scrollToBottom()
        self.append_requested.emit(token)

    def _generate(self) -> None:
        p = self.params()
        seed = self.seed_spin.value()
        self.generate_requested.emit(self.n_spin.value(), p.temperature, p.top_p, p.top_k, seed)
        self.history.addItem(
            f"generate {self.n_spin.value()} (T={p.temperature:.2f}, "
            f"top-p {p.top_p:.2f}, top-k {p.top_k}, seed {seed})"
        )
        self.seed_spin.setValue(seed + 1)

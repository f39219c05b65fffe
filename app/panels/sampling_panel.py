"""Next-token distribution with live temperature / top-p / top-k, sampling and appending."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal
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
from llamalens.model.sampling import (
    SEED_MAX,
    TEMPERATURE_MAX,
    TOP_K_MAX,
    SamplingParams,
    distribution,
    sample,
)
from llamalens.model.vocab_table import token_label
from llamalens.viz.logit_bars import LogitBars
from llamalens.viz.token_text import visible_text

TEMP_STEPS = 100  # slider units per 1.0 of temperature
P_STEPS = 100


class SamplingPanel(QWidget):
    """The state's sampling settings and history; choose, append and generate tokens.

    Signals:
        append_requested(int): the chosen token id to append.
        generate_requested(int): how many tokens to generate with the state's settings.
    """

    append_requested = Signal(int)
    generate_requested = Signal(int)

    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.chosen: int | None = None
        self.bars = LogitBars()
        self._build_controls()
        state.trace_changed.connect(self._on_trace)
        state.sampling_changed.connect(self._show_settings)
        state.history_changed.connect(self._show_history)
        self._show_settings()

    # ---- widgets --------------------------------------------------------------------------
    def _slider(self, name: str, top: int, value: int) -> QSlider:
        s = QSlider(Qt.Orientation.Horizontal)
        s.setObjectName(name)
        s.setRange(0 if name == "temperatureSlider" else 1, top)
        s.setValue(value)
        s.valueChanged.connect(self._store_settings)
        return s

    def _spin(self, name: str, lo: int, hi: int, value: int, tip: str) -> QSpinBox:
        s = QSpinBox()
        s.setObjectName(name)
        s.setRange(lo, hi)
        s.setValue(value)
        s.setToolTip(tip)
        return s

    def _build_controls(self) -> None:
        self.temperature_slider = self._slider(
            "temperatureSlider", round(TEMPERATURE_MAX * TEMP_STEPS), TEMP_STEPS
        )
        self.top_p_slider = self._slider("topPSlider", P_STEPS, P_STEPS)
        self.top_k_spin = self._spin("topKSpin", 0, TOP_K_MAX, 0, "")
        self.top_k_spin.valueChanged.connect(self._store_settings)
        self.shown_spin = self._spin("shownSpin", 3, 50, 12, "")
        self.shown_spin.valueChanged.connect(self.redraw)
        self.seed_spin = self._spin("seedSpin", 0, SEED_MAX, 0, "")
        self.seed_spin.valueChanged.connect(self._store_settings)
        self.n_spin = self._spin("generateSpin", 1, 4096, 10, "")
        self.t_label, self.p_label = QLabel(), QLabel()
        self.chosen_label = QLabel()
        self.chosen_label.setObjectName("chosenLabel")
        self.history = QListWidget()
        self.history.setObjectName("samplingHistory")
        self.history.setMaximumHeight(80)
        self.bars.setMinimumHeight(240)
        self.labels = [QLabel() for _ in range(6)]
        grid = QGridLayout()
        grid.addWidget(self.labels[0], 0, 0)
        grid.addWidget(self.temperature_slider, 0, 1)
        grid.addWidget(self.t_label, 0, 2)
        grid.addWidget(self.labels[1], 1, 0)
        grid.addWidget(self.top_p_slider, 1, 1)
        grid.addWidget(self.p_label, 1, 2)
        row = QHBoxLayout()
        for label, w in zip(self.labels[2:5], (self.top_k_spin, self.shown_spin, self.seed_spin)):
            row.addWidget(label)
            row.addWidget(w)
        buttons = QHBoxLayout()
        for name, slot in (
            ("greedyButton", self.choose_greedy),
            ("sampleButton", self.choose_sample),
            ("appendButton", self.append_chosen),
            ("generateButton", self._generate),
        ):
            b = QPushButton()
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
        lay.addWidget(self.labels[5])
        lay.addWidget(self.history, 1)
        self.retranslate()

    def retranslate(self) -> None:
        """Every text of the panel in the current language."""
        for label, text in zip(
            self.labels,
            (
                self.tr("Temperature"),
                self.tr("Top-p"),
                self.tr("Top-k"),
                self.tr("Show"),
                self.tr("Seed"),
                self.tr("History"),
            ),
        ):
            label.setText(text)
        for button, text in (
            (self.greedy_button, self.tr("Greedy")),
            (self.sample_button, self.tr("Sample")),
            (self.append_button, self.tr("Append")),
            (self.generate_button, self.tr("Generate")),
        ):
            button.setText(text)
        for spin, tip in (
            (self.top_k_spin, self.tr("0 = no top-k limit")),
            (self.shown_spin, self.tr("tokens shown")),
            (self.seed_spin, self.tr("seed of the next draw")),
            (self.n_spin, self.tr("tokens to generate")),
        ):
            spin.setToolTip(tip)
        if self.chosen is None:
            self.chosen_label.setText(
                self.tr("Choose a token with Greedy or Sample, then Append it.")
            )
        self._update_labels()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # ---- values ---------------------------------------------------------------------------
    def params(self, seed: int | None = None) -> SamplingParams:
        """The state's settings, with another seed when given."""
        p = self.state.sampling
        return p if seed is None else replace(p, seed=seed)

    def _store_settings(self, *_args) -> None:
        """The controls' values into the state."""
        self.state.set_sampling(
            SamplingParams(
                temperature=self.temperature_slider.value() / TEMP_STEPS,
                top_p=self.top_p_slider.value() / P_STEPS,
                top_k=self.top_k_spin.value(),
                seed=self.seed_spin.value(),
            )
        )

    def _show_settings(self) -> None:
        """The state's settings onto the controls, then the bars."""
        p = self.state.sampling
        for widget, value in (
            (self.temperature_slider, round(p.temperature * TEMP_STEPS)),
            (self.top_p_slider, round(p.top_p * P_STEPS)),
            (self.top_k_spin, p.top_k),
            (self.seed_spin, p.seed or 0),
        ):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        self.redraw()

    def _show_history(self) -> None:
        self.history.clear()
        self.history.addItems(list(self.state.history))
        self.history.scrollToBottom()

    def _update_labels(self) -> None:
        self.t_label.setText(
            f"{self.temperature_slider.value() / TEMP_STEPS:.2f}"
            + (self.tr(" (greedy)") if self.temperature_slider.value() == 0 else "")
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
        try:
            d = distribution(t.last_logits, self.state.sampling)
        except ValueError as exc:  # logits with nothing to choose (a broken run or file)
            self.bars.set_distribution([], np.zeros(0), np.zeros(0), np.zeros(0, bool), None)
            self.chosen_label.setText(str(exc))
            self.kept_count = 0
            return
        order = np.argsort(-d.tempered, kind="stable")[: self.shown_spin.value()]
        kept_mask = np.isin(order, d.kept)
        shown = np.where(kept_mask, d.final[order], d.tempered[order])
        labels = self._texts(order)
        chosen = int(np.flatnonzero(order == self.chosen)[0]) if self.chosen in order else None
        self.bars.set_distribution(labels, d.probs[order], shown, kept_mask, chosen)
        self.kept_count = len(d.kept)

    def _texts(self, ids) -> list[str]:
        """Token texts of ids (an id without a token, a padded embedding row, says so)."""
        return [token_label(self.state.vocab, i) for i in ids]

    # ---- actions --------------------------------------------------------------------------
    def choose_greedy(self) -> None:
        if self.state.trace is None:
            return
        try:
            token = sample(self.state.trace.last_logits, SamplingParams(temperature=0.0)).token
        except ValueError as exc:
            self.chosen_label.setText(str(exc))
            return
        self._choose(token, self.tr("greedy"))

    def choose_sample(self) -> None:
        if self.state.trace is None:
            return
        params = self.state.sampling
        try:
            result = sample(self.state.trace.last_logits, params)
        except ValueError as exc:
            self.chosen_label.setText(str(exc))
            return
        how = self.tr("sampled T={t} seed {seed}").format(
            t=f"{params.temperature:.2f}", seed=params.seed
        )
        self._choose(result.token, how, float(result.final[result.token]))
        # the next draw differs, and stays reproducible
        self.state.set_sampling(replace(params, seed=(params.seed or 0) + 1))

    def _choose(self, token: int, how: str, prob: float | None = None) -> None:
        self.chosen = token
        text = visible_text(self._texts([token])[0])
        p = "" if prob is None else f", p={prob:.3f}"
        self.chosen_label.setText(
            self.tr("Chosen: {text} (id {id}, {how}{p}). Append adds it.").format(
                text=text, id=token, how=how, p=p
            )
        )
        self.last_choice = (token, how)
        self.redraw()

    def append_chosen(self) -> None:
        if self.chosen is None:
            self.chosen_label.setText(self.tr("Choose a token first (Greedy or Sample)."))
            return
        token, how = self.last_choice
        self.state.add_history(f"+ {visible_text(self._texts([token])[0])}  (id {token}, {how})")
        self.append_requested.emit(token)

    def _generate(self) -> None:
        p, n = self.state.sampling, self.n_spin.value()
        self.generate_requested.emit(n)
        self.state.add_history(
            f"generate {n} (T={p.temperature:.2f}, top-p {p.top_p:.2f}, top-k {p.top_k}, "
            f"seed {p.seed})"
        )
        self.state.set_sampling(replace(p, seed=(p.seed or 0) + 1))

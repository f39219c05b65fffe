"""RopePlane: one head's query/key pairs in the complex plane, before and after RoPE.

A head vector x of width hd is hd/2 complex pairs z_i = x[2i] + j·x[2i+1]; RoPE turns
pair i at position m by the angle m·θ_i. The raw score between a query at m and a key
at n is Σ_i Re(q̃_i·conj(k̃_i)) / √hd, so the per-pair terms add up to the heatmap value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from llamalens.viz.plot_style import (
    HUES,
    NEGATIVE,
    POSITIVE,
    pair_shades,
    styled_plot,
    text_label,
)

SERIES = ("q_before", "q_after", "k_before", "k_after")
PAIR = QT_TRANSLATE_NOOP("RopePlane", "pair i:")
NO_KEY = QT_TRANSLATE_NOOP("RopePlane", "Σ —  (no key token chosen)")
SUM = QT_TRANSLATE_NOOP("RopePlane", "Σ = {sum} (= score)")
ALL_PAIRS = QT_TRANSLATE_NOOP(
    "RopePlane",
    "all {n} pairs (hd = {hd}); θᵢ runs from {first} to {last} rad per position. "
    "Click a point or bar to pick a pair.",
)
ONE_PAIR = QT_TRANSLATE_NOOP("RopePlane", "pair i = {i}: θᵢ = {theta} rad/position")
QUERY_ANGLE = QT_TRANSLATE_NOOP("RopePlane", "query m = {m}: m·θᵢ = {angle} rad = {turns} turns")
KEY_ANGLE = QT_TRANSLATE_NOOP(
    "RopePlane", "key n = {n}: n·θᵢ = {angle} rad; (m−n)·θᵢ = {delta} rad"
)
CONTRIBUTION = QT_TRANSLATE_NOOP("RopePlane", "contribution {value}")


def _tr(text: str) -> str:
    return QCoreApplication.translate("RopePlane", text)


TWO_PI = 2.0 * np.pi


@dataclass(frozen=True)
class _View:
    q_before: np.ndarray
    q_after: np.ndarray
    theta: np.ndarray
    q_pos: int
    k_before: np.ndarray | None
    k_after: np.ndarray | None
    k_pos: int | None
    contributions: np.ndarray | None


def _complex_vector(name: str, value: np.ndarray, n: int) -> np.ndarray:
    arr = np.asarray(value)
    if not np.iscomplexobj(arr):
        raise ValueError(f"{name} must be complex (one number per pair), got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"{name} has shape {arr.shape}, expected ({n},) = (hd/2,) like theta")
    return arr.astype(np.complex128)


def _validated(q_before, q_after, theta, q_pos, k_before, k_after, k_pos, contributions) -> _View:
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim != 1 or theta.size == 0:
        raise ValueError(f"theta has shape {theta.shape}, expected (hd/2,) with hd/2 >= 1")
    if not np.all(np.isfinite(theta) & (theta > 0)):
        raise ValueError("theta must be finite and positive (radians per position)")
    n = theta.size
    if (k_before is None) != (k_after is None) or (k_after is not None and k_pos is None):
        raise ValueError("k_before, k_after and k_pos must be given together (or all None)")
    k_b = None if k_before is None else _complex_vector("k_before", k_before, n)
    k_a = None if k_after is None else _complex_vector("k_after", k_after, n)
    q_a = _complex_vector("q_after", q_after, n)
    if contributions is not None:
        contributions = np.asarray(contributions, dtype=np.float64)
        if contributions.shape != (n,):
            raise ValueError(f"contributions has shape {contributions.shape}, expected ({n},)")
    elif k_a is not None:  # the same per-pair terms the score is made of
        contributions = (q_a * np.conj(k_a)).real / np.sqrt(2.0 * n)
    return _View(
        _complex_vector("q_before", q_before, n),
        q_a,
        theta,
        int(q_pos),
        k_b,
        k_a,
        None if k_pos is None else int(k_pos),
        contributions,
    )


class RopePlane(QWidget):
    """Query (blue) and key (orange) pairs before (dashed) and after (solid) rotation.

    Left: the complex plane. Right: θ_i and the angles m·θ_i, n·θ_i (log scale), then the
    score split into per-pair contributions. Click a point, a spectrum x or a bar to pick
    a pair; the spin box's "all" shows every pair shaded by frequency.

    Signals:
        pair_selected(int): the pair the user picked, or -1 for all pairs.
    """

    pair_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ropePlane")
        self._view: _View | None = None
        self._pair: int | None = None
        self.plane = styled_plot("Re", "Im", "ropeComplexPlane")
        self.spectrum = styled_plot("pair i", "radians", "ropeSpectrum")
        self.contrib = styled_plot("pair i", "Re(q̃ᵢ·k̃ᵢ*) / √hd", "ropeContributions")
        self._build_plane()
        self._build_spectrum()
        self._build_contributions()
        self._build_layout()

    # ----------------------------------------------------------------- construction
    def _build_plane(self) -> None:
        p = self.plane
        p.setAspectLocked(True)
        p.setTitle("dashed: before RoPE · solid: after", color="#222", size="12pt")
        for angle in (0, 90):
            p.addItem(pg.InfiniteLine(0, angle=angle, pen=pg.mkPen("#bbb", width=1)))
        self._circles = {
            h: p.plot(pen=pg.mkPen(HUES[h][1], width=1.5, style=Qt.PenStyle.DotLine)) for h in "qk"
        }
        self._lines, self._heads, self._arrows = {}, {}, {}
        for name in SERIES:
            hue, before = HUES[name[0]][2], name.endswith("before")
            self._lines[name] = p.plot(connect="pairs")
            self._heads[name] = pg.ScatterPlotItem(
                size=7 if before else 10,
                pen=pg.mkPen(*hue, 160) if before else pg.mkPen("w"),
                brush=None if before else pg.mkBrush(*hue),
            )
            self._heads[name].sigClicked.connect(self._on_head_clicked)
            self._arrows[name] = pg.ArrowItem(
                headLen=18, tipAngle=32, pen=None, brush=pg.mkBrush(*hue, 110 if before else 255)
            )
            p.addItem(self._heads[name])
            p.addItem(self._arrows[name])
        self._arcs = {h: p.plot(pen=pg.mkPen(HUES[h][0], width=2.5)) for h in "qk"}
        self._arc_text = {h: pg.TextItem(color=HUES[h][0], anchor=(0.5, 0.5)) for h in "qk"}
        for item in self._arc_text.values():
            item.setFont(QFont(self.font().family(), 12, QFont.Weight.Bold))
            p.addItem(item)
        cmap = pg.ColorMap([0.0, 1.0], [HUES["q"][0], HUES["q"][1]])
        self._colorbar = pg.ColorBarItem(
            values=(0, 1), colorMap=cmap, interactive=False, width=16, colorMapMenu=False
        )
        self._colorbar.getAxis("right").setTextPen("#222")
        self._colorbar.getAxis("right").setLabel(
            "pair i (dark = turns fastest)", color="#222", **{"font-size": "11pt"}
        )
        p.getPlotItem().layout.addItem(self._colorbar, 2, 5)

    def _build_spectrum(self) -> None:
        s = self.spectrum
        s.setLogMode(y=True)
        s.addLegend(
            offset=(8, -8),
            labelTextColor="#222",
            labelTextSize="11pt",
            brush=pg.mkBrush(255, 255, 255, 220),
        )
        turn = pg.InfiniteLine(
            np.log10(TWO_PI),
            angle=0,
            label="2π = one turn",
            pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine),
            labelOpts={"position": 0.85, "color": "#444", "anchors": [(0.5, 0), (0.5, 0)]},
        )
        turn.label.setFont(QFont(self.font().family(), 11))
        s.addItem(turn)
        self._theta_curve = s.plot(pen=pg.mkPen("#555", width=2), name="θᵢ")
        self._m_curve = s.plot(
            pen=pg.mkPen(HUES["q"][2], width=2.5), name="m·θᵢ (query)", connect="finite"
        )
        self._n_curve = s.plot(
            pen=pg.mkPen(HUES["k"][2], width=2.5), name="n·θᵢ (key)", connect="finite"
        )
        self._spectrum_pair = s.plot(
            pen=None,
            symbol="o",
            symbolSize=13,
            symbolBrush=None,
            symbolPen=pg.mkPen("#d62728", width=3),
        )
        s.scene().sigMouseClicked.connect(lambda ev: self._on_plot_clicked(self.spectrum, ev))

    def _build_contributions(self) -> None:
        c = self.contrib
        c.addItem(pg.InfiniteLine(0, angle=0, pen=pg.mkPen("#888")))
        self._bars = pg.BarGraphItem(x=[0.0], height=[0.0], width=0.8, brush="#4c78a8")
        c.addItem(self._bars)
        c.scene().sigMouseClicked.connect(lambda ev: self._on_plot_clicked(self.contrib, ev))
        self.sum_label = text_label("Σ —", 15, True, "ropeContributionSum")
        self.sum_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def _build_layout(self) -> None:
        self.title_label = text_label("", 13, True, "ropeTitle")
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.info_label = text_label("", 11, False, "ropeInfo")
        self.info_label.setWordWrap(True)
        self.info_label.setMinimumHeight(2 * self.info_label.fontMetrics().lineSpacing() + 4)
        self.pair_spin = QSpinBox()
        self.pair_spin.setObjectName("ropePairSpin")
        self.pair_spin.setRange(-1, 0)
        self.pair_spin.setSpecialValueText("all")
        self.pair_spin.setFont(self.title_label.font())
        self.pair_spin.valueChanged.connect(lambda v: self._choose(None if v < 0 else v))
        header = QHBoxLayout()
        header.addWidget(self.title_label, 1)
        self.pair_label = text_label(_tr(PAIR), 13)
        header.addWidget(self.pair_label)
        header.addWidget(self.pair_spin)
        box = QWidget()
        box_layout = QVBoxLayout(box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.addWidget(self.sum_label)
        box_layout.addWidget(self.contrib, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.spectrum)
        right.addWidget(box)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.plane)
        split.addWidget(right)
        split.setSizes([560, 440])
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.info_label)
        layout.addWidget(split, 1)

    # ----------------------------------------------------------------- public API
    def set_view(
        self,
        q_before: np.ndarray,
        q_after: np.ndarray,
        theta: np.ndarray,
        q_pos: int,
        k_before: np.ndarray | None = None,
        k_after: np.ndarray | None = None,
        k_pos: int | None = None,
        contributions: np.ndarray | None = None,
        title: str = "",
    ) -> None:
        """Show one query (and optionally one key) of one head.

        Args:
            q_before: (hd/2,) complex query pairs before RoPE.
            q_after: (hd/2,) complex query pairs after RoPE (at position q_pos).
            theta: (hd/2,) float θ_i in radians per position (after any rope scaling).
            q_pos: the query's position m.
            k_before: (hd/2,) complex key pairs before RoPE, or None.
            k_after: (hd/2,) complex key pairs after RoPE, or None.
            k_pos: the key's position n (required with a key).
            contributions: (hd/2,) float Re(q̃_i·conj(k̃_i))/√hd; computed from q_after
                and k_after when None and a key is given.
            title: caption, e.g. "layer 3 · head 2 · ' Paris' → ' France'".

        Raises:
            ValueError: a shape or dtype differs from the above.
        """
        self._view = _validated(
            q_before, q_after, theta, q_pos, k_before, k_after, k_pos, contributions
        )
        n = self._view.theta.size
        if self._pair is not None and self._pair >= n:
            self._pair = None
        self.title_label.setText(title)
        self._colorbar.setLevels((0, max(n - 1, 1)))
        self._sync_spin(n)
        self._redraw()

    def set_pair(self, index: int | None) -> None:
        """Show one pair (0..hd/2-1), or all pairs when None. Does not emit pair_selected."""
        n = None if self._view is None else self._view.theta.size
        if index is not None and (index < 0 or (n is not None and index >= n)):
            raise ValueError(f"pair index {index} out of range 0..{(n or 1) - 1} (or None = all)")
        self._pair = index
        if n is not None:
            self._sync_spin(n)
            self._redraw()

    def pair(self) -> int | None:
        """The shown pair, or None when all pairs are shown."""
        return self._pair

    def shown_pairs(self) -> list[int]:
        """Indices of the pairs drawn in the complex plane."""
        if self._view is None:
            return []
        return [self._pair] if self._pair is not None else list(range(self._view.theta.size))

    def contribution_sum(self) -> float | None:
        """Σ_i of the per-pair contributions (the raw score), or None without a key."""
        c = None if self._view is None else self._view.contributions
        return None if c is None else float(c.sum())

    def points(self, series: str) -> np.ndarray:
        """Plotted arrow tips of one series ("q_before", "q_after", "k_before", "k_after").

        Returns:
            (len(shown_pairs()), 2) array of (Re, Im), or (0, 2) if the series is empty.
        """
        if series not in SERIES:
            raise ValueError(f"series is {series!r}; expected one of {', '.join(SERIES)}")
        x, y = self._lines[series].getData()
        if x is None or len(x) == 0:
            return np.zeros((0, 2))
        return np.column_stack([x[1::2], y[1::2]])

    def q_after_points(self) -> np.ndarray:
        """(n, 2) plotted tips of the rotated query pairs; see points()."""
        return self.points("q_after")

    # ----------------------------------------------------------------- drawing
    def _redraw(self) -> None:
        self._draw_plane()
        self._draw_spectrum()
        self._draw_contributions()
        self._draw_info()

    def _draw_plane(self) -> None:
        view, idx, one = self._view, np.array(self.shown_pairs()), self._pair is not None
        radius = {"q": 0.0, "k": 0.0}
        for name in SERIES:
            z = getattr(view, name)
            if z is None:
                self._lines[name].setData([], [])
                self._heads[name].setData([])
                self._arrows[name].hide()
                continue
            self._draw_series(name, z[idx], idx, one)
            radius[name[0]] = max(radius[name[0]], float(np.abs(z[idx]).max()))
        t = np.linspace(0.0, TWO_PI, 181)
        extent = 1.15 * max(radius.values()) or 1.0
        for head, r in radius.items():
            self._circles[head].setData(r * np.cos(t), r * np.sin(t))
            self._draw_arc(head, one, extent)
        self._colorbar.setVisible(not one)
        # an explicit range: auto-ranging a view that has no size yet (a hidden dock) turns
        # the text items' pixel-sized bounds into absurd data ranges
        self.plane.setRange(xRange=(-extent, extent), yRange=(-extent, extent), padding=0.02)

    def _draw_series(self, name: str, z: np.ndarray, idx: np.ndarray, one: bool) -> None:
        head, before = name[0], name.endswith("before")
        x, y = np.zeros(2 * z.size), np.zeros(2 * z.size)  # origin → tip, connect="pairs"
        x[1::2], y[1::2] = z.real, z.imag
        width = (2.5 if before else 3.5) if one else (1.0 if before else 1.5)
        alpha = 130 if before else (255 if one else 170)
        style = Qt.PenStyle.DashLine if before else Qt.PenStyle.SolidLine
        self._lines[name].setData(
            x, y, pen=pg.mkPen(*HUES[head][2], alpha, width=width, style=style)
        )
        if before:
            self._heads[name].setData(x=z.real, y=z.imag, data=idx)
        else:
            shades = pair_shades(head, self._view.theta.size)
            self._heads[name].setData(x=z.real, y=z.imag, data=idx, brush=[shades[i] for i in idx])
        self._heads[name].setVisible(not one)
        arrow = self._arrows[name]
        arrow.setVisible(one)
        if one:  # ArrowItem: 0° points left, angles turn clockwise on screen
            arrow.setPos(float(z[0].real), float(z[0].imag))
            arrow.setStyle(angle=180.0 - np.degrees(np.angle(z[0])))

    def _draw_arc(self, head: str, one: bool, extent: float) -> None:
        view, arc, text = self._view, self._arcs[head], self._arc_text[head]
        before = getattr(view, f"{head}_before")
        pos = view.q_pos if head == "q" else view.k_pos
        if not one or before is None:
            arc.setData([], [])
            text.setText("")
            return
        i = self._pair
        turn = (pos * view.theta[i]) % TWO_PI
        start = float(np.angle(before[i]))
        r = (0.2 if head == "q" else 0.34) * extent  # marks the angle, not the length
        t = np.linspace(start, start + turn, max(2, int(np.degrees(turn) / 3)))
        arc.setData(r * np.cos(t), r * np.sin(t))
        mid = start + turn / 2
        text.setPos((r + 0.08 * extent) * np.cos(mid), (r + 0.08 * extent) * np.sin(mid))
        text.setText(f"+{np.degrees(turn):.0f}°")

    def _draw_spectrum(self) -> None:
        view, s = self._view, self.spectrum
        i = np.arange(view.theta.size, dtype=float)

        def angles(pos: int | None) -> np.ndarray:
            if pos is None:
                return np.zeros(0)
            a = pos * view.theta
            return np.where(a > 0, a, np.nan)  # position 0 does not turn: no point on log y

        self._theta_curve.setData(i, view.theta)
        m, n = angles(view.q_pos), angles(view.k_pos)
        self._m_curve.setData(i[: m.size], m)
        self._n_curve.setData(i[: n.size], n)
        i = self._pair
        marks = [] if i is None else [a[i] for a in (view.theta, m, n) if a.size and a[i] > 0]
        self._spectrum_pair.setData([float(i or 0)] * len(marks), marks)
        top = max(float(np.nanmax(np.concatenate([m, n, view.theta]))), TWO_PI)
        # two spare decades at the bottom keep the legend off the curves
        s.setYRange(np.log10(view.theta.min()) - 2.0, np.log10(top) + 0.3, padding=0)
        s.setXRange(-0.5, view.theta.size - 0.5, padding=0)
        key = "" if view.k_pos is None else f", key n = {view.k_pos}"
        s.setTitle(f"angles turned: query m = {view.q_pos}{key}", color="#222", size="12pt")

    def _draw_contributions(self) -> None:
        c = self._view.contributions
        self._bars.setVisible(c is not None)
        if c is None:
            self.sum_label.setText(_tr(NO_KEY))
            return
        fade = 255 if self._pair is None else 90
        brushes = [
            pg.mkBrush(*(POSITIVE if v >= 0 else NEGATIVE), 255 if i == self._pair else fade)
            for i, v in enumerate(c)
        ]
        pens = [
            pg.mkPen("#111", width=2.5) if i == self._pair else pg.mkPen(None)
            for i in range(c.size)
        ]
        self._bars.setOpts(
            x=np.arange(c.size, dtype=float), height=c, width=0.8, brushes=brushes, pens=pens
        )
        self.sum_label.setText(_tr(SUM).format(sum=f"{self.contribution_sum():.4f}"))

    def _draw_info(self) -> None:
        view, i = self._view, self._pair
        n, hd = view.theta.size, 2 * view.theta.size
        if i is None:
            self.info_label.setText(
                _tr(ALL_PAIRS).format(
                    n=n, hd=hd, first=f"{view.theta[0]:.3g}", last=f"{view.theta[-1]:.3g}"
                )
            )
            return
        th, m = view.theta[i], view.q_pos
        parts = [
            _tr(ONE_PAIR).format(i=i, theta=f"{th:.4g}"),
            _tr(QUERY_ANGLE).format(m=m, angle=f"{m * th:.4g}", turns=f"{m * th / TWO_PI:.3g}"),
        ]
        if view.k_pos is not None:
            k = view.k_pos
            parts.append(
                _tr(KEY_ANGLE).format(n=k, angle=f"{k * th:.4g}", delta=f"{(m - k) * th:.4g}")
            )
        if view.contributions is not None:
            parts.append(_tr(CONTRIBUTION).format(value=f"{view.contributions[i]:+.4f}"))
        self.info_label.setText(" · ".join(parts))

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "pair_label"):
            self.pair_label.setText(_tr(PAIR))
            if getattr(self, "_view", None) is not None:
                self._draw_contributions()
                self._draw_info()
        super().changeEvent(event)

    # ----------------------------------------------------------------- interaction
    def _sync_spin(self, n: int) -> None:
        self.pair_spin.blockSignals(True)
        self.pair_spin.setRange(-1, n - 1)
        self.pair_spin.setValue(-1 if self._pair is None else self._pair)
        self.pair_spin.blockSignals(False)

    def _choose(self, index: int | None) -> None:
        if self._view is None or index == self._pair:
            return
        self.set_pair(index)
        self.pair_selected.emit(-1 if index is None else index)

    def _on_head_clicked(self, _item, points, _event) -> None:
        if len(points):
            self._choose(int(points[0].data()))

    def _on_plot_clicked(self, plot: pg.PlotWidget, event) -> None:
        if self._view is None or event.button() != Qt.MouseButton.LeftButton:
            return
        vb = plot.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        i = int(round(vb.mapSceneToView(event.scenePos()).x()))
        if 0 <= i < self._view.theta.size:
            self._choose(i)

"""Themes, UI scale and presentation mode; the choice persists in QSettings."""

from __future__ import annotations

from importlib import resources

import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QWidget

from llamalens.app import settings as app_settings

THEMES = {"light": ("#ffffff", "#000000"), "dark": ("#1e1f22", "#e8e8e8")}
SCALES = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
BASE_POINTS = 10.0  # UI font size at 100 %
MAP_POINTS = 11.0  # heatmap labels at 100 %
# Presentation fonts follow the screen: 200 % on a 1080-line screen, as large as the
# layout allows (one step per this many lines) on a smaller or larger one.
LINES_PER_STEP = 512
LINES_AT_MOST = 480


def presentation_scale(user_scale: float, screen_height: int) -> float:
    """The UI scale of presentation mode on a screen ``screen_height`` pixels high.

    At least the user's scale and 200 % at 1080 lines (more on taller screens), but never
    more than the screen holds: a 768-line projector gets 150 % whatever the user chose.
    """
    wanted = max(user_scale, screen_height / LINES_PER_STEP)
    limit = min(wanted, screen_height / LINES_AT_MOST)
    fitting = [s for s in SCALES if s <= limit + 1e-9]
    return fitting[-1] if fitting else SCALES[0]


def theme_sheet(name: str) -> str:
    """The Qt style sheet of a theme, from resources/themes/NAME.qss."""
    if name not in THEMES:
        raise ValueError(f"theme is {name!r}, expected one of {sorted(THEMES)}")
    return (
        resources.files("llamalens.resources").joinpath("themes", f"{name}.qss").read_text("utf-8")
    )


class Appearance:
    """Applies theme and scale to the app and to every plot of a window."""

    def __init__(self, window: QWidget) -> None:
        self.window = window
        st = app_settings.settings()
        self.theme = str(st.value("appearance/theme", "light"))
        self.scale = float(st.value("appearance/scale", 1.0))
        if self.theme not in THEMES:
            self.theme = "light"
        self.scale = min(max(self.scale, SCALES[0]), SCALES[-1])
        self.presenting: float | None = None  # the scale while presentation mode is on

    @property
    def effective_scale(self) -> float:
        """The scale in use: the presentation scale while presenting, else the user's."""
        return self.presenting if self.presenting is not None else self.scale

    def apply(self) -> None:
        """Style sheet, application font and plot colours/fonts for theme and scale."""
        app = QApplication.instance()
        points = BASE_POINTS * self.effective_scale
        app.setStyleSheet(theme_sheet(self.theme))
        font = QFont(app.font())
        font.setPointSizeF(points)
        app.setFont(font)
        for w in self.window.findChildren(QWidget):
            w.setFont(font)  # widgets that had an explicit font keep up too
        self._style_plots(font)
        st = app_settings.settings()
        st.setValue("appearance/theme", self.theme)
        st.setValue("appearance/scale", self.scale)

    def _style_plots(self, font: QFont) -> None:
        bg, fg = THEMES[self.theme]
        for view in self.window.findChildren(pg.GraphicsView):
            if hasattr(view, "set_colors"):
                view.set_colors(bg, fg)
            else:
                view.setBackground(bg)
            if hasattr(view, "set_font_size"):
                view.set_font_size(MAP_POINTS * self.effective_scale)
            for item in view.scene().items():
                if isinstance(item, pg.AxisItem):
                    item.setPen(fg)
                    item.setTextPen(fg)
                    item.setStyle(tickFont=font)

    def set_theme(self, name: str) -> None:
        theme_sheet(name)  # validates
        self.theme = name
        self.apply()

    def set_scale(self, scale: float) -> None:
        if not SCALES[0] <= scale <= SCALES[-1]:
            raise ValueError(
                f"UI scale is {scale:.0%}, expected {SCALES[0]:.0%} to {SCALES[-1]:.0%}"
            )
        self.scale = scale
        self.apply()

    def set_presenting(self, scale: float | None) -> None:
        """Use ``scale`` for presentation mode (None: back to the user's scale), unsaved."""
        self.presenting = scale
        self.apply()

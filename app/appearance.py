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

    def apply(self) -> None:
        """Style sheet, application font and plot colours/fonts for theme and scale."""
        app = QApplication.instance()
        app.setStyleSheet(theme_sheet(self.theme))
        font = QFont(app.font())
        font.setPointSizeF(BASE_POINTS * self.scale)
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
                view.set_font_size(MAP_POINTS * self.scale)
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

    def set_presentation(self, on: bool) -> None:
        """Fullscreen with large fonts (at least 200 %), or back to the normal window."""
        win = self.window
        if on:
            self._before = self.scale
            self.set_scale(max(self.scale, 2.0))
            win.showFullScreen()
        else:
            self.set_scale(getattr(self, "_before", 1.0))
            win.showNormal()
        app_settings.settings().setValue("appearance/presentation", on)

"""Presentation mode, themes and UI scale."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication

from llamalens.app import settings as app_settings
from llamalens.app.appearance import BASE_POINTS, MAP_POINTS, theme_sheet
from tests.app.test_inspector import tiny_hf, window  # noqa: F401 (fixtures)


def test_presentation_mode_scales_fonts_and_persists(qtbot, window):  # noqa: F811
    look = window.appearance
    look.set_scale(1.0)
    before = QApplication.instance().font().pointSizeF()
    assert before == pytest.approx(BASE_POINTS)
    map_before = window.attention.map._font.pointSizeF()
    look.set_presentation(True)
    assert QApplication.instance().font().pointSizeF() >= 2 * before
    assert window.prompt.edit.font().pointSizeF() >= 2 * before
    assert window.attention.map._font.pointSizeF() >= 2 * map_before
    assert app_settings.settings().value("appearance/scale", type=float) >= 2.0
    look.set_presentation(False)
    assert QApplication.instance().font().pointSizeF() == pytest.approx(before)
    assert window.attention.map._font.pointSizeF() == pytest.approx(MAP_POINTS)


def test_dark_theme_changes_style_and_plots(qtbot, window):  # noqa: F811
    look = window.appearance
    look.set_theme("dark")
    assert "#1e1f22" in QApplication.instance().styleSheet()
    assert window.attention.map.backgroundBrush().color().name() == "#1e1f22"
    assert app_settings.settings().value("appearance/theme") == "dark"
    look.set_theme("light")
    assert window.attention.map.backgroundBrush().color().name() == "#ffffff"


def test_bad_theme_and_scale_are_named():
    with pytest.raises(ValueError, match="sepia"):
        theme_sheet("sepia")


def test_scale_out_of_range(qtbot, window):  # noqa: F811
    with pytest.raises(ValueError, match="UI scale"):
        window.appearance.set_scale(5.0)


def test_f1_opens_the_shortcuts_sheet(qtbot, window):  # noqa: F811
    window.menus.show_shortcuts()
    box = window.shortcuts_box
    assert box.isVisible()
    for keys in ("Ctrl+Enter", "Ctrl+E", "F11", "Tab"):
        assert keys in box.text()
    actions = {a.shortcut().toString() for a in window.findChildren(QAction)}
    for keys in ("Ctrl+E", "F11", "F1", "Ctrl+S", "Ctrl+O"):
        assert keys in actions, keys

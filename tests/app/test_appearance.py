"""Presentation mode, themes and UI scale."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction, QFont, QFontMetricsF
from PySide6.QtWidgets import QApplication, QWidget

from llamalens.app import settings as app_settings
from llamalens.app.appearance import BASE_POINTS, MAP_POINTS, SCALES, Appearance, theme_sheet
from tests.app.test_inspector import tiny_hf, window  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def own_settings(monkeypatch, tmp_path):
    """Each test stores theme and scale in its own ini file, and the application's font and
    style sheet are put back afterwards, so no other test inherits them."""
    app = QApplication.instance() or QApplication([])
    font, sheet = QFont(app.font()), app.styleSheet()
    monkeypatch.setenv(app_settings.SETTINGS_ENV, str(tmp_path / "settings.ini"))
    yield
    app.setFont(font)
    app.setStyleSheet(sheet)


def stored(key: str, type_=str):
    return app_settings.settings().value(f"appearance/{key}", type=type_)


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


def test_ui_scale_grows_every_font_and_persists(qtbot, window):  # noqa: F811
    look, app = window.appearance, QApplication.instance()
    key_axis = window.attention.map.label_axis("bottom")
    heights = []
    for scale in SCALES:
        look.set_scale(scale)
        assert look.scale == scale and stored("scale", float) == pytest.approx(scale)
        assert app.font().pointSizeF() == pytest.approx(BASE_POINTS * scale)
        assert window.prompt.edit.font().pointSizeF() == pytest.approx(BASE_POINTS * scale)
        assert key_axis.labelStyle["font-size"] == f"{MAP_POINTS * scale:g}pt"
        heights.append(QFontMetricsF(window.prompt.edit.font()).height())
    assert heights == sorted(heights) and heights[-1] > 2.5 * heights[0]  # text really grows
    assert Appearance(QWidget()).scale == SCALES[-1]  # the next start reads it back


def test_scale_menu_applies_the_chosen_scale(qtbot, window):  # noqa: F811
    action = next(a for a in window.findChildren(QAction) if a.text() == "150%")
    action.trigger()
    assert window.appearance.scale == 1.5 and stored("scale", float) == 1.5
    assert QApplication.instance().font().pointSizeF() == pytest.approx(1.5 * BASE_POINTS)


@pytest.mark.parametrize(
    "scale, theme, expected",
    [
        (9.0, "dark", (3.0, "dark")),
        (0.2, "sepia", (1.0, "light")),
        (1.25, "light", (1.25, "light")),
    ],
)
def test_stored_scale_is_clamped_and_an_unknown_theme_falls_back(qtbot, scale, theme, expected):
    st = app_settings.settings()
    st.setValue("appearance/scale", scale)
    st.setValue("appearance/theme", theme)
    widget = QWidget()
    qtbot.addWidget(widget)
    look = Appearance(widget)
    assert (look.scale, look.theme) == expected
    look.apply()
    assert QApplication.instance().font().pointSizeF() == pytest.approx(BASE_POINTS * expected[0])
    assert (stored("scale", float), stored("theme")) == expected  # the repaired values stick


def test_bad_theme_and_scale_are_named_and_change_nothing(qtbot, window):  # noqa: F811
    with pytest.raises(ValueError, match="theme is 'sepia', expected one of"):
        theme_sheet("sepia")
    look = window.appearance
    look.set_scale(1.5)
    for bad in (5.0, 0.5):
        with pytest.raises(ValueError, match=f"UI scale is {bad:.0%}, expected 100% to 300%"):
            look.set_scale(bad)
    with pytest.raises(ValueError, match="sepia"):
        look.set_theme("sepia")
    assert (look.scale, look.theme) == (1.5, "light")
    assert QApplication.instance().font().pointSizeF() == pytest.approx(1.5 * BASE_POINTS)
    assert stored("scale", float) == 1.5 and stored("theme") == "light"


def test_f1_opens_the_shortcuts_sheet(qtbot, window):  # noqa: F811
    window.menus.show_shortcuts()
    box = window.shortcuts_box
    assert box.isVisible()
    for keys in ("Ctrl+Enter", "Ctrl+E", "F11", "Tab"):
        assert keys in box.text()
    actions = {a.shortcut().toString() for a in window.findChildren(QAction)}
    for keys in ("Ctrl+E", "F11", "F1", "Ctrl+S", "Ctrl+O"):
        assert keys in actions, keys

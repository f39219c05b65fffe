"""View ▸ Language: every visible walkthrough string changes, the choice is remembered."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QActionGroup

from llamalens.app import create_main_window, i18n
from llamalens.app import settings as app_settings
from llamalens.app.state import PromptSettings
from llamalens.app.walkthrough.steps import STEP_IDS
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    return write_hf(tmp_path_factory.mktemp("lang") / "hf", tiny_tensors(cfg, 4), cfg, vocab)


@pytest.fixture
def window(qtbot, tiny_hf):
    win = create_main_window(str(tiny_hf), "cpu")
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.model_loaded, timeout=60_000):
        pass
    win.state.set_prompt(PromptSettings("hello world, the cat sat"))
    with qtbot.waitSignal(win.analysis_shown, timeout=60_000):
        win.run_prompt()
    yield win
    win.state.set_language("en")  # the next test starts in English
    win.state.set_walkthrough(False)
    win.close()


def choose(window, locale: str) -> None:
    group = window.findChild(QActionGroup, "languageGroup")
    [action] = [a for a in group.actions() if a.data() == locale]
    action.trigger()
    QCoreApplication.processEvents()  # LanguageChange events are posted to the widgets


# names that stay as they are in every language: the app, devices, colormaps, languages
NAMES = {"LlamaLens", "CPU", "CUDA", "Apple MPS", "English", "简体中文", "F11"}
NAMES |= {"viridis", "cividis", "magma", "inferno", "gray"}


def window_texts(window) -> dict[str, str]:
    """Every text of the window's widgets, menus and actions that could carry words."""
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import (
        QAbstractButton,
        QComboBox,
        QDockWidget,
        QGraphicsScene,
        QLabel,
        QMenu,
    )

    texts = {}
    for w in window.findChildren(QLabel) + window.findChildren(QAbstractButton):
        if w.text() and w.window() is window:
            texts[f"{type(w).__name__} {w.objectName()} {id(w)}"] = w.text()
    for w in window.findChildren(QComboBox):
        for i in range(w.count()):
            texts[f"combo {w.objectName()} {i}"] = w.itemText(i)
    for d in window.findChildren(QDockWidget):
        texts[f"dock {d.objectName()}"] = d.windowTitle()
    for m in window.findChildren(QMenu):
        texts[f"menu {id(m)}"] = m.title()
    recent = set(app_settings.recent_models())
    for a in window.findChildren(QAction):
        if isinstance(a.parent(), QGraphicsScene) or a.text() in recent:
            continue  # pyqtgraph's own scene menu (hidden by ours); recent files' paths
        texts[f"action {id(a)}"] = a.text()
    return {k: v for k, v in texts.items() if v}


def english_words(text: str) -> bool:
    """True for text with a run of Latin letters and no Chinese (numbers and names excepted)."""
    import re

    if text in NAMES or re.search(r"[\u4e00-\u9fff]", text):
        return False
    words = re.findall(r"[A-Za-z]{3,}", text)
    return bool(words)


def all_step_texts(window) -> dict[tuple[str, str], str]:
    texts = {}
    for step in STEP_IDS:
        window.state.set_walk_step(step)
        window.walkthrough.refresh()
        for where, text in window.walkthrough.view.visible_texts().items():
            texts[(step, where)] = text
    return texts


def test_language_group_names_each_locale(window):
    group = window.findChild(QActionGroup, "languageGroup")
    assert [a.data() for a in group.actions()] == ["en", "zh_CN"]
    assert group.isExclusive()
    assert [a.isChecked() for a in group.actions()] == [True, False]


def test_switching_changes_every_visible_walkthrough_string(qtbot, window):
    with qtbot.waitSignal(window.state.detail_changed, timeout=60_000):
        window.walkthrough.action.trigger()
    english = all_step_texts(window)
    assert len(english) > 27 * 8
    choose(window, "zh_CN")
    assert window.state.language == "zh_CN"
    chinese = all_step_texts(window)
    assert set(chinese) == set(english)
    same = {k: v for k, v in chinese.items() if v == english[k]}
    assert not same, f"untranslated: {list(same.items())[:5]}"
    assert window.walkthrough.action.text() == "逐步讲解"
    assert window.menus.language_menu.title() == "语言(&L)"
    choose(window, "en")
    assert all_step_texts(window) == english


def test_the_choice_is_remembered(qtbot, window, tiny_hf):
    choose(window, "zh_CN")
    assert app_settings.settings().value("language") == "zh_CN"
    assert i18n.default_language() == "zh_CN"
    assert QCoreApplication.translate("Walkthrough", "Tokens") == "词元（token）"
    again = create_main_window(str(tiny_hf), "cpu")
    qtbot.addWidget(again)
    try:
        assert again.state.language == "zh_CN"
        group = again.findChild(QActionGroup, "languageGroup")
        assert [a.data() for a in group.actions() if a.isChecked()] == ["zh_CN"]
    finally:
        again.close()
    choose(window, "en")
    assert QCoreApplication.translate("Walkthrough", "Tokens") == "Tokens"
    assert app_settings.settings().value("language") == "en"


def test_no_english_left_in_the_window_in_chinese(qtbot, window):
    """Menus, docks, panels, buttons and combo items: every text with words is translated.

    The exceptions are data, not interface: the prompt, its tokens, the model's name and
    the examples (prompts to try), the colormaps' and devices' names.
    """
    choose(window, "zh_CN")
    texts = window_texts(window)
    data = set(window.state.trace.token_strs) | {window.state.prompt.text}
    summary = window.state.model.summary()
    examples = window.prompt.examples
    example_texts = {examples.itemText(i) for i in range(1, examples.count())}
    left = {
        k: v
        for k, v in texts.items()
        if english_words(v)
        and v not in data
        and v not in example_texts
        and v != summary
        and not k.startswith("QLabel walkthrough")  # the walkthrough test covers these
        and "\n" not in v  # token chips (text and id)
        and not k.startswith("combo rankTargetCombo")  # the likely next tokens, with p
    }
    assert not left, left

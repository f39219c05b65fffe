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

"""The interface language: Qt translators for LlamaLens's strings and Qt's own dialogs.

English is the source language (no translator). For another language the app installs
``resources/translations/llamalens_<locale>.qm`` (compiled with ``lrelease`` from the
``.ts`` file next to it) and Qt's ``qtbase_<locale>.qm`` for standard buttons and
dialogs. Installing a translator sends a LanguageChange event to every widget, which
redraws its texts. The choice is kept in the settings (``language``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from llamalens.app import settings as app_settings

log = logging.getLogger(__name__)

LANGUAGES = ("en", "zh_CN")
# each language named in itself: never translated
LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文"}
SETTING = "language"


def check_language(locale: str) -> None:
    """Raise ValueError unless ``locale`` is a shipped language."""
    if locale not in LANGUAGES:
        raise ValueError(f"language is {locale!r}, expected one of {', '.join(LANGUAGES)}")


def translations_dir() -> Path:
    """Where the compiled ``.qm`` files are shipped."""
    return Path(str(resources.files("llamalens.resources").joinpath("translations")))


def qm_path(locale: str) -> Path:
    return translations_dir() / f"llamalens_{locale}.qm"


def default_language() -> str:
    """The saved choice, else Simplified Chinese on a Chinese system, else English."""
    saved = str(app_settings.settings().value(SETTING, "") or "")
    if saved in LANGUAGES:
        return saved
    return "zh_CN" if QLocale.system().language() == QLocale.Language.Chinese else "en"


class Translators:
    """The translators installed in the application, replaced on every switch.

    One per application (:data:`TRANSLATORS`): every window switches the same ones.
    """

    def __init__(self) -> None:
        self._installed: list[QTranslator] = []
        self.locale = "en"

    def install(self, locale: str) -> None:
        """Switch the application to ``locale`` and remember the choice.

        Raises:
            ValueError: for a language LlamaLens does not ship.
            OSError: when the shipped translation file cannot be read.
        """
        check_language(locale)
        app = QCoreApplication.instance()
        for old in self._installed:
            app.removeTranslator(old)
        self._installed = []
        if locale != "en":
            ours = QTranslator(app)
            if not ours.load(str(qm_path(locale))):
                raise OSError(f"cannot read the translation {qm_path(locale)}")
            self._installed.append(ours)
            qt = QTranslator(app)
            qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
            if qt.load(f"qtbase_{locale}", qt_dir):
                self._installed.append(qt)
            else:
                log.info("Qt's own %s translation is not installed; dialogs stay English", locale)
            for translator in self._installed:
                app.installTranslator(translator)
        self.locale = locale
        app_settings.settings().setValue(SETTING, locale)


TRANSLATORS = Translators()


def install(locale: str) -> None:
    """Switch the application's language (see :meth:`Translators.install`)."""
    TRANSLATORS.install(locale)


class TextBinder:
    """Texts set from translatable sources and set again when the language changes.

    ``bind(label.setText, QT_TRANSLATE_NOOP("Menus", "&File"))`` sets the translation now
    and remembers the pair; :meth:`retranslate` sets every bound text again. The sources
    stay literal in the calls, where ``lupdate`` finds them.
    """

    def __init__(self, context: str) -> None:
        self.context = context
        self._bound: list[tuple[Callable[[str], object], str, dict]] = []

    def tr(self, source: str, **values) -> str:
        text = QCoreApplication.translate(self.context, source)
        return text.format(**values) if values else text

    def bind(self, setter: Callable[[str], object], source: str, **values) -> str:
        """Set ``setter(translation)`` now and after every language change."""
        self._bound.append((setter, source, values))
        text = self.tr(source, **values)
        setter(text)
        return text

    def retranslate(self) -> None:
        for setter, source, values in self._bound:
            setter(self.tr(source, **values))

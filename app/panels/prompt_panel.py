"""Prompt editor: plain or chat mode, plain-text special tokens, Run (Ctrl+Enter)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from llamalens.app.state import InspectorState, PromptSettings

EXAMPLES = [
    "The capital of France is",
    "What is the capital of France?",
    "The quick brown fox jumps over the lazy dog. The quick brown fox",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return",
    "1, 2, 3, 4, 5, 6, 7,",
    "Alice gave the book to Bob because",
]


class PromptPanel(QWidget):
    """The state's prompt: text, chat template, special tokens as text; Run.

    Signals:
        run_requested(): the user asked to run the prompt.
    """

    run_requested = Signal()

    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.edit = QPlainTextEdit(EXAMPLES[0])
        self.edit.setObjectName("promptEdit")
        self.edit.installEventFilter(self)
        self.chat = QCheckBox()
        self.chat.setObjectName("chatCheck")
        self.plain = QCheckBox()
        self.plain.setObjectName("plainCheck")
        self.examples = QComboBox()
        self.examples.setObjectName("examplesCombo")
        self.examples.addItem("")
        for text in EXAMPLES:
            self.examples.addItem(text.replace("\n", " ⏎ ")[:48], text)
        self.examples.activated.connect(self._example)
        self.run_button = QPushButton()
        self.run_button.setObjectName("runButton")
        self.run_button.clicked.connect(self.run_requested)
        row = QHBoxLayout()
        for w in (self.chat, self.plain, self.examples):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.run_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.edit)
        lay.addLayout(row)
        self._store()
        self.edit.textChanged.connect(self._store)
        self.chat.toggled.connect(self._store)
        self.plain.toggled.connect(self._store)
        state.prompt_changed.connect(self._show)
        state.model_changed.connect(self._model_changed)
        self.retranslate()

    def retranslate(self) -> None:
        """Every text of the panel in the current language."""
        self.edit.setPlaceholderText(self.tr("Type a prompt, then press Ctrl+Enter"))
        self.chat.setText(self.tr("Chat template"))
        self.chat.setToolTip(
            self.tr("Wrap the prompt as a user message in the model's chat format")
        )
        self.plain.setText(self.tr("Special tokens as text"))
        self.plain.setToolTip(
            self.tr("Keep text like <|im_start|> as plain text instead of the special token")
        )
        self.examples.setItemText(0, self.tr("Examples…"))
        self.run_button.setText(self.tr("Run  (Ctrl+Enter)"))

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _store(self, *_args) -> None:
        self.state.set_prompt(
            PromptSettings(self.edit.toPlainText(), self.chat.isChecked(), self.plain.isChecked())
        )

    def _show(self) -> None:
        """The state's prompt onto the editor and check boxes (a restored session)."""
        p = self.state.prompt
        if self.edit.toPlainText() != p.text:
            self.edit.setPlainText(p.text)
        self.chat.setChecked(p.chat)
        self.plain.setChecked(p.plain)

    def _model_changed(self) -> None:
        model = self.state.model
        self.chat.setEnabled(model is None or model.has_chat)

    def text(self) -> str:
        return self.edit.toPlainText()

    def _example(self, index: int) -> None:
        if index > 0:
            self.edit.setPlainText(self.examples.itemData(index))
            self.chat.setChecked("?" in self.examples.itemData(index))
            self.examples.setCurrentIndex(0)
            self.run_requested.emit()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        """Ctrl+Enter in the editor runs (the editor would otherwise take the key)."""
        if (
            watched is self.edit
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.run_requested.emit()
            return True
        return super().eventFilter(watched, event)

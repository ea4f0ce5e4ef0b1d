"""The message input: Enter sends, Shift+Enter starts a new line, grows with its text."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

MAX_LINES = 8


class Composer(QPlainTextEdit):
    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self.setPlaceholderText("Message Memoir…  (Enter to send, Shift+Enter for a new line)")
        self.setTabChangesFocus(True)
        self.document().contentsChanged.connect(self.updateGeometry)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            if self.toPlainText().strip():
                self.submitted.emit(self.toPlainText())
            return
        super().keyPressEvent(event)

    def sizeHint(self) -> QSize:
        lines = min(MAX_LINES, max(2, self.document().blockCount()))
        height = self.fontMetrics().lineSpacing() * lines + 18
        return QSize(super().sizeHint().width(), height)

    def minimumSizeHint(self) -> QSize:
        return QSize(100, self.fontMetrics().lineSpacing() * 2 + 18)


def input_row(composer: Composer) -> tuple[QHBoxLayout, QPushButton, QPushButton, QPushButton]:
    """The composer with its Send, Stop and Regenerate buttons stacked beside it."""
    send = QPushButton("Send")
    send.setDefault(True)
    stop = QPushButton("Stop")
    stop.setObjectName("stop")
    regenerate = QPushButton("Regenerate")
    buttons = QVBoxLayout()
    for button in (send, stop, regenerate):
        buttons.addWidget(button)
    buttons.addStretch()
    row = QHBoxLayout()
    row.addWidget(composer, 1)
    row.addLayout(buttons)
    return row, send, stop, regenerate

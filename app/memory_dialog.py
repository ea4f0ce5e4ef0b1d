"""One memory shown with a reply: its text, whether the reply cited it, and where it came from."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from memory.answering.receipts import Receipt
from memory.store import sources

KINDS = {
    "turn": "A message from an earlier conversation",
    "topic": "A memory from a conversation",
}


class MemoryDialog(QDialog):
    """Read-only; "Go to conversation" asks the window to jump to the memory's first source turn."""

    def __init__(
        self,
        receipt: Receipt,
        title_of: Callable[[int], str],
        jump: Callable[[int, int], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Memory [{receipt.position}]")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        used = {
            True: "The reply used it",
            False: "The reply did not use it",
            None: "Not sure the reply used it",
        }
        how = f" ({escape(receipt.how)})" if receipt.how else ""
        kind = escape(KINDS.get(receipt.kind, receipt.kind))
        head = QLabel(
            f"<b>{kind}</b> · {escape(sources.label(receipt.source))}<br>{used[receipt.used]}{how}."
            + ("<br><i>Forgotten since: only this copy is left.</i>" if receipt.item_id is None else "")
        )
        text = QLabel(escape(receipt.text))
        text.setObjectName("memoryText")
        for label in (head, text):
            label.setWordWrap(True)
            layout.addWidget(label)
        if receipt.sources:
            first = receipt.sources[0]
            title = title_of(first.conversation_id)
            lines = [
                f"{escape(m.created_at[:16].replace('T', ' '))} · "
                f"{'You' if m.role == 'user' else 'Memoir'}: {escape(m.content[:300])}"
                for m in receipt.sources
            ]
            source = QLabel(f"<b>From “{escape(title)}”</b><br>" + "<br>".join(lines))
            source.setWordWrap(True)
            layout.addWidget(source)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.go_button: QPushButton | None = None
        if receipt.sources:
            go = buttons.addButton("Go to Conversation", QDialogButtonBox.ButtonRole.ActionRole)
            source_message = receipt.sources[0]
            go.clicked.connect(lambda: self._go(jump, source_message.conversation_id, source_message.id))
            self.go_button = go
        layout.addWidget(buttons)

    def _go(self, jump: Callable[[int, int], None], conversation_id: int, message_id: int) -> None:
        jump(conversation_id, message_id)
        self.accept()

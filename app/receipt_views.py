"""The window's memory receipts: shown and expanded under replies, opened as a dialog, followed back
to their source turns; and the learned ranking, described before it is reset."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PySide6.QtCore import Qt

from app import dialogs
from app.memory_dialog import MemoryDialog

if TYPE_CHECKING:
    from PySide6.QtWidgets import QStatusBar, QWidget

    from app.controller import ChatController
    from app.conversation_panel import ConversationPanel
    from app.models import TranscriptModel
    from app.transcript import TranscriptView
    from memory.answering.receipts import Receipt


def ranking_summary(steps: int, weights: list[tuple[str, float]]) -> str:
    """What the user's answers taught the ranking, in words: which signs of a useful memory now
    count for more, or less, than in the ranking every new Memoir starts with."""
    shown = [(name, w) for name, w in weights if abs(w) >= 0.05][:4]
    if not steps or not shown:
        return (
            "It has not learned from your answers yet: memories are in the order search finds them,"
            " weighed as every new Memoir starts."
        )
    lines = [f"What your answers have taught it so far ({steps} steps), strongest first:"]
    lines += [f"  • {'more' if w > 0 else 'less'} weight for: {name} ({w:+.2f})" for name, w in shown]
    return "\n".join(lines)


class ReceiptViews:
    """The receipts half of :class:`app.window.MainWindow` (a mixin: same object)."""

    if TYPE_CHECKING:  # provided by the window
        controller: ChatController
        conversations: ConversationPanel
        transcript: TranscriptView
        transcript_model: TranscriptModel
        current_id: int | None
        _jump_to: int | None

        def statusBar(self) -> QStatusBar: ...

    def _as_widget(self) -> QWidget:
        """This window, as the parent of its dialogs."""
        return cast("QWidget", self)

    def _on_controller_receipts_loaded(self, conversation_id: int, found: dict[int, list[Receipt]]) -> None:
        if conversation_id == self.current_id:
            for reply_id, receipts in found.items():
                self._set_receipts(reply_id, receipts)

    def _set_receipts(self, reply_id: int, receipts: list[Receipt]) -> None:
        self.transcript_model.set_receipts(reply_id, receipts)
        self._relayout(reply_id)

    def _relayout(self, message_id: int) -> None:
        row = self.transcript_model.row_of(message_id)
        if row >= 0:
            self.transcript.row_grew(row, follow=False)

    def toggle_receipts(self, reply_id: int) -> None:
        self.transcript_model.toggle_receipts(reply_id)
        self._relayout(reply_id)

    def show_memory(self, reply_id: int, position: int) -> MemoryDialog | None:
        """Open a memory shown with a reply (from its receipt row or a citation in the text)."""
        receipt = next((r for r in self.transcript_model.receipts(reply_id) if r.position == position), None)
        if receipt is None:
            return None
        self.transcript_model.toggle_receipts(reply_id, expanded=True)
        self._relayout(reply_id)
        dialog = MemoryDialog(receipt, self.conversations.title_of, self.jump_to, self._as_widget())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def jump_to(self, conversation_id: int, message_id: int) -> None:
        self._jump_to = message_id
        if self.current_id == conversation_id:  # already open: no selection change to react to
            self.controller.open_conversation(conversation_id)
        else:
            self.conversations.select(conversation_id)

    def jump_to_message(self, message_id: int) -> None:
        """Open the conversation holding ``message_id`` at that message (looked up off the GUI thread)."""
        self.controller._run(
            self.controller.io_lane,
            self.controller.store.message,
            message_id,
            on_done=lambda m: self.jump_to(m.conversation_id, m.id),
            on_error=lambda _e: self.statusBar().showMessage("That message no longer exists.", 5000),
        )

    def reset_ranking(self) -> None:
        """Show what the ranking has learned, then offer to forget it."""
        self.controller.ranking_learned(self._confirm_reset_ranking)

    def _confirm_reset_ranking(self, learned: tuple[int, list[tuple[str, float]]]) -> None:
        if dialogs.confirm(
            self._as_widget(),
            "Reset learned memory ranking",
            "Memoir learns which memories help from the citations in its replies and from your "
            f"Helpful / Not relevant marks.\n\n{ranking_summary(*learned)}\n\n"
            "Reset that learning? Your memories themselves are kept.",
            "Reset",
        ):
            self.controller.reset_reranker()
            self.statusBar().showMessage("Memory ranking reset.", 4000)

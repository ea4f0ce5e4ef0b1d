"""The window's memory receipts: shown and expanded under replies, opened as a dialog, followed back
to their source turns; and the learned ranking, described before it is reset."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from app import dialogs
from app.lanes import QueryOp
from app.memory_dialog import MemoryDialog

if TYPE_CHECKING:
    from PySide6.QtWidgets import QStatusBar, QWidget

    from app.conversation_panel import ConversationPanel
    from app.models import TranscriptModel
    from app.transcript import TranscriptView
    from app.window_base import WindowBase
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
    """The window's receipts and its navigation to a message, composed into the window (which
    forwards its signals here), seeing it only as :class:`app.window_base.WindowBase` shows it."""

    def __init__(self, window: WindowBase) -> None:
        self.window = window
        self.controller = window.controller
        self.pending_jump: int | None = None  # a message to show once its conversation has loaded

    def _as_widget(self) -> QWidget:
        """The window, as the parent of its dialogs."""
        return self.window

    def statusBar(self) -> QStatusBar:
        return self.window.statusBar()

    @property
    def current_id(self) -> int | None:
        return self.window.current_id

    @property
    def transcript_model(self) -> TranscriptModel:
        return self.window.transcript_model

    @property
    def transcript(self) -> TranscriptView:
        return self.window.transcript

    @property
    def conversations(self) -> ConversationPanel:
        return self.window.conversations

    def loaded(self, conversation_id: int, found: dict[int, list[Receipt]]) -> None:
        if conversation_id == self.current_id:
            for reply_id, receipts in found.items():
                self.set_receipts(reply_id, receipts)

    def set_receipts(self, reply_id: int, receipts: list[Receipt]) -> None:
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
        self.pending_jump = message_id
        if self.current_id == conversation_id:  # already open: no selection change to react to
            self.controller.conversations.open(conversation_id)
        else:
            self.conversations.select(conversation_id)

    def jump_to_message(self, message_id: int) -> None:
        """Open the conversation holding ``message_id`` at that message (looked up off the GUI thread)."""
        op = QueryOp(self.controller.io_lane, self.controller.store.message, message_id)
        op.success(lambda m: self.jump_to(m.conversation_id, m.id)).failure(
            lambda _e: self.statusBar().showMessage("That message no longer exists.", 5000)
        ).run(self.controller.lanes)

    def reset_ranking(self) -> None:
        """Show what the ranking has learned, then offer to forget it."""
        self.controller.conversations.ranking_learned(self._confirm_reset_ranking)

    def _confirm_reset_ranking(self, learned: tuple[int, list[tuple[str, float]]]) -> None:
        if dialogs.confirm(
            self._as_widget(),
            "Reset learned memory ranking",
            "Memoir learns which memories help from the citations in its replies and from your "
            f"Helpful / Not relevant marks.\n\n{ranking_summary(*learned)}\n\n"
            "Reset that learning? Your memories themselves are kept.",
            "Reset",
        ):
            self.controller.conversations.reset_reranker()
            self.statusBar().showMessage("Memory ranking reset.", 4000)

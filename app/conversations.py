"""Conversations as the app serves them: list, open (with the receipts of their replies), create,
rename, delete; and the user's judgements of the memories shown with a reply. Everything runs on a
lane and answers with a signal on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from app.lanes import Lanes
from memory.answering.receipts import Receipt, read_receipts
from memory.assistant.assistant import Assistant
from memory.runtime.lane import BACKGROUND, URGENT
from memory.store.database import Conversation


class Conversations(QObject):
    listed = Signal(object)  # [Conversation]
    messages_loaded = Signal(int, object)  # conversation id, messages
    receipts_loaded = Signal(int, object)  # conversation id, {reply id: [Receipt]}
    receipts_changed = Signal(int, object)  # reply id, [Receipt]
    # conversation id: its memories, and others that held its words, are gone (and the conversations
    # those held words of are queued to be reflected on again)
    deleted = Signal(int)

    def __init__(self, assistant: Assistant, lanes: Lanes, forget_states: Callable[[], None]) -> None:
        super().__init__()
        self.assistant = assistant
        self.store = assistant.store
        self.lanes = lanes
        self._forget_states = forget_states  # deleting a conversation clears the saved model caches

    def refresh(self) -> None:
        self.lanes.run(
            self.lanes.io,
            self.store.conversations,
            on_done=self.listed.emit,
            on_error=self.lanes.report,
        )

    def open(self, conversation_id: int) -> None:
        self.lanes.run(
            self.lanes.io,
            self.store.messages,
            conversation_id,
            on_done=lambda msgs: self.messages_loaded.emit(conversation_id, msgs),
            on_error=self.lanes.report,
        )
        self.lanes.run(
            self.lanes.io,
            self._receipts_of,
            conversation_id,
            on_done=lambda found: self.receipts_loaded.emit(conversation_id, found),
            on_error=self.lanes.report,
        )

    def _receipts_of(self, conversation_id: int) -> dict[int, list[Receipt]]:
        """From SQLite alone: at start the first conversation is drawn before the memory opens."""
        replies = [m.id for m in self.store.messages(conversation_id) if m.role == "assistant"]
        return {r: found for r in replies if (found := read_receipts(self.store, r))}

    def memory_feedback(self, reply_id: int, position: int, value: int) -> None:
        """The user judged a memory shown with a reply: +1 helpful, -1 not relevant, 0 undo."""
        recall = self.assistant.recall
        if recall is None:
            return

        def judge() -> tuple[int | None, list[Receipt]]:  # stored at once, even while reflecting
            return recall.record_feedback(reply_id, position, value), recall.receipts(reply_id)

        def stored(result: tuple[int | None, list[Receipt]]) -> None:
            item_id, found = result
            self.receipts_changed.emit(reply_id, found)
            if value and item_id is not None:  # the reranker learns on its lane, between reflection steps
                self.lanes.run(
                    self.lanes.model,
                    recall.learn_from_feedback,
                    reply_id,
                    item_id,
                    value,
                    priority=URGENT,
                    on_error=self.lanes.report,
                )

        self.lanes.run(self.lanes.io, judge, on_done=stored, on_error=self.lanes.report)

    def ranking_learned(self, on_done: Callable[[tuple[int, list[tuple[str, float]]]], None]) -> None:
        """What the reranker has learned so far (read on the lane that owns it)."""
        if self.assistant.recall is not None:
            self.lanes.run(
                self.lanes.model, self.assistant.recall.learned, on_done=on_done, on_error=self.lanes.report
            )
        else:
            on_done((0, []))

    def reset_reranker(self) -> None:
        if self.assistant.recall is not None:
            self.lanes.run(self.lanes.model, self.assistant.recall.reset, on_error=self.lanes.report)

    def new(self, on_done: Callable[[Conversation], None]) -> None:
        self.lanes.run(
            self.lanes.io, self.store.create_conversation, on_done=on_done, on_error=self.lanes.report
        )

    def rename(self, conversation_id: int, title: str) -> None:
        self.lanes.run(
            self.lanes.io,
            self.store.rename_conversation,
            conversation_id,
            title,
            on_done=lambda _: self.refresh(),
            on_error=self.lanes.report,
        )

    def delete(self, conversation_id: int) -> None:
        """Delete it, then rewrite the vector index without its vectors (Chroma's files keep what
        it deletes until rewritten)."""

        def deleted(_: object) -> None:
            self.refresh()
            self.deleted.emit(conversation_id)
            self._forget_states()
            memory = self.assistant.memory
            if memory is not None:
                self.lanes.run(
                    self.lanes.index, memory.compact, priority=BACKGROUND, on_error=self.lanes.report
                )

        self.lanes.run(
            self.lanes.io,
            self.assistant.delete_conversation,
            conversation_id,
            on_done=deleted,
            on_error=self.lanes.report,
        )

"""Conversations as the controller serves them: list, open (with the receipts of their replies),
create, rename, delete; and the user's judgements of the memories shown with a reply."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from memory.answering.receipts import read_receipts
from memory.runtime.lane import BACKGROUND, URGENT

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtCore import SignalInstance

    from memory.answering.recall_service import Recall
    from memory.answering.receipts import Receipt
    from memory.retrieval.service import MemoryService
    from memory.runtime.lane import SerialLane
    from memory.store.database import Conversation, Store


class ConversationControl:
    """The conversation half of :class:`app.controller.ChatController` (a mixin: same object)."""

    if TYPE_CHECKING:  # provided by the controller
        store: Store

        @property
        def recall(self) -> Recall | None: ...

        io_lane: SerialLane
        model_lane: SerialLane
        index_lane: SerialLane

        @property
        def memory(self) -> MemoryService | None: ...

        conversations_loaded: SignalInstance
        messages_loaded: SignalInstance
        receipts_loaded: SignalInstance
        receipts_changed: SignalInstance

        def _run(self, lane: SerialLane, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None: ...
        def _report(self, exc: BaseException) -> None: ...
        def forget_states(self) -> None: ...

    def refresh_conversations(self) -> None:
        self._run(
            self.io_lane,
            self.store.conversations,
            on_done=self.conversations_loaded.emit,
            on_error=self._report,
        )

    def open_conversation(self, conversation_id: int) -> None:
        self._run(
            self.io_lane,
            self.store.messages,
            conversation_id,
            on_done=lambda msgs: self.messages_loaded.emit(conversation_id, msgs),
            on_error=self._report,
        )
        self._run(
            self.io_lane,
            self._receipts_of,
            conversation_id,
            on_done=lambda found: self.receipts_loaded.emit(conversation_id, found),
            on_error=self._report,
        )

    def _receipts_of(self, conversation_id: int) -> dict[int, list[Receipt]]:
        """From SQLite alone: at start the first conversation is drawn before the memory opens."""
        replies = [m.id for m in self.store.messages(conversation_id) if m.role == "assistant"]
        return {r: found for r in replies if (found := read_receipts(self.store, r))}

    def memory_feedback(self, reply_id: int, position: int, value: int) -> None:
        """The user judged a memory shown with a reply: +1 helpful, -1 not relevant, 0 undo."""
        recall = self.recall
        if recall is None:
            return

        def judge() -> tuple[int | None, list[Receipt]]:  # stored at once, even while reflecting
            return recall.record_feedback(reply_id, position, value), recall.receipts(reply_id)

        def stored(result: tuple[int | None, list[Receipt]]) -> None:
            item_id, found = result
            self.receipts_changed.emit(reply_id, found)
            if value and item_id is not None:  # the reranker learns on its lane, between reflection steps
                self._run(
                    self.model_lane,
                    recall.learn_from_feedback,
                    reply_id,
                    item_id,
                    value,
                    priority=URGENT,
                    on_error=self._report,
                )

        self._run(self.io_lane, judge, on_done=stored, on_error=self._report)

    def ranking_learned(self, on_done: Callable[[tuple[int, list[tuple[str, float]]]], None]) -> None:
        """What the reranker has learned so far (read on the lane that owns it)."""
        if self.recall is not None:
            self._run(self.model_lane, self.recall.learned, on_done=on_done, on_error=self._report)
        else:
            on_done((0, []))

    def reset_reranker(self) -> None:
        if self.recall is not None:
            self._run(self.model_lane, self.recall.reset, on_error=self._report)

    def new_conversation(self, on_done: Callable[[Conversation], None]) -> None:
        self._run(self.io_lane, self.store.create_conversation, on_done=on_done, on_error=self._report)

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        self._run(
            self.io_lane,
            self.store.rename_conversation,
            conversation_id,
            title,
            on_done=lambda _: self.refresh_conversations(),
            on_error=self._report,
        )

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete it, then rewrite the vector index without its vectors (Chroma's files keep what
        it deletes until rewritten)."""

        def deleted(_: object) -> None:
            self.refresh_conversations()
            self.forget_states()
            memory = self.memory
            if memory is not None:
                self._run(self.index_lane, memory.compact, priority=BACKGROUND, on_error=self._report)

        self._run(
            self.io_lane,
            self.store.delete_conversation,
            conversation_id,
            on_done=deleted,
            on_error=self._report,
        )

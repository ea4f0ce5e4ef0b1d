"""The GUI's single entry point to the core: model lifecycle, sending, streaming and stopping."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.conversations import Conversations
from app.lanes import Lanes
from app.memory_ops import MemoryOps
from app.model_host import MODEL_FIELDS, ModelFactory, ModelHost, ModelState, load_llama
from app.ops import Throttle, call_in_gui, install_relay
from app.preference_ops import PreferenceOps
from app.read_ahead import ReadAhead
from app.reflection import Reflection
from memory.answering.chat import ChatService, ReplyRefused, ReplyResult
from memory.answering.recall_service import Recall
from memory.assistant.assistant import Assistant, Changes
from memory.llm.engine import ChatModel
from memory.preferences.cipher import Cipher
from memory.preferences.preference_store import PreferenceStore
from memory.retrieval.book import MemoryBook
from memory.retrieval.service import MemoryService
from memory.runtime.lane import BACKGROUND, URGENT, SerialLane
from memory.runtime.settings import Settings, SettingsStore
from memory.store.database import Conversation, Message, Store

log = logging.getLogger(__name__)

MemoryFactory = Callable[[Callable[[], bool]], MemoryService]  # takes the "a reply is running" test


class ChatController(QObject):
    """Owns the store, the lanes and the model; the window only calls methods and hears signals."""

    model_state_changed = Signal(object, str)  # ModelState, detail for the user
    load_progressed = Signal(float)
    message_added = Signal(object)  # Message
    reply_text_changed = Signal(int, str)  # message id, text so far (throttled)
    reply_finished = Signal(object)  # ReplyResult
    reply_failed = Signal(int, str)  # conversation id, reason for the user
    not_sent = Signal(str, str)  # the text that was not stored (to give back to the user), reason
    problem = Signal(str)  # something the user should know, not fatal
    reflection_progressed = Signal(str)  # "Reflecting… (1/2)", or "" when done
    memories_changed = Signal()

    def __init__(
        self,
        store: Store,
        settings_store: SettingsStore,
        model_factory: ModelFactory = load_llama,
        model_override: Path | None = None,
        memory_factory: MemoryFactory | None = None,
    ) -> None:
        super().__init__()
        install_relay()
        self.store = store
        self.settings_store = settings_store
        self.settings = settings_store.load()
        self.assistant = Assistant(store)  # the core, wired once (memory/assistant/assistant.py)
        self.lanes = Lanes(report=self._report)
        self.model_lane, self.io_lane, self.index_lane = self.lanes.model, self.lanes.io, self.lanes.index
        self.host = ModelHost(self.lanes, lambda: self.settings, model_factory, model_override)
        self.host.state_changed.connect(self.model_state_changed)
        self.host.load_progressed.connect(self.load_progressed)
        self.host.ready.connect(self.run_reflection)  # jobs queued at the last quit run now
        self.memory_ops = MemoryOps(self)
        self.preference_ops = PreferenceOps(self, settings_store.path.parent / "preferences.md")
        self._opening: MemoryService | None = None
        self.conversations = Conversations(self.assistant, self.lanes, self.forget_states)
        # memories went with the conversation: an open memory browser must not list them, and what
        # other conversations lost with them is learned back by a reflection pass
        self.conversations.deleted.connect(lambda _id: self.memories_changed.emit())
        self.conversations.deleted.connect(lambda _id: self.preference_ops.load())  # proposals it held
        self.reflection = Reflection(
            self.assistant, self.lanes, lambda: self.model, self._model_ready, lambda: self.settings
        )
        self.reflection.progressed.connect(self.reflection_progressed)
        self.conversations.deleted.connect(lambda _id: self.reflection.run())
        self.reflection.memories_changed.connect(self.memories_changed)
        self.reflection.preferences_changed.connect(lambda: self.preference_ops.load(write_file=True))
        self.reflection.problem.connect(self.problem)
        self.read_ahead = ReadAhead(
            self.assistant,
            self.lanes,
            lambda: self.model,
            self._model_ready,
            lambda: self.settings,
            self.reflection,
        )
        self._memory_factory = memory_factory
        self._stop = threading.Event()
        self.last_tokens_per_second = 0.0

    def _run(self, lane: SerialLane, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Submit to a lane unless shut down (Qt may still deliver a callback after shutdown)."""
        self.lanes.run(lane, fn, *args, **kwargs)

    @property
    def _closed(self) -> bool:
        return self.lanes.closed

    # The core's parts, as the assistant holds them (read-only here: it wires them) ----------

    @property
    def chat(self) -> ChatService:
        return self.assistant.chat

    @property
    def preferences(self) -> PreferenceStore:
        return self.assistant.preferences

    @property
    def memory(self) -> MemoryService | None:
        return self.assistant.memory

    @property
    def recall(self) -> Recall | None:
        """Used on the model lane only (it owns the reranker)."""
        return self.assistant.recall

    @property
    def cipher(self) -> Cipher | None:
        return self.assistant.cipher

    # Model (held by the ModelHost) -------------------------------------------------------

    @property
    def state(self) -> ModelState:
        return self.host.state

    @property
    def model_name(self) -> str:
        return self.host.name

    @property
    def model(self) -> ChatModel | None:
        """The loaded model (touch it on the model lane only)."""
        return self.host.model

    def load_model(self) -> None:
        self.host.load()

    def forget_states(self) -> None:
        self.host.forget_states()

    def _set_state(self, state: ModelState, detail: str) -> None:
        self.host.set_state(state, detail)

    def apply_settings(self, settings: Settings) -> None:
        """Save new settings; reload the model only if a setting that shapes it changed."""
        old, self.settings = self.settings, settings.validated()
        self._run(self.io_lane, self.settings_store.save, self.settings, on_error=self._report)
        if any(getattr(old, f) != getattr(self.settings, f) for f in MODEL_FIELDS):
            self.host.override = None
            self.load_model()
        if old.embedding_model_path != self.settings.embedding_model_path:
            self.reopen_memory()

    # Memory --------------------------------------------------------------------------------

    def open_memory(self) -> None:
        """Open the index, check it against SQLite and embed what is missing — all off the GUI thread."""
        if self._memory_factory is None:
            return
        factory = self._memory_factory

        purged_at_start: list[int] = []

        def start() -> MemoryService:
            memory = factory(lambda: self.state == ModelState.GENERATING)
            self._opening = memory  # so shutdown can cancel a long first indexing
            purged = MemoryBook(memory).purge_forgotten()  # forgotten before the last quit: now for good
            memory.start_up()
            if purged:
                memory.compact()
                purged_at_start.append(purged)
            self.assistant.attach(memory)  # answering as the self-test and every benchmark do
            return memory

        def opened(memory: MemoryService) -> None:
            if memory.index_problem:
                self.problem.emit(memory.index_problem)
            self.memories_changed.emit()  # an open memory browser fills in now
            if purged_at_start:
                self.forget_states()
            self.run_reflection()

        self._run(
            self.index_lane, start, on_done=opened, on_error=self._on_memory_failed, priority=BACKGROUND
        )

    def reopen_memory(self) -> None:
        """Close the memory and open it again (another embedder: the index re-embeds everything)."""
        old = self.assistant.detach()

        def close() -> None:
            if old is not None:
                old.close()

        self._run(self.index_lane, close, priority=BACKGROUND, on_done=lambda _: self.open_memory())

    def _model_ready(self) -> bool:
        return self.state == ModelState.READY

    def _on_memory_failed(self, exc: BaseException) -> None:
        log.error("memory could not be opened", exc_info=exc)
        self.problem.emit(f"Search over past conversations is unavailable: {exc}. Chatting still works.")

    def _remember(self, message: Message) -> None:
        """Queue a saved message for indexing; cheap, and never delays a reply."""

        def index() -> None:
            if self.memory is not None:
                self.memory.remember_message(self.store.message(message.id))
                self.memory.indexer.sync()

        self._run(self.index_lane, index, priority=BACKGROUND, on_error=self._report)

    def _report(self, exc: BaseException) -> None:
        log.error("operation failed", exc_info=exc)
        self.problem.emit(f"Something went wrong: {exc}")

    # Reflection (run by self.reflection) --------------------------------------------------

    def reflect(self, conversation_id: int) -> None:
        """Queue the conversation's new turns for reflection; it runs when the model is free."""
        self.reflection.reflect(conversation_id)

    def run_reflection(self) -> None:
        self.reflection.run()

    # Chatting ------------------------------------------------------------------------------

    def can_send(self) -> bool:
        return self.state == ModelState.READY

    def send(
        self,
        conversation_id: int | None,
        text: str,
        on_conversation: Callable[[Conversation], None] = lambda _c: None,
    ) -> None:
        """Commit the message first (io lane; in a new conversation if ``conversation_id`` is None),
        then queue the reply on the model lane. If it can't be stored, ``not_sent`` gives it back."""

        self.reflection.stop.set()  # reflection gives the model back at its next token
        self.read_ahead.sent()  # and so does reading ahead, at its next chunk

        def committed(stored: tuple[Conversation, Message, Changes]) -> None:
            conversation, message, changes = stored
            on_conversation(conversation)
            self.message_added.emit(message)
            self._remember(message)
            if changes.conversations:
                self.conversations.refresh()
            self._start_reply(conversation.id)

        def failed(exc: BaseException) -> None:
            log.warning("a message could not be stored: %s", type(exc).__name__)
            self.not_sent.emit(text, f"Your message could not be saved: {exc}.")

        self._run(
            self.io_lane, self.assistant.send, conversation_id, text, on_done=committed, on_error=failed
        )

    def regenerate(self, conversation_id: int) -> None:
        self.read_ahead.cancel()
        self.forget_states()  # the reply being replaced must not live on in a saved cache
        self._run(
            self.io_lane,
            self.chat.forget_last_reply,
            conversation_id,
            on_done=lambda _: self._start_reply(conversation_id, reload=True),
            on_error=self._report,
        )

    def _start_reply(self, conversation_id: int, reload: bool = False) -> None:
        if self.model is None:
            self.reply_failed.emit(conversation_id, "No model is loaded; your message is saved.")
            return
        self._stop.clear()
        self._set_state(ModelState.GENERATING, "Generating…")
        if reload:
            self.conversations.open(conversation_id)
        self._run(
            self.model_lane,
            self._reply,
            conversation_id,
            self.settings,
            priority=URGENT,
            on_done=self._on_reply_done,
            on_error=lambda exc: self._on_reply_error(conversation_id, exc),
        )

    def _reply(self, conversation_id: int, settings: Settings) -> ReplyResult:
        assert self.model is not None
        throttle = Throttle(lambda pair: call_in_gui(lambda: self.reply_text_changed.emit(*pair)))
        result = self.assistant.reply(
            conversation_id,
            self.model,
            settings,
            should_stop=self._stop.is_set,
            on_started=lambda m: call_in_gui(lambda: self.message_added.emit(m)),
            on_text=lambda mid, text: throttle.push((mid, text)),
        )
        throttle.flush()
        return result

    def _on_reply_done(self, result: ReplyResult) -> None:
        self.last_tokens_per_second = result.stats.tokens_per_second
        self._set_state(ModelState.READY, "Stopped" if result.stats.stopped else "Ready")
        self.reply_finished.emit(result)
        if result.recall_problem:
            self.problem.emit(result.recall_problem)
        self._remember(result.message)
        self.read_ahead.replied(result.message.conversation_id)  # queued first: runs before reflection
        self.run_reflection()  # resume anything the reply pre-empted

    def _on_reply_error(self, conversation_id: int, exc: BaseException) -> None:
        self._set_state(ModelState.READY if self.model else ModelState.ERROR, "Ready")
        reason = str(exc) if isinstance(exc, ReplyRefused) else f"The reply failed: {exc}"
        self.reply_failed.emit(conversation_id, reason)
        self.conversations.open(conversation_id)

    def stop(self) -> None:
        self._stop.set()

    def shutdown(self, current_conversation: int | None = None) -> None:
        """Stop any reply, queue the open conversation for reflection at the next start, finish
        queued writes and free the model."""
        if self._closed:
            return
        self.lanes.closed = True
        self._stop.set()
        self.reflection.stop.set()
        if current_conversation is not None:
            self.io_lane.submit(self.reflection.enqueue, current_conversation)
        self.preference_ops.stop()
        self.host.close()
        self.io_lane.shutdown(wait=True, timeout=10)
        memory = self.memory or self._opening
        if memory is not None:
            memory.indexer.cancelled = True  # unindexed items are picked up at the next start
        self.index_lane.shutdown(wait=True, timeout=30)
        if memory is not None:
            memory.close()
        self.store.close()

"""Reading ahead while the user types: when the composer has been still for a moment, the model lane
chooses the memories for the draft and evaluates the prompt up to where its words begin, so that a
message sent as drafted finds most of its prompt already in llama.cpp's cache (the memory block is
most of a turn's new tokens). Best effort: it gives way to a reply and to newer typing, holds
reflection meanwhile (until the send's reply ends, or the box is left alone for IDLE_MS), and a
failure is only logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QPlainTextEdit

from app.lanes import Lanes
from app.ops import call_in_gui
from app.reflection import Reflection
from memory.answering.recall_service import NEW, same_words
from memory.assistant.assistant import Assistant
from memory.llm.engine import ChatModel
from memory.llm.prefill import ReadsAhead
from memory.runtime.lane import BACKGROUND
from memory.runtime.settings import Settings

log = logging.getLogger(__name__)

# How long the composer must be still before reading ahead: a pause, not every keystroke.
PAUSE_MS = 600
# How long a draft left alone keeps reflection held.
IDLE_MS = 30_000


class ReadAhead(QObject):
    def __init__(
        self,
        assistant: Assistant,
        lanes: Lanes,
        model: Callable[[], ChatModel | None],
        ready: Callable[[], bool],
        settings: Callable[[], Settings],
        reflection: Reflection,
    ) -> None:
        super().__init__()
        self._assistant, self._lanes, self._model, self._ready, self._settings = (
            assistant,
            lanes,
            model,
            ready,
            settings,
        )
        self._draft: tuple[int, str] | None = None
        self._generation = 0  # a job runs only while it is the newest; cancel() moves this on
        self._lock = threading.Lock()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PAUSE_MS)
        self._timer.timeout.connect(self._start)
        # Reflection is held while the user writes (it would take the model the read-ahead needs)
        # and let go once they send (after the reply) or leave the box alone for IDLE_MS.
        self._reflection = reflection
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(IDLE_MS)
        self._idle.timeout.connect(reflection.release)
        self.tokens_cached = 0  # of the last read-ahead that ran (tests read it)
        self._done_for: tuple[int, str] | None = None  # the draft last read ahead in full

    def watch(self, composer: QPlainTextEdit, conversation: Callable[[], int | None]) -> None:
        """Read ahead what is typed in ``composer`` for the conversation open at the time."""
        composer.textChanged.connect(lambda: self.typed(conversation(), composer.toPlainText()))

    def typed(self, conversation_id: int | None, text: str) -> None:
        """The composer changed: read ahead once it has been still for PAUSE_MS."""
        self.cancel()
        if not text.strip():
            self._draft = None  # nothing drafted (sent, or cleared)
            return
        self._draft = (NEW if conversation_id is None else conversation_id, text)  # None: not made yet
        self._timer.start()

    def cancel(self) -> None:
        """Stop any read-ahead at its next chunk (the user typed on)."""
        self._timer.stop()
        if self._idle.isActive():
            self._idle.start()  # still writing: reflection stays held a while longer
        with self._lock:
            self._generation += 1

    def sent(self) -> None:
        """The user sent a message: stop reading ahead; reflection is free again once the reply ends
        (the controller runs it then)."""
        self.cancel()
        self._idle.stop()
        self._done_for = None
        self._reflection.release(run=False)

    def replied(self, conversation_id: int) -> None:
        """A reply ended: read ahead the message typed meanwhile (nothing could be read while
        the reply was due), or else the conversation as the next message will follow it (the last
        turn without its notes), while the user reads and before any reflection the reply held
        up. Typing or sending stops it at its next chunk."""
        if self._timer.isActive():
            return  # a pause is still being waited for: its read comes then
        if self._draft is not None and self._draft[0] == conversation_id:
            self._start()
        elif self._usable():
            self._queue(conversation_id, "")

    def _usable(self) -> bool:
        return (
            self._ready()
            and not self._lanes.closed
            and self._settings().read_ahead  # Settings → Read ahead while I type
            and isinstance(self._model(), ReadsAhead)  # a model server: nothing to gain, keep reflecting
        )

    def _start(self) -> None:
        if self._draft is None or not self._usable():
            return
        conversation_id, text = self._draft
        if self._done_for and self._done_for[0] == conversation_id and same_words(self._done_for[1], text):
            return  # a "?" added: what was read still holds (read again, the choice would change)
        self._reflection.hold()
        self._idle.start()
        self._queue(conversation_id, text)

    def _queue(self, conversation_id: int, text: str) -> None:
        with self._lock:
            generation = self._generation
        self._lanes.run(
            self._lanes.model,
            self._read,
            generation,
            conversation_id,
            text,
            priority=BACKGROUND,  # never inside a reflection pass: it waits for the lane to be free
            on_done=self._done,
            on_error=lambda exc: log.info("read-ahead skipped: %s", exc),
        )

    def _current(self, generation: int) -> bool:
        with self._lock:
            return generation == self._generation

    def _read(self, generation: int, conversation_id: int, text: str) -> int:
        model = self._model()
        if model is None or not self._current(generation) or not self._ready():
            return 0
        cached = self._assistant.read_ahead(
            conversation_id, text, model, self._settings(), should_stop=lambda: not self._current(generation)
        )
        if cached and text and self._current(generation):  # read in full, not cut short by typing
            call_in_gui(lambda: self._finished(conversation_id, text))
        return cached

    def _finished(self, conversation_id: int, text: str) -> None:
        self._done_for = (conversation_id, text)

    def _done(self, cached: int) -> None:
        self.tokens_cached = cached

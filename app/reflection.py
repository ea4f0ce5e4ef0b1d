"""Prospective reflection as the app runs it: queued per conversation, run on the model lane whenever
the model is free, giving way to the user at the next token. The pass itself is the Assistant's
(``memory/assistant/assistant.py``); this object only decides when, and turns what it did into
signals."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.lanes import Lanes, QueryOp
from app.ops import call_in_gui
from memory.assistant.assistant import Assistant, ReflectionPass
from memory.llm.engine import ChatModel
from memory.runtime.lane import BACKGROUND, SerialLane
from memory.runtime.settings import Settings


class Reflection(QObject):
    progressed = Signal(str)  # "Reflecting… (1/2)", or "" when done
    memories_changed = Signal()
    preferences_changed = Signal()  # reflection may have proposed preferences
    problem = Signal(str)

    def __init__(
        self,
        assistant: Assistant,
        lanes: Lanes,
        model: Callable[[], ChatModel | None],
        model_ready: Callable[[], bool],
        settings: Callable[[], Settings],
    ) -> None:
        super().__init__()
        self.assistant = assistant
        self.lanes = lanes
        self._model, self._model_ready, self._settings = model, model_ready, settings
        self.stop = threading.Event()  # set when the user needs the model
        self.running = False
        self.again = False  # a job was queued while a pass ran: look again when it ends
        self.held = False  # the user is writing: no pass starts until release()

    def reflect(self, conversation_id: int) -> None:
        """Queue the conversation's new turns for reflection; it runs when the model is free. Asked
        for (Remember now, or leaving the conversation), it is no longer held for a draft."""
        self.held = False
        op = QueryOp(self.lanes.io, self.enqueue, conversation_id)
        op.success(lambda _: self.run()).failure(self.lanes.report).run(self.lanes)

    def enqueue(self, conversation_id: int) -> object:
        """(io lane) The conversation's unreflected turns as a job, if the memory is open."""
        if self.assistant.memory is None:
            return None
        return self.assistant.jobs(self._settings().auto_accept_preferences).enqueue(conversation_id)

    def hold(self) -> None:
        """The user is writing a message: the pass gives way at its next token and none starts
        (the model is kept for reading the message ahead and for its reply)."""
        self.held = True
        self.stop.set()

    def release(self, run: bool = True) -> None:
        """Reflection may run again (now, unless ``run`` is False: the reply's end starts it)."""
        self.held = False
        if run:
            self.run()

    def run(self) -> None:
        """Work through queued reflection jobs on the model lane, giving way to any user message."""
        if self.held:
            return
        if self.running:
            self.again = True  # a job queued now may be past the running pass's last look
            return
        if self.assistant.memory is None or self._model() is None or not self._model_ready():
            return
        self.running, self.again = True, False
        self.stop.clear()
        op = QueryOp(self.lanes.model, self._pass).in_background()
        op.success(self.finished).failure(self.finished).run(self.lanes)

    def _pass(self) -> ReflectionPass:
        """(model lane) Queued jobs, giving way to the user; what they did says what to refresh."""
        model, memory = self._model(), self.assistant.memory
        assert model is not None and memory is not None

        def progress(step: int, total: int) -> None:
            call_in_gui(lambda: self.progressed.emit(f"Reflecting… ({step}/{total})"))

        return self.assistant.reflect_pending(
            GivesWay(model, self.lanes.model),
            self._settings(),
            should_stop=self.stop.is_set,
            on_progress=progress,
            after_job=lambda: self.lanes.index.submit(memory.indexer.sync, priority=BACKGROUND),
        )

    def finished(self, result: object) -> None:
        """(GUI) A pass ended: look again if asked to, and say what changed."""
        self.running = False
        if self.lanes.closed:
            return
        if self.again:
            self.run()
        if not self.running:
            self.progressed.emit("")
        if isinstance(result, BaseException):
            self.lanes.report(result)
            return
        assert isinstance(result, ReflectionPass)
        if result.changes.memories:
            self.memories_changed.emit()
        if result.changes.preferences:
            self.preferences_changed.emit()
        if result.parked:  # only those given up on in this run: older ones were reported already
            self.problem.emit(
                f"{len(result.parked)} conversation(s) could not be turned into memories: {result.parked[-1]}"
            )


class GivesWay:
    """The model as reflection sees it: before each of its calls, what the user asked of the model
    lane meanwhile (feedback to learn, a ranking reset, an edited reply) runs first."""

    def __init__(self, model: ChatModel, lane: SerialLane) -> None:
        self.model = model
        self._lane = lane

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def complete_json(self, messages: list[dict[str, str]], schema: dict[str, Any], **kwargs: Any) -> Any:
        self._lane.run_waiting()
        return self.model.complete_json(messages, schema, **kwargs)

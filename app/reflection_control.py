"""Prospective reflection as the controller runs it: queued per conversation, run on the model lane
whenever the model is free, giving way to the user at the next token."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from app.ops import call_in_gui
from memory.assistant.assistant import ReflectionPass
from memory.runtime.lane import BACKGROUND

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtCore import SignalInstance

    from app.controller_api import PreferencesReload
    from memory.assistant.assistant import Assistant
    from memory.llm.engine import ChatModel
    from memory.reflection.jobs import ReflectionJobs
    from memory.retrieval.service import MemoryService
    from memory.runtime.lane import SerialLane
    from memory.runtime.settings import Settings
    from memory.store.database import Store


class ReflectionControl:
    """The reflection half of :class:`app.controller.ChatController` (a mixin: same object)."""

    if TYPE_CHECKING:  # provided by the controller
        store: Store
        settings: Settings

        @property
        def memory(self) -> MemoryService | None: ...

        model_lane: SerialLane
        index_lane: SerialLane
        preference_ops: PreferencesReload
        assistant: Assistant
        reflection_progressed: SignalInstance
        memories_changed: SignalInstance
        problem: SignalInstance
        io_lane: SerialLane

        @property
        def model(self) -> ChatModel | None: ...
        @property
        def _closed(self) -> bool: ...

        def _run(self, lane: SerialLane, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None: ...
        def _report(self, exc: BaseException) -> None: ...
        def _model_ready(self) -> bool: ...

    def _init_reflection(self) -> None:
        self._reflect_stop = threading.Event()  # set when the user needs the model
        self._reflecting = False
        self._reflect_again = False

    def reflect(self, conversation_id: int) -> None:
        """Queue the conversation's new turns for reflection; it runs when the model is free."""
        self._run(
            self.io_lane,
            self._enqueue,
            conversation_id,
            on_done=lambda _: self.run_reflection(),
            on_error=self._report,
        )

    def _enqueue(self, conversation_id: int) -> object:
        if self.memory is None:
            return None
        return self._jobs().enqueue(conversation_id)

    def _jobs(self) -> ReflectionJobs:
        return self.assistant.jobs(self.settings.auto_accept_preferences)

    def run_reflection(self) -> None:
        """Work through queued reflection jobs on the model lane, giving way to any user message."""
        if self._reflecting:
            self._reflect_again = True  # a job queued now may be past the running pass's last look
            return
        if self.memory is None or self.model is None or not self._model_ready():
            return
        self._reflecting = True
        self._reflect_again = False
        self._reflect_stop.clear()
        self._run(
            self.model_lane,
            self._reflect_pending,
            priority=BACKGROUND,
            on_done=self._on_reflected,
            on_error=self._on_reflected,
        )

    def _reflect_pending(self) -> ReflectionPass:
        """Run queued jobs, giving way to the user; what they did says what to refresh."""
        assert self.model is not None
        memory = self.memory
        assert memory is not None

        def progress(step: int, total: int) -> None:
            call_in_gui(lambda: self.reflection_progressed.emit(f"Reflecting… ({step}/{total})"))

        return self.assistant.reflect_pending(
            GivesWay(self.model, self.model_lane),
            self.settings,
            should_stop=self._reflect_stop.is_set,
            on_progress=progress,
            after_job=lambda: self.index_lane.submit(memory.indexer.sync, priority=BACKGROUND),
        )

    def _on_reflected(self, result: object) -> None:
        self._reflecting = False
        if self._closed:
            return
        if self._reflect_again:
            self.run_reflection()
        if not self._reflecting:
            self.reflection_progressed.emit("")
        if isinstance(result, BaseException):
            self._report(result)
            return
        assert isinstance(result, ReflectionPass)
        changes, parked = result.changes, result.parked
        if changes.memories:
            self.memories_changed.emit()
        if changes.preferences:
            self.preference_ops.load(write_file=True)
        if parked:  # only those given up on in this run: older ones were reported already
            self.problem.emit(
                f"{len(parked)} conversation(s) could not be turned into memories: {parked[-1]}"
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

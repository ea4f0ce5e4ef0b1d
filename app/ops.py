"""Runs core calls on a lane and delivers their results back on the GUI thread."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from memory.runtime.lane import NORMAL, SerialLane

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Emitted from any thread; the slot runs on the thread that owns the relay (the GUI's)."""

    fired = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.fired.connect(self._call)

    @Slot(object)
    def _call(self, fn: Callable[[], None]) -> None:
        fn()


_relay: _Relay | None = None


def call_in_gui(fn: Callable[[], None]) -> None:
    """Schedule ``fn`` on the GUI thread (safe to call from any thread)."""
    global _relay
    if _relay is None:
        raise RuntimeError("install_relay() must be called on the GUI thread first")
    _relay.fired.emit(fn)


def install_relay() -> None:
    global _relay
    if _relay is None:
        _relay = _Relay()


def run(
    lane: SerialLane,
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    priority: int = NORMAL,
) -> Future[Any]:
    """Run ``fn(*args)`` on ``lane``; call ``on_done(result)`` or ``on_error(exc)`` on the GUI thread."""
    future = lane.submit(fn, *args, priority=priority)

    def deliver(done: Future[Any]) -> None:
        if done.cancelled():  # dropped at shutdown (SerialLane.cancel_queued): nobody waits for it
            return
        exc = done.exception()
        if exc is None:
            if on_done is not None:
                call_in_gui(lambda: on_done(done.result()))
        elif on_error is not None:
            call_in_gui(lambda: on_error(exc))
        else:
            log.error("background job failed", exc_info=exc)

    future.add_done_callback(deliver)
    return future


class Throttle:
    """Passes on at most one value per ``interval`` seconds; ``flush`` sends the latest one.

    Called on the model lane for every token, so repaints never slow generation.
    """

    def __init__(self, emit: Callable[[Any], None], interval: float = 0.05) -> None:
        self._emit = emit
        self.interval = interval
        self._last = 0.0
        self._pending: Any = None
        self._has_pending = False

    def push(self, value: Any) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._has_pending = False
            self._emit(value)
        else:
            self._pending, self._has_pending = value, True

    def flush(self) -> None:
        if self._has_pending:
            self._has_pending = False
            self._emit(self._pending)

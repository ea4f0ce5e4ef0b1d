"""A serial worker lane: one thread that owns a resource and runs jobs on it in order."""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

# Lower numbers run first: a user's reply must never wait behind background work.
URGENT, NORMAL, BACKGROUND = 0, 10, 20


class SerialLane:
    """Runs submitted callables one at a time, by priority then submission order.

    llama.cpp objects are not thread-safe, so every call on the model goes through one lane.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: queue.PriorityQueue[tuple[int, int, Any]] = queue.PriorityQueue()
        self._counter = itertools.count()
        self._thread = threading.Thread(target=self._run, name=f"lane-{name}", daemon=True)
        self._closed = False
        self._thread.start()

    def submit(self, fn: Callable[..., T], *args: Any, priority: int = NORMAL) -> Future[T]:
        if self._closed:
            raise RuntimeError(f"lane {self.name} is shut down")
        future: Future[T] = Future()
        self._queue.put((priority, next(self._counter), (future, fn, args)))
        return future

    def _run(self) -> None:
        while True:
            _, _, item = self._queue.get()
            if item is None:
                return
            self._execute(item)

    def _execute(self, item: Any) -> None:
        future, fn, args = item
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # delivered to whoever waits on the future
            log.debug("job on lane %s failed", self.name, exc_info=True)
            future.set_exception(exc)

    def run_waiting(self, below: int = BACKGROUND) -> int:
        """From inside a long job on this lane (reflection, between its model calls): run what was
        queued meanwhile with a priority under ``below`` — what the user asked for — and return to
        the job. Returns how many ran. Only on the lane's own thread."""
        if threading.current_thread() is not self._thread:
            raise RuntimeError(f"run_waiting belongs to lane {self.name}'s own thread")
        ran = 0
        while True:
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                return ran
            if entry[0] >= below or entry[2] is None:
                self._queue.put(entry)  # the same (priority, order): its place is kept
                return ran
            self._execute(entry[2])
            ran += 1

    def cancel_queued(self, from_priority: int = BACKGROUND) -> int:
        """Cancel the jobs not yet started whose priority is ``from_priority`` or lower (a larger
        number); the others keep their place. Returns how many were cancelled."""
        kept, cancelled = [], 0
        while True:
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                break
            if entry[2] is not None and entry[0] >= from_priority and entry[2][0].cancel():
                cancelled += 1
            else:
                kept.append(entry)
        for entry in kept:
            self._queue.put(entry)
        return cancelled

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> None:
        """Stop after the jobs already queued (the sentinel sorts after every priority)."""
        if self._closed:
            return
        self._closed = True
        self._queue.put((1 << 30, next(self._counter), None))
        if wait:
            self._thread.join(timeout)

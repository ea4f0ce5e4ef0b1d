"""The app's three serial lanes and how the GUI puts work on them.

One lane owns the model (llama.cpp is not thread-safe), one does the disk work the GUI asks for, one
embeds and indexes at low priority. :class:`Lanes` is handed to every part of the app that needs to
run something off the GUI thread, so none of them reaches into another's private members, and
:class:`QueryOp` is the one shape such a call takes (after Anki's ``QueryOp``)::

    QueryOp(lanes.io, store.conversations).success(show).failure(say_why).run(lanes)

The result or the error comes back on the GUI thread; after :meth:`Lanes.shutdown`, nothing new is
started (Qt may still deliver a click that was already queued).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from app.ops import run
from memory.runtime.lane import BACKGROUND, NORMAL, URGENT, SerialLane

log = logging.getLogger(__name__)


class Lanes:
    def __init__(
        self, report: Callable[[BaseException], None] = lambda exc: log.error("failed", exc_info=exc)
    ):
        self.model = SerialLane("model")  # the only thread that touches the model
        self.io = SerialLane("io")  # disk reads and writes the GUI asks for
        self.index = SerialLane("index")  # embedding and the vector index, at low priority
        self.report = report  # tells the user something failed (operations pass it as on_error)
        self.closed = False

    def run(
        self,
        lane: SerialLane,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        priority: int = NORMAL,
    ) -> None:
        """``fn(*args)`` on ``lane``; ``on_done(result)`` or ``on_error(exc)`` on the GUI thread (an
        error nobody handles is logged)."""
        if not self.closed:
            run(lane, fn, *args, on_done=on_done, on_error=on_error, priority=priority)

    def shutdown(self, timeout: float = 10) -> None:
        self.closed = True
        self.io.shutdown(wait=True, timeout=timeout)
        self.index.shutdown(wait=True, timeout=timeout)


class QueryOp:
    """One call off the GUI thread, built up and then run: what to do with its result, with its
    error (without a handler it is logged), and how urgent it is."""

    def __init__(self, lane: SerialLane, fn: Callable[..., Any], *args: Any) -> None:
        self._lane, self._fn, self._args = lane, fn, args
        self._success: Callable[[Any], None] | None = None
        self._failure: Callable[[BaseException], None] | None = None
        self._priority = NORMAL

    def success(self, fn: Callable[[Any], None]) -> QueryOp:
        self._success = fn
        return self

    def failure(self, fn: Callable[[BaseException], None]) -> QueryOp:
        self._failure = fn
        return self

    def urgent(self) -> QueryOp:
        """Ahead of queued background work on its lane (the user is waiting for it)."""
        self._priority = URGENT
        return self

    def in_background(self) -> QueryOp:
        """Behind anything the user asked for on its lane."""
        self._priority = BACKGROUND
        return self

    def run(self, lanes: Lanes) -> None:
        lanes.run(
            self._lane,
            self._fn,
            *self._args,
            on_done=self._success,
            on_error=self._failure,
            priority=self._priority,
        )

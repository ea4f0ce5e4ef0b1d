"""Start background work once the window shows its first conversation.

Loading the model and the memory keeps two threads busy with imports, file reads and
decompression. The window's first layout is many small Python calls, and Python runs one thread
at a time: measured, the first frame took 60–180 ms of the GUI thread instead of ~12 when the two
overlapped. Starting the loads a frame later costs nothing a user can see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from app.window import MainWindow


class _AfterPaint(QObject):
    """Calls back once, just after ``widget`` next paints (or after ``fallback_ms``)."""

    def __init__(self, widget: QWidget, callback: Callable[[], None], fallback_ms: int) -> None:
        super().__init__(widget)
        self._widget = widget
        self._callback: Callable[[], None] | None = callback
        widget.installEventFilter(self)
        QTimer.singleShot(fallback_ms, self, self._fire)  # a minimised window never paints

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._callback is not None:
            QTimer.singleShot(0, self, self._fire)  # after this paint, not inside it
        return False

    def _fire(self) -> None:
        callback, self._callback = self._callback, None
        if callback is not None:
            self._widget.removeEventFilter(self)
            callback()


def when_first_view_drawn(window: MainWindow, callback: Callable[[], None], fallback_ms: int = 1500) -> None:
    """Call ``callback`` once, after the window has drawn its first conversation (or found none)."""
    viewport = window.transcript.viewport()
    controller = window.controller

    def arm(wait_ms: int = fallback_ms) -> None:
        if hooks:  # first call only: later conversations are not "the first view"
            controller.conversations.listed.disconnect(hooks.pop(0))
            controller.conversations.messages_loaded.disconnect(hooks.pop(0))
            _AfterPaint(viewport, callback, wait_ms)

    def conversations(items: list[Any]) -> None:
        if not items:
            arm(0)  # nothing to lay out: no reason to wait for a paint

    def messages(*_: Any) -> None:
        arm()

    hooks: list[Callable[..., None]] = [conversations, messages]
    # Connected after the window's own slots, so the transcript is filled before this arms.
    controller.conversations.listed.connect(conversations)
    controller.conversations.messages_loaded.connect(messages)
    QTimer.singleShot(fallback_ms, window, arm)  # the store answers slowly: don't wait for it

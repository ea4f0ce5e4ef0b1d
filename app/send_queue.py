"""A message sent while the model is busy (a reply streaming, or the model still loading) waits in
the composer and goes out as soon as the model is ready: the user need not watch for the end of
the reply and press Enter again.

It stays in the box while it waits, so nothing is lost whatever happens: editing it, or moving to
another conversation, takes it out of the queue and it is sent only when the user says so again.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QPlainTextEdit, QPushButton, QStatusBar

WAITING = "Queued: it is sent as soon as the model is free. Edit it to take it out of the queue."


class SendQueue(QObject):
    """One waiting message: the composer's text for one conversation, sent when the model is ready."""

    released = Signal(str)  # the text, to be sent now

    def __init__(
        self,
        composer: QPlainTextEdit,
        button: QPushButton,
        status: QStatusBar,
        conversation: Callable[[], int | None],
    ) -> None:
        super().__init__(composer)
        self._composer, self._button, self._status, self._conversation = (
            composer,
            button,
            status,
            conversation,
        )
        self._held: tuple[int | None, str] | None = None
        composer.textChanged.connect(self._edited)

    @property
    def waiting(self) -> str | None:
        """The text waiting to be sent, if any."""
        return None if self._held is None else self._held[1]

    def hold(self, text: str) -> None:
        """Keep ``text`` (the composer's) to send once the model is ready."""
        self._held = (self._conversation(), text)
        self._button.setText("Queued")
        self._status.showMessage(WAITING)

    def cancel(self, why: str = "") -> None:
        if self._held is None:
            return
        self._held = None
        self._button.setText("Send")
        if self._status.currentMessage() == WAITING:
            self._status.clearMessage()
        if why:
            self._status.showMessage(why, 5000)

    def ready(self) -> None:
        """The model can take a message: send the waiting one, after the handlers of the reply that
        just ended have run (the state changes before the reply's end is announced)."""
        if self._held is not None:
            QTimer.singleShot(0, self._release)

    def _release(self) -> None:
        if self._held is None:
            return
        conversation, text = self._held
        if conversation != self._conversation():
            self.cancel("Not sent: you moved to another conversation. It is still in the box.")
            return
        self.cancel()
        self.released.emit(text)

    def _edited(self) -> None:
        if self._held is not None and self._composer.toPlainText() != self._held[1]:
            self.cancel("Taken out of the queue: press Enter to send it when you are ready.")

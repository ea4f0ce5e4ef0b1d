"""The main window's attributes as its own parts see them, and the :class:`app.navigation.Navigation`
it gives its actions, declared apart from the window so that nothing imports the window back."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QWidget

from app.controller import ChatController
from app.conversation_panel import ConversationPanel
from app.layout import side_width
from app.models import TranscriptModel
from app.navigation import MenuName
from app.transcript import TranscriptView


class WindowBase(QMainWindow):
    """The main window as its parts see it (:class:`app.window.MainWindow` builds all of these), and
    the navigation its actions get."""

    controller: ChatController
    conversations: ConversationPanel
    transcript_model: TranscriptModel
    transcript: TranscriptView
    current_id: int | None
    file_menu: QMenu
    chat_menu: QMenu
    memory_menu: QMenu
    jump_to: Callable[[int, int], None]  # open a conversation at a message
    jump_to_message: Callable[[int], None]  # the same, found by the message alone

    # Navigation ------------------------------------------------------------------------------

    def dialog_parent(self) -> QWidget:
        return self

    def tell(self, text: str, ms: int = 5000) -> None:
        self.statusBar().showMessage(text, ms)

    def current_conversation(self) -> tuple[int, str] | None:
        if self.current_id is None:
            return None
        return self.current_id, self.conversations.title_of(self.current_id)

    def close_conversation(self) -> None:
        self.current_id = None
        self.transcript_model.set_messages(None, [])

    def add_side_panel(self, dock: QDockWidget) -> None:
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.hide()

    def widen_side_panel(self, dock: QDockWidget, width: int) -> None:
        self.resizeDocks([dock], [side_width(self, width)], Qt.Orientation.Horizontal)

    def add_status_widget(self, widget: QWidget) -> None:
        self.statusBar().addPermanentWidget(widget)

    def menu(self, name: MenuName) -> QMenu:
        return {"file": self.file_menu, "conversation": self.chat_menu, "memory": self.memory_menu}[name]

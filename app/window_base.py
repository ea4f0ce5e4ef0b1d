"""What the window's helpers (the memory and preference actions) may use of it, declared apart from
the window so that they need not import it back (no import circle)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMainWindow, QMenu

from app.controller import ChatController
from app.conversation_panel import ConversationPanel
from app.models import TranscriptModel
from app.transcript import TranscriptView


class WindowBase(QMainWindow):
    """The main window as its helpers see it: its controller, menus, current conversation and
    navigation (:class:`app.window.MainWindow` provides all of them)."""

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

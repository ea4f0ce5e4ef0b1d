"""How the main window shares its width: the chat column first, the side panels with what is left."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow, QSplitter

CHAT_MIN_WIDTH = 480  # a reply and its receipt buttons, readable side by side
SIDE_MIN_WIDTH = 320
SCREEN_SHARE = 0.8  # of the screen's free area, on the first start


def side_width(window: QMainWindow, wanted: int) -> int:
    """The side area's width: ``wanted`` if the chat keeps its minimum beside it, else what is left
    (never below a usable panel)."""
    central = window.centralWidget()
    first = central.widget(0) if isinstance(central, QSplitter) else None
    conversations = first.width() if first is not None else 0
    room = window.width() - conversations - CHAT_MIN_WIDTH - 24  # splitter handles and margins
    return max(SIDE_MIN_WIDTH, min(wanted, room))

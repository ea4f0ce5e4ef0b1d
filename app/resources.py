"""The window icon and the stylesheet, read from the ``resources`` package (one lookup, frozen or not)."""

from __future__ import annotations

from PySide6.QtGui import QIcon, QPixmap

from memory.runtime.resources import resource


def app_icon() -> QIcon:
    # PNG, not the SVG source: it needs no image plugin, so it shows the same frozen or not. Read as
    # bytes, so the icon needs no file path (a resource need not be a file on disk).
    pixmap = QPixmap()
    pixmap.loadFromData(resource("icons", "memoir.png").read_bytes(), "PNG")
    return QIcon(pixmap)


def stylesheet() -> str:
    sheet = resource("style.qss")
    return sheet.read_text(encoding="utf-8") if sheet.is_file() else ""

"""What the window's actions may ask of it: the window, seen small.

The memory and preference actions, and the welcome, are given a :class:`Navigation` (and the
controller) rather than the window: where the user is, taking them somewhere, telling them
something, and a place for their panels and menu items. :class:`app.window_base.WindowBase`
provides it, so none of them imports the window (no import circle) or reaches into its widgets.
"""

from __future__ import annotations

from typing import Literal, Protocol

from PySide6.QtWidgets import QDockWidget, QMenu, QWidget

MenuName = Literal["file", "conversation", "memory"]


class Navigation(Protocol):
    def dialog_parent(self) -> QWidget:
        """The widget dialogs open over."""
        ...

    def tell(self, text: str, ms: int = 5000) -> None:
        """A passing message in the status bar."""
        ...

    def current_conversation(self) -> tuple[int, str] | None:
        """The open conversation's id and title, if one is open."""
        ...

    def jump_to(self, conversation_id: int, message_id: int) -> None:
        """Open a conversation at a message."""
        ...

    def jump_to_message(self, message_id: int) -> None:
        """The same, found by the message alone."""
        ...

    def close_conversation(self) -> None:
        """Show no conversation (after everything was deleted)."""
        ...

    def add_side_panel(self, dock: QDockWidget) -> None:
        """Dock a panel on the side, hidden until asked for."""
        ...

    def widen_side_panel(self, dock: QDockWidget, width: int) -> None:
        """Give a shown side panel about ``width`` pixels (less on a small screen)."""
        ...

    def add_status_widget(self, widget: QWidget) -> None: ...

    def menu(self, name: MenuName) -> QMenu: ...

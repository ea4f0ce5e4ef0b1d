"""How the main window shares its width: the chat column first, the side panels with what is left."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QSplitter

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


def fit_screen(window: QMainWindow) -> None:
    """The first start: most of the screen, centred (the default size is for no screen)."""
    screen = window.screen() or QApplication.primaryScreen()
    if screen is None:
        return
    free = screen.availableGeometry()
    width = max(min(free.width(), 900), int(free.width() * SCREEN_SHARE))
    height = max(min(free.height(), 600), int(free.height() * SCREEN_SHARE))
    window.resize(width, height)
    window.move(free.center() - window.rect().center())


def restore_geometry(window: QMainWindow, splitter: QSplitter, ui_state: QSettings | None) -> None:
    """The size, place and column widths the user left, or the first start's fit to the screen."""
    geometry = ui_state.value("geometry") if ui_state is not None else None
    if geometry is None or not window.restoreGeometry(geometry):
        fit_screen(window)
    if ui_state is not None and (columns := ui_state.value("splitter")) is not None:
        splitter.restoreState(columns)


def save_geometry(window: QMainWindow, splitter: QSplitter, ui_state: QSettings | None) -> None:
    if ui_state is not None:
        ui_state.setValue("geometry", window.saveGeometry())
        ui_state.setValue("splitter", splitter.saveState())


def in_front(dock: QDockWidget) -> bool:
    """Shown, and not as a tab behind another panel (Qt counts that as visible too)."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def panel_action(dock: QDockWidget, text: str, shortcut: str) -> QAction:
    """The menu item for a side panel: it opens the panel in front, and closes it only when it is in
    front. Qt's toggleViewAction closes a panel whose tab is behind another one, and opens one behind
    the tab that was showing (seen under Xvfb: Ctrl+Shift+M with Preferences open did nothing visible)."""
    action = QAction(text, dock, checkable=True)
    action.setShortcut(QKeySequence(shortcut))

    def triggered() -> None:
        if in_front(dock):
            dock.hide()
        else:
            dock.show()
            dock.raise_()
        action.setChecked(dock.isVisible())

    action.triggered.connect(triggered)
    dock.visibilityChanged.connect(lambda _shown: action.setChecked(not dock.isHidden()))
    return action

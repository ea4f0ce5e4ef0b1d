"""The window stays readable: panels share one side area as tabs, the chat keeps its width, and the
first start fits the window to the screen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication, QTabBar
from pytestqt.qtbot import QtBot

from app.layout import CHAT_MIN_WIDTH, SCREEN_SHARE
from app.window import MainWindow
from tests.fake_model import FakeChatModel
from tests.gui import make_window


def test_with_every_panel_open_the_chat_keeps_its_width(qtbot: QtBot, memoir_home: Path) -> None:
    w = make_window(qtbot, memoir_home, FakeChatModel(["Hi."]))
    w.resize(1100, 760)
    w.memory_actions.browser_action.trigger()  # before the memory has opened: no error, no dialog
    w.preference_actions.panel_action.trigger()
    qtbot.waitUntil(lambda: w.controller.memory is not None)
    QApplication.processEvents()
    assert w.tabifiedDockWidgets(w.memory_actions.dock) == [w.preference_actions.dock]
    assert w.transcript.width() >= CHAT_MIN_WIDTH - 20  # the column's margins and the input buttons
    assert w.memory_actions.dock.width() >= 320
    assert w.preference_actions.dock.isVisible()  # the panel opened last is the tab in front
    w.memory_actions.dock.raise_()
    qtbot.waitUntil(lambda: w.memory_actions.dock.isVisible())
    w.controller.shutdown()


def front(w: MainWindow) -> str:
    """The title of the side panel whose tab is in front."""
    [bar] = [b for b in w.findChildren(QTabBar) if b.count() > 1 and b.isVisible()]
    return bar.tabText(bar.currentIndex())


def test_the_panel_opened_last_is_in_front_whichever_came_first(qtbot: QtBot, memoir_home: Path) -> None:
    """Seen under Xvfb: with Preferences open, Ctrl+Shift+M added the memory tab behind it."""
    w = make_window(qtbot, memoir_home, FakeChatModel(["Hi."]))
    w.resize(1100, 760)
    qtbot.waitUntil(lambda: w.controller.memory is not None)
    w.preference_actions.panel_action.trigger()
    qtbot.waitUntil(lambda: w.preference_actions.dock.isVisible())
    w.memory_actions.browser_action.trigger()
    qtbot.waitUntil(lambda: front(w) == "Memory")
    assert w.preference_actions.dock.visibleRegion().isEmpty()  # behind the memory tab
    w.preference_actions.panel_action.trigger()  # behind: brought to the front, not closed
    qtbot.waitUntil(lambda: front(w) == "Preferences")
    assert w.preference_actions.panel_action.isChecked()
    w.preference_actions.panel_action.trigger()  # in front: closed
    qtbot.waitUntil(lambda: w.preference_actions.dock.isHidden())
    assert not w.preference_actions.panel_action.isChecked() and w.memory_actions.dock.isVisible()
    w.controller.shutdown()


def test_the_first_start_fits_the_screen(qtbot: QtBot, memoir_home: Path) -> None:
    w = make_window(qtbot, memoir_home, FakeChatModel(["Hi."]))
    free = w.screen().availableGeometry()
    assert w.width() >= min(free.width(), int(free.width() * SCREEN_SHARE))
    assert free.contains(w.frameGeometry().center())
    w.controller.shutdown()

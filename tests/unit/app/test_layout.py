"""The window stays readable: panels share one side area as tabs, the chat keeps its width, and the
first start fits the window to the screen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.layout import CHAT_MIN_WIDTH, SCREEN_SHARE
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


def test_the_first_start_fits_the_screen(qtbot: QtBot, memoir_home: Path) -> None:
    w = make_window(qtbot, memoir_home, FakeChatModel(["Hi."]))
    free = w.screen().availableGeometry()
    assert w.width() >= min(free.width(), int(free.width() * SCREEN_SHARE))
    assert free.contains(w.frameGeometry().center())
    w.controller.shutdown()

"""Background loading starts once the window has drawn its first conversation."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.controller import ChatController
from app.first_paint import when_first_view_drawn
from app.window import MainWindow
from memory.runtime.settings import SettingsStore
from memory.store.database import Store


def open_window(qtbot: QtBot, home: Path, conversations: int, show: bool = True) -> MainWindow:
    home.mkdir(parents=True, exist_ok=True)
    store = Store(home / "memoir.db")
    for n in range(conversations):
        conversation = store.create_conversation(f"Talk {n}")
        store.add_message(conversation.id, "user", f"Hello number {n}")
    window = MainWindow(ChatController(store, SettingsStore(home / "settings.json")))
    qtbot.addWidget(window)
    if show:
        window.show()
    return window


def test_starts_after_the_first_conversation_is_on_screen(qtbot: QtBot, tmp_path: Path) -> None:
    window = open_window(qtbot, tmp_path, conversations=2)
    seen: list[int] = []
    when_first_view_drawn(window, lambda: seen.append(window.transcript_model.rowCount()))
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert seen == [1], "it should fire once, with the conversation's messages already in place"
    qtbot.wait(300)
    assert seen == [1]
    window.controller.shutdown()


def test_starts_when_there_is_nothing_to_show(qtbot: QtBot, tmp_path: Path) -> None:
    window = open_window(qtbot, tmp_path, conversations=0)
    seen: list[bool] = []
    when_first_view_drawn(window, lambda: seen.append(True), fallback_ms=60_000)
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    window.controller.shutdown()


def test_a_window_that_never_paints_still_starts(qtbot: QtBot, tmp_path: Path) -> None:
    window = open_window(qtbot, tmp_path, conversations=1, show=False)  # e.g. started minimised
    seen: list[bool] = []
    when_first_view_drawn(window, lambda: seen.append(True), fallback_ms=200)
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert seen == [True]
    window.controller.shutdown()

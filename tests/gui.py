"""Building the main window for GUI tests: a controller over a temporary data folder with a scripted
model and a fake embedder, shown through qtbot; and typing a message the way a user sends one."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.controller import ChatController
from app.window import MainWindow
from memory.llm.engine import ModelError
from memory.retrieval.service import MemoryService
from memory.runtime.settings import SettingsStore
from memory.store.database import Store
from tests.fake_model import FakeChatModel
from tests.fakes import FakeEmbedder

REPLY = "Here is a list:\n\n- **bold** item\n- `code` item\n\n| a | b |\n|---|---|\n| 1 | 2 |"


def make_window(qtbot: QtBot, home: Path, model: FakeChatModel | None, error: str = "") -> MainWindow:
    def factory(path: Path, settings: object, progress: object) -> FakeChatModel:
        if error:
            raise ModelError(error)
        assert model is not None
        return model

    home.mkdir(parents=True, exist_ok=True)
    store = Store(home / "memoir.db")
    controller = ChatController(
        store,
        SettingsStore(home / "settings.json"),
        model_factory=factory,
        model_override=home / "fake.gguf",
        memory_factory=lambda busy: MemoryService(store, home / "index", FakeEmbedder(), busy),
    )
    window = MainWindow(controller)
    qtbot.addWidget(window)
    window.show()
    controller.load_model()
    controller.open_memory()
    return window


def type_and_send(qtbot: QtBot, window: MainWindow, text: str) -> None:
    window.composer.setFocus()
    window.composer.setPlainText(text)
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)

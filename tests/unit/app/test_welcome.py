"""The first start's welcome: what Memoir keeps and where, how to see, correct and forget it, and the
chat models already on this computer — one of which can be chosen there and is loaded at once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.controller import ModelState
from app.welcome import WelcomeDialog, show_welcome, welcome_text
from memory.llm import discovery
from memory.llm.default_model import default_model_path
from tests.fake_model import FakeChatModel
from tests.gui import make_window


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home folder: only what a test puts there is found."""
    monkeypatch.setattr(discovery, "_home", lambda: tmp_path / "home")
    for var in ("OLLAMA_MODELS", "HF_HUB_CACHE", "XDG_DATA_HOME", "LOCALAPPDATA", "APPDATA"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "home"


def test_the_welcome_says_what_is_kept_where_and_how_to_forget_it(tmp_path: Path) -> None:
    text = welcome_text(tmp_path / "data")
    assert str(tmp_path / "data") in text
    for words in ("your own words", "never", "Memory", "Preferences", "Forget", "Delete Everything"):
        assert words in text


def test_with_no_other_model_it_starts_with_the_built_in_one(qtbot: QtBot, home: Path) -> None:
    dialog = WelcomeDialog(home / "data", [])
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "No other chat models" in dialog.found.text(), timeout=10000)
    assert dialog.list.isHidden() and dialog.use.isHidden()


def test_a_model_found_on_this_computer_can_be_chosen_and_is_loaded(
    qtbot: QtBot, home: Path, memoir_home: Path
) -> None:
    packaged = default_model_path()
    assert packaged is not None
    folder = home / "models"
    folder.mkdir(parents=True)
    os.symlink(packaged, folder / "my-model.gguf")
    window = make_window(qtbot, memoir_home, FakeChatModel(["ok"]))
    qtbot.waitUntil(lambda: window.controller.state == ModelState.READY)
    window.controller.settings.model_folders = str(folder)
    show_welcome(window, window.controller)
    dialog = window.findChild(WelcomeDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.list.count() == 1, timeout=10000)
    assert "my-model" in dialog.list.item(0).text() and "Your folder" in dialog.list.item(0).text()
    assert not dialog.use.isEnabled()  # nothing chosen yet
    dialog.list.setCurrentRow(0)
    assert dialog.use.isEnabled()
    dialog.use.click()
    assert window.controller.settings.model_path == str(folder / "my-model.gguf")
    window.controller.shutdown()

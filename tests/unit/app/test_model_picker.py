"""Settings → Find…: the models found are listed, unusable ones cannot be chosen, a choice fills
the model path (the scan itself is tested in test_discovery.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QDialogButtonBox
from pytestqt.qtbot import QtBot

from app import model_picker
from app.model_picker import ModelPicker
from app.settings_dialog import SettingsDialog
from memory.llm.discovery import FoundModel
from memory.runtime.settings import Settings

FOUND = [
    FoundModel("llama3.2:3b", Path("/m/blob-1"), "Ollama", 2_000_000_000, architecture="llama",
               parameters=3_200_000_000, quantization="Q4_K_M", context_length=131072,
               chat_template=True, ram_estimate=2_500_000_000),
    FoundModel("minilm", Path("/m/minilm.gguf"), "Your folder", 40_000_000, kind="embedding"),
    FoundModel("cut", Path("/m/cut.gguf"), "Jan", 3000, kind="unusable", problem="it looks truncated"),
]  # fmt: skip


SCANNED: list[list[Path] | None] = []


@pytest.fixture(autouse=True)
def fake_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    SCANNED.clear()
    monkeypatch.setattr(model_picker, "scan", lambda folders=None: SCANNED.append(folders) or list(FOUND))


def test_found_models_are_listed_and_only_chat_models_chosen(qtbot: QtBot) -> None:
    picker = ModelPicker()
    qtbot.addWidget(picker)
    qtbot.waitUntil(lambda: picker.table.rowCount() == 3)
    assert "1 chat model found" in picker.status.text()
    assert picker.table.item(0, 0).text() == "llama3.2:3b"
    assert picker.table.item(0, 3).text() == "3.2B" and picker.table.item(0, 7).text() == "2.5 GB"
    assert "an embedding model" in picker.table.item(1, 0).text()
    assert "truncated" in picker.table.item(2, 0).text()
    ok = picker.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    picker.table.selectRow(2)  # not selectable
    assert picker.selected() is None and not ok.isEnabled()
    picker.table.selectRow(0)
    assert picker.selected() is FOUND[0] and ok.isEnabled()


def test_choosing_fills_the_settings_model_path(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    dialog = SettingsDialog(Settings(model_folders=f"/models/a{os.pathsep} ~/more "))
    qtbot.addWidget(dialog)

    def exec_and_choose(picker: ModelPicker) -> QDialog.DialogCode:
        qtbot.waitUntil(lambda: picker.table.rowCount() == 3)
        picker.table.selectRow(0)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ModelPicker, "exec", exec_and_choose)
    dialog._find_model(dialog._editors["model_path"])  # type: ignore[arg-type]
    assert dialog._editors["model_path"].text() == "/m/blob-1"  # type: ignore[attr-defined]
    assert [[Path("/models/a"), Path("~/more").expanduser()]] == SCANNED  # the user's folders too

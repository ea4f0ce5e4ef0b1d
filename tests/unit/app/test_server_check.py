"""Settings → Model server: Check connects off the GUI thread and says what it found or why not;
the address entered is what the settings keep."""

from __future__ import annotations

import zipfile
from pathlib import Path

from PySide6.QtWidgets import QDialog, QLineEdit
from pytestqt.qtbot import QtBot

from app.server_check import ServerRow
from app.settings_dialog import SettingsDialog
from memory.runtime.settings import Settings
from tests.fake_model import FakeChatModel
from tests.fake_server import Script, free_port
from tests.gui import make_window


def server_row(dialog: SettingsDialog) -> ServerRow:
    rows = dialog.findChildren(ServerRow)
    assert len(rows) == 1
    return rows[0]


def test_check_shows_the_servers_model_and_the_address_is_kept(
    qtbot: QtBot, scripted: tuple[Script, str]
) -> None:
    script, url = scripted
    script.models = ["llama3.2:3b", "qwen2.5:7b"]
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    row = server_row(dialog)
    row.line.setText(url)
    name = dialog._editors["server_model"]
    assert isinstance(name, QLineEdit)
    name.setText("qwen2.5:7b")  # the second of the server's models
    row.button.click()
    assert not row.button.isEnabled()  # the GUI thread did not wait for the server
    qtbot.waitUntil(lambda: row.status.text().startswith("Connected"), timeout=5000)
    assert "qwen2.5:7b on 127.0.0.1" in row.status.text() and row.button.isEnabled()
    dialog.done(QDialog.DialogCode.Accepted)
    assert (dialog.settings().model_server, dialog.settings().server_model) == (url, "qwen2.5:7b")


def test_check_says_why_a_server_cannot_be_used(qtbot: QtBot) -> None:
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    row = server_row(dialog)
    row.line.setText(f"127.0.0.1:{free_port()}")
    row.button.click()
    qtbot.waitUntil(lambda: "cannot be reached" in row.status.text(), timeout=10000)
    assert row.status.property("problem") is True
    row.line.setText("ftp://nowhere")
    row.button.click()
    qtbot.waitUntil(lambda: "not a server address" in row.status.text(), timeout=5000)
    dialog.reject()
    assert dialog.settings() == Settings()  # Cancel keeps nothing of it


def test_the_api_key_is_masked_and_never_exported(qtbot: QtBot, tmp_path: Path, memoir_home: Path) -> None:
    dialog = SettingsDialog(Settings(server_api_key="s3cret"))
    qtbot.addWidget(dialog)
    key = dialog._editors["server_api_key"]
    assert isinstance(key, QLineEdit) and key.echoMode() == QLineEdit.EchoMode.PasswordEchoOnEdit
    assert "server_api_key" not in Settings(server_api_key="s3cret").exportable()
    window = make_window(qtbot, memoir_home, FakeChatModel(["ok"]))
    window.controller.settings.server_api_key = "s3cret"
    window.controller.settings.server_model = "qwen2.5:7b"
    done: list[object] = []
    window.memory_actions.ops.export_all(tmp_path / "export.zip", lambda _d, _t: True, done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=10000)
    with zipfile.ZipFile(tmp_path / "export.zip") as archive:
        data = archive.read("memoir-export.json").decode()
    assert "qwen2.5:7b" in data and "s3cret" not in data
    window.controller.shutdown()

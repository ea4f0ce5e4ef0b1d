"""The Model server row of the settings dialog: the address, a Check button that connects off the
GUI thread, and what the server said (its model and context, or why it could not be reached)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import shiboken6
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app import theme
from app.ops import call_in_gui, install_relay
from memory.llm.engine import ModelError
from memory.llm.server_engine import ServerChatModel, server_address
from memory.runtime import network_guard


def probe(url: str, model: str, api_key: str = "") -> tuple[bool, str]:
    """Connect as loading would; (reachable, what to tell the user). The host is let through the
    network guard for the check only: the model's own host list returns afterwards."""
    try:
        host = server_address(url)[0]
    except ModelError as exc:
        return False, str(exc)
    before = sorted(network_guard.allowed()[0])
    network_guard.allow_only([*before, host])
    try:
        server = ServerChatModel(url, model, api_key=api_key).connect()
    except ModelError as exc:
        return False, str(exc)
    finally:
        network_guard.allow_only(before)
    schema = "" if server.json_schema_supported else " (no JSON schemas)"
    told = "as the server reports" if server.context_from_server else "the Context size setting"
    return True, f"Connected: {server.name}; context {server.n_ctx:,} tokens ({told}){schema}."


class ServerRow(QWidget):
    """``line`` (the address) with Check beside it and the outcome under it."""

    def __init__(
        self, line: QLineEdit, fields: Callable[[], tuple[str, str]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        install_relay()
        self.line = line
        self._fields = fields  # the server model name and API key, as edited
        self.button = QPushButton("Check")
        self.button.setToolTip("Connect to the server now and show which model it offers")
        self.button.clicked.connect(self.check)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("serverStatus")
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(line)
        top.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.status)
        self.status.hide()

    def check(self) -> None:
        url = self.line.text().strip()
        if not url:
            self._show(True, "No server: the model file runs on this computer.")
            return
        self.button.setEnabled(False)
        self._show(True, f"Connecting to {url}…")
        model, key = self._fields()
        threading.Thread(target=lambda: self._finish(*probe(url, model, key)), daemon=True).start()

    def _finish(self, ok: bool, text: str) -> None:
        def show() -> None:
            if shiboken6.isValid(self):  # the dialog may have closed while the server was asked
                self.button.setEnabled(True)
                self._show(ok, text)

        call_in_gui(show)

    def _show(self, ok: bool, text: str) -> None:
        self.status.setText(text)
        self.status.setProperty("problem", not ok)
        self.status.setStyleSheet("" if ok else f"color: {theme.current().bad};")
        self.status.show()

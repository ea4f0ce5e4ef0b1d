"""The first start's welcome: what Memoir remembers, where it is kept, how to see, correct and forget
it — and the chat models already on this computer, to use one instead of the small built-in model.

Shown once (the window's settings remember it), and again from Help → Welcome to Memoir. The model
scan (memory/llm/discovery.py) runs on a thread of its own; the list fills in when it is done.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.ops import call_in_gui, install_relay
from memory.llm.discovery import FoundModel, scan

if TYPE_CHECKING:
    from app.controller import ChatController
    from app.navigation import Navigation

WELCOMED = "welcomed"  # the key in the window's settings once the welcome was seen


def welcome_text(data_folder: Path) -> str:
    return (
        "<h3>Welcome to Memoir</h3>"
        "<p><b>What it remembers:</b> what <i>you</i> tell it about yourself, in your own words — never "
        "its own replies as facts about you. When a conversation ends, what you said becomes memories; "
        "each reply lists the memories it was shown, and which it used.</p>"
        f"<p><b>Where:</b> only on this computer, in <code>{data_folder}</code>. Nothing is sent "
        "anywhere, unless you point Memoir at a model server of your own in Settings.</p>"
        "<p><b>See and correct it:</b> Memory → <i>Memory Browser</i> lists every memory (edit or "
        "forget one); Memory → <i>What Do You Know About Me?</i> sums it up; the <i>Preferences</i> "
        "panel shows what it learned about how you like answers (approve, edit, disable, delete). Mark a "
        "memory under a reply <i>Helpful</i> or <i>Not relevant</i> and the ranking learns.</p>"
        "<p><b>Forget it:</b> forget a memory, delete a conversation, or File → <i>Delete "
        "Everything</i>. Forgotten means gone from every file.</p>"
    )


def describe(model: FoundModel) -> str:
    parts = [model.quantization, f"{model.size / 2**30:.1f} GB", model.source]
    if model.parameters:
        parts.insert(0, f"{model.parameters / 1e9:.1f}B")
    return f"{model.name} — {', '.join(p for p in parts if p)}"


class WelcomeDialog(QDialog):
    def __init__(self, data_folder: Path, folders: list[Path] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Welcome to Memoir")
        self.setMinimumWidth(620)
        self.models: list[FoundModel] = []
        text = QLabel(welcome_text(data_folder))
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        self.found = QLabel(
            "Looking for chat models already on this computer (Ollama, LM Studio, GPT4All, Jan)…"
        )
        self.found.setWordWrap(True)
        self.list = QListWidget()
        self.list.setMaximumHeight(140)
        self.list.hide()
        self.buttons = QDialogButtonBox()
        self.use = self.buttons.addButton("Use the Selected Model", QDialogButtonBox.ButtonRole.AcceptRole)
        start = self.buttons.addButton(
            "Start with the Built-in Model", QDialogButtonBox.ButtonRole.RejectRole
        )
        start.setDefault(True)
        self.use.setEnabled(False)
        self.use.hide()
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.list.itemSelectionChanged.connect(lambda: self.use.setEnabled(self.selected() is not None))
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        layout = QVBoxLayout(self)
        for widget in (text, self.found, self.list, self.buttons):
            layout.addWidget(widget)
        install_relay()  # on the GUI thread, before the scan's thread reports back (idempotent)
        threading.Thread(target=self._scan, args=(folders,), name="memoir-welcome-scan", daemon=True).start()

    def _scan(self, folders: list[Path] | None) -> None:
        found = [m for m in scan(folders) if m.usable]
        call_in_gui(lambda: self.show_models(found) if isValid(self) else None)  # it may have closed

    def show_models(self, models: list[FoundModel]) -> None:
        self.models = models
        if not models:
            self.found.setText(
                "No other chat models were found on this computer: Memoir starts with its small built-in "
                "model. A bigger one answers better — choose a GGUF file, or a model server, in Settings."
            )
            return
        self.found.setText(
            f"{len(models)} chat model{'s' if len(models) != 1 else ''} found on this computer. A bigger "
            "model answers better than the small built-in one; choosing one uses it where it is (nothing "
            "is copied), and Settings can change it later."
        )
        for model in models:
            item = QListWidgetItem(describe(model))
            item.setToolTip(str(model.path))
            self.list.addItem(item)
        self.list.show()
        self.use.show()

    def selected(self) -> FoundModel | None:
        rows = self.list.selectedIndexes()
        return self.models[rows[0].row()] if rows else None


def show_welcome(nav: Navigation, controller: ChatController) -> None:
    """Open the welcome (modeless, over the window); a model chosen there is used at once."""
    from dataclasses import replace

    from memory.runtime.paths import data_dir

    settings = controller.settings
    folders = [Path(f.strip()).expanduser() for f in settings.model_folders.split(os.pathsep) if f.strip()]
    dialog = WelcomeDialog(data_dir(), folders, nav.dialog_parent())
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def chosen() -> None:
        model = dialog.selected()
        if model is not None:
            controller.apply_settings(replace(controller.settings, model_path=str(model.path)))
            nav.tell(f"Loading {model.name}…", 5000)

    dialog.accepted.connect(chosen)
    dialog.open()

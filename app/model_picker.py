"""Settings → Model → Find…: the chat models already on this computer, to choose one in place.

The scan (memory/llm/discovery.py) runs on a thread of its own; the dialog fills in when it is done.
Models that cannot chat (embedding models, vision projectors, unreadable files) are listed greyed
out with the reason, and cannot be chosen.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.ops import call_in_gui, install_relay
from memory.llm.discovery import FoundModel, scan

COLUMNS = ("Model", "Found in", "Architecture", "Parameters", "Quantization", "Size", "Context", "RAM needed")
KINDS = {"embedding": "an embedding model", "projector": "a vision projector"}


def _size(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def _count(n: int) -> str:
    return f"{n / 1e9:.1f}B" if n >= 1e9 else f"{n / 1e6:.0f}M" if n else ""


class ModelPicker(QDialog):
    def __init__(self, folders: list[Path] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models on This Computer")
        self.resize(900, 420)
        self.models: list[FoundModel] = []
        self.status = QLabel("Looking in Ollama, LM Studio, GPT4All, Jan and the Hugging Face cache…")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.itemDoubleClicked.connect(lambda _item: self._choose())
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Use This Model")
        self.buttons.accepted.connect(self._choose)
        self.buttons.rejected.connect(self.reject)
        self.table.itemSelectionChanged.connect(self._update_ok)
        layout = QVBoxLayout(self)
        for widget in (self.status, self.table, self.buttons):
            layout.addWidget(widget)
        self._update_ok()
        install_relay()  # on the GUI thread, before the scan's thread reports back (idempotent)
        threading.Thread(target=self._scan, args=(folders,), name="memoir-model-scan", daemon=True).start()

    def _scan(self, folders: list[Path] | None) -> None:
        found = scan(folders)
        # the dialog may have been closed (and deleted) while the scan ran
        call_in_gui(lambda: self.show_models(found) if isValid(self) else None)

    def show_models(self, models: list[FoundModel]) -> None:
        self.models = models
        usable = sum(m.usable for m in models)
        self.status.setText(
            f"{usable} chat model{'s' if usable != 1 else ''} found. Choosing one loads it where it is: "
            "nothing is copied."
            if models
            else "No GGUF models were found in the usual places. Use Browse… to choose a file."
        )
        self.table.setRowCount(len(models))
        for row, m in enumerate(models):
            cells = (
                m.name, m.source, m.architecture, _count(m.parameters), m.quantization,
                _size(m.size), f"{m.context_length:,}" if m.context_length else "",
                _size(m.ram_estimate) if m.ram_estimate else "",
            )  # fmt: skip
            why = KINDS.get(m.kind) or m.problem
            if not m.usable:
                cells = (f"{m.name} — {why}", *cells[1:])
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                tip = f"{m.path}" + (f"\nNot a chat model: {why}" if not m.usable else "")
                if m.usable and not m.chat_template:
                    tip += "\nNo chat template in the file: Memoir uses ChatML."
                item.setToolTip(tip)
                if not m.usable:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable & ~Qt.ItemFlag.ItemIsEnabled)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()

    def selected(self) -> FoundModel | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        model = self.models[rows[0].row()]
        return model if model.usable else None

    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(self.selected() is not None)

    def _choose(self) -> None:
        if self.selected() is not None:
            self.accept()

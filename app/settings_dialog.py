"""The settings dialog, generated from the typed settings schema; Cancel changes nothing."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.model_picker import ModelPicker
from app.server_check import ServerRow
from memory.runtime.settings import Settings


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Memoir Settings")
        self.setMinimumWidth(560)
        self._original = settings
        self._editors: dict[str, QWidget] = {}
        form = QFormLayout()
        for f in Settings.fields():
            editor = self._editor_for(f, getattr(settings, f.name))
            editor.setToolTip(f.metadata["description"])
            self._editors[f.name] = editor
            row = (
                self._with_browse(editor, f.name == "model_path") if f.name.endswith("model_path") else editor
            )
            if f.name == "model_server" and isinstance(editor, QLineEdit):
                row = ServerRow(editor, self._server_fields)
            form.addRow(f.metadata["title"] + ":", row)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        restore = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.clicked.connect(lambda: self._show(Settings()))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _editor_for(self, f: dataclasses.Field[Any], value: Any) -> QWidget:
        if isinstance(value, bool):
            box = QCheckBox()
            box.setChecked(value)
            return box
        if isinstance(value, int):
            spin = QSpinBox()
            spin.setRange(f.metadata.get("minimum", 0), f.metadata.get("maximum", 1 << 30))
            spin.setValue(value)
            if f.name == "n_threads":
                spin.setSpecialValueText("Automatic")  # shown for 0
            return spin
        if isinstance(value, float):
            dspin = QDoubleSpinBox()
            dspin.setRange(f.metadata.get("minimum", 0.0), f.metadata.get("maximum", 100.0))
            dspin.setSingleStep(0.05)
            dspin.setValue(value)
            if f.name == "repeat_penalty":
                dspin.setSpecialValueText("Automatic")  # shown for 0
            return dspin
        if f.metadata.get("choices"):
            combo = QComboBox()
            combo.addItems([str(choice).capitalize() for choice in f.metadata["choices"]])
            combo.setCurrentText(str(value).capitalize())
            return combo
        if f.name == "system_prompt":
            text = QPlainTextEdit(value)
            text.setMinimumHeight(90)
            return text
        line = QLineEdit(value)
        line.setPlaceholderText(f.metadata["description"])
        if f.name.endswith("api_key"):
            line.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)  # not shown over a shoulder
        return line

    def _server_fields(self) -> tuple[str, str]:
        """The server model name and API key as edited (Check uses them before OK)."""
        texts = [self._editors.get(name) for name in ("server_model", "server_api_key")]
        model, key = (e.text().strip() if isinstance(e, QLineEdit) else "" for e in texts)
        return model, key

    def _with_browse(self, line: QWidget, find: bool) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(line)
        assert isinstance(line, QLineEdit)
        if find:  # chat models other apps have put on this computer
            found = QPushButton("Find…")
            found.setToolTip("Models already on this computer: Ollama, LM Studio, GPT4All, Jan, Hugging Face")
            found.clicked.connect(lambda: self._find_model(line))
            layout.addWidget(found)
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self._browse_model(line))
        layout.addWidget(browse)
        return row

    def _find_model(self, editor: QLineEdit) -> None:
        folders_editor = self._editors.get("model_folders")
        text = folders_editor.text() if isinstance(folders_editor, QLineEdit) else ""
        folders = [Path(f.strip()).expanduser() for f in text.split(os.pathsep) if f.strip()]
        picker = ModelPicker(folders, parent=self)
        if picker.exec() == QDialog.DialogCode.Accepted and (chosen := picker.selected()) is not None:
            editor.setText(str(chosen.path))

    def _browse_model(self, editor: QLineEdit) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a GGUF model", editor.text(), "GGUF models (*.gguf);;All files (*)"
        )
        if path:
            editor.setText(path)

    def _show(self, settings: Settings) -> None:
        for name, editor in self._editors.items():
            value = getattr(settings, name)
            if isinstance(editor, QCheckBox):
                editor.setChecked(value)
            elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                editor.setValue(value)
            elif isinstance(editor, QPlainTextEdit):
                editor.setPlainText(value)
            elif isinstance(editor, QComboBox):
                editor.setCurrentText(str(value).capitalize())
            elif isinstance(editor, QLineEdit):
                editor.setText(value)

    def settings(self) -> Settings:
        """The settings as edited (the original if the dialog was cancelled)."""
        if self.result() != QDialog.DialogCode.Accepted:
            return self._original
        values: dict[str, Any] = {}
        for name, editor in self._editors.items():
            if isinstance(editor, QCheckBox):
                values[name] = editor.isChecked()
            elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                values[name] = editor.value()
            elif isinstance(editor, QPlainTextEdit):
                values[name] = editor.toPlainText()
            elif isinstance(editor, QComboBox):
                values[name] = editor.currentText().lower()
            elif isinstance(editor, QLineEdit):
                values[name] = editor.text().strip()
        return Settings(**values).validated()

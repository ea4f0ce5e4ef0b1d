"""Small modal helpers, kept in one place so tests can replace them instead of blocking."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def confirm(parent: QWidget | None, title: str, text: str, action: str) -> bool:
    """Ask before a destructive action; Cancel is the default button."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
    accept = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    return box.clickedButton() is accept


def warn(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


def save_path(parent: QWidget | None, title: str, suggested: str, filters: str) -> str:
    """Ask where to save; "" if cancelled."""
    from PySide6.QtWidgets import QFileDialog

    return QFileDialog.getSaveFileName(parent, title, suggested, filters)[0]


def open_path(parent: QWidget | None, title: str, filters: str) -> str:
    """Ask which file to open; "" if cancelled."""
    from PySide6.QtWidgets import QFileDialog

    return QFileDialog.getOpenFileName(parent, title, "", filters)[0]


def ask_text(
    parent: QWidget | None, title: str, label: str, text: str = "", multiline: bool = False
) -> str | None:
    """Ask for a line (or lines) of text; None if cancelled."""
    from PySide6.QtWidgets import QInputDialog

    if multiline:
        value, ok = QInputDialog.getMultiLineText(parent, title, label, text)
    else:
        value, ok = QInputDialog.getText(parent, title, label, text=text)
    return value if ok else None


def about(parent: QWidget | None) -> None:
    QMessageBox.about(
        parent,
        "About Memoir",
        "<b>Memoir</b><br>A private assistant that runs entirely on this computer."
        "<br>Nothing you say leaves it, unless you point Memoir at a model server of your own.",
    )

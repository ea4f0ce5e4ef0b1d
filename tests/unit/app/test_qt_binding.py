"""The Qt binding itself: a regression in PySide6 6.12.0 crashed Memoir after minutes of streaming."""

from __future__ import annotations

import sys

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from pytestqt.qtbot import QtBot

CALLS = 2000  # None's refcount is ~50,000 here: enough to see a leak, far from freeing None


class _Model(QAbstractListModel):
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 1

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        return {Qt.ItemDataRole.DisplayRole: "text", Qt.ItemDataRole.UserRole: True}.get(role)


def references_lost(call: object) -> tuple[int, int]:
    before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(CALLS):
        call()  # type: ignore[operator]
    return before[0] - sys.getrefcount(None), before[1] - sys.getrefcount(True)


def test_invalid_variants_keep_their_reference_to_none(qtbot: QtBot) -> None:
    """6.12.0 returned an invalid QVariant as None without a new reference, once per call."""
    standard = QStandardItemModel()
    standard.appendRow(QStandardItem("a"))
    python_model = _Model()
    missing = Qt.ItemDataRole.UserRole + 7
    lost_none, _ = references_lost(lambda: standard.index(0, 0).data(missing))
    assert lost_none < CALLS // 2
    lost_none, _ = references_lost(lambda: python_model.index(0).data(missing))
    assert lost_none < CALLS // 2
    _, lost_true = references_lost(lambda: python_model.index(0).data(Qt.ItemDataRole.UserRole))
    assert lost_true < CALLS // 2

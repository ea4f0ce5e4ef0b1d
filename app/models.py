"""Qt item models adapting plain lists of core dataclasses (conversations, messages)."""

from __future__ import annotations

import dataclasses
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from memory.answering.receipts import Receipt
from memory.store.database import Conversation, Message

Index = QModelIndex | QPersistentModelIndex
ObjectRole = Qt.ItemDataRole.UserRole + 1  # the dataclass behind a row
ReceiptsRole = Qt.ItemDataRole.UserRole + 2  # (receipts, expanded) of a reply
T = TypeVar("T")


class _ListModel(QAbstractListModel, Generic[T]):
    """A list model over a plain list of dataclasses that have an ``id``."""

    def __init__(self) -> None:
        super().__init__()
        self._items: list[T] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def _item(self, index: Index) -> T | None:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        return self._items[index.row()]

    def row_of(self, item_id: int) -> int:
        """The row holding ``item_id``, or -1; searched from the end, where new rows arrive."""
        for row in range(len(self._items) - 1, -1, -1):
            if self._items[row].id == item_id:  # type: ignore[attr-defined]
                return row
        return -1


class ConversationListModel(_ListModel[Conversation]):
    """Conversations, most recent first; editing a title emits ``rename_requested``."""

    rename_requested = Signal(int, str)

    def __init__(self) -> None:
        super().__init__()

    def set_conversations(self, items: list[Conversation]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def conversation(self, row: int) -> Conversation:
        return self._items[row]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        item = self._item(index)
        if item is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return item.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{item.title}\nLast active {item.updated_at[:16].replace('T', ' ')} UTC"
        if role == ObjectRole:
            return item
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.isValid() else base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        title = " ".join(str(value).split())
        if not title:
            return False
        item = self._items[index.row()]
        self._items[index.row()] = dataclasses.replace(item, title=title)
        self.dataChanged.emit(index, index, [role, Qt.ItemDataRole.DisplayRole])
        self.rename_requested.emit(item.id, title)
        return True


class TranscriptModel(_ListModel[Message]):
    """The messages of one conversation; a streaming reply updates its own row."""

    def __init__(self) -> None:
        super().__init__()
        self.conversation_id: int | None = None
        self._receipts: dict[int, list[Receipt]] = {}
        self._expanded: set[int] = set()

    def set_messages(self, conversation_id: int | None, items: list[Message]) -> None:
        self.beginResetModel()
        if conversation_id != self.conversation_id:
            self._receipts.clear()
            self._expanded.clear()
        self.conversation_id = conversation_id
        self._items = list(items)
        self.endResetModel()

    def set_receipts(self, reply_id: int, receipts: list[Receipt]) -> None:
        self._receipts[reply_id] = list(receipts)
        self._changed(reply_id)

    def receipts(self, reply_id: int) -> list[Receipt]:
        return list(self._receipts.get(reply_id, []))

    def toggle_receipts(self, reply_id: int, expanded: bool | None = None) -> None:
        expand = reply_id not in self._expanded if expanded is None else expanded
        (self._expanded.add if expand else self._expanded.discard)(reply_id)
        self._changed(reply_id)

    def _changed(self, message_id: int) -> None:
        row = self.row_of(message_id)
        if row >= 0:
            self.dataChanged.emit(self.index(row), self.index(row))

    def messages(self) -> list[Message]:
        return list(self._items)

    def upsert(self, message: Message) -> None:
        """Add a message of this conversation, or replace the row holding the same id."""
        if message.conversation_id != self.conversation_id:
            return
        row = self.row_of(message.id)
        if row >= 0:
            self._items[row] = message
            self.dataChanged.emit(self.index(row), self.index(row))
            return
        self.beginInsertRows(QModelIndex(), len(self._items), len(self._items))
        self._items.append(message)
        self.endInsertRows()

    def update_text(self, message_id: int, text: str) -> int:
        """Set a streaming message's text; returns its row or -1."""
        row = self.row_of(message_id)
        if row >= 0:
            self._items[row] = dataclasses.replace(self._items[row], content=text)
            self.dataChanged.emit(self.index(row), self.index(row))
        return row

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        item = self._item(index)
        if item is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return item.content
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{item.role} · {item.created_at[:19].replace('T', ' ')} UTC · {item.status}"
        if role == ObjectRole:
            return item
        if role == ReceiptsRole:
            return (self._receipts.get(item.id, []), item.id in self._expanded)
        return None

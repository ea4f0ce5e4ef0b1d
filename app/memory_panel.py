"""The memory browser: every memory, where it came from, how it was used; search, edit, forget."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from memory.retrieval.book import KIND_NAMES, Entry
from memory.store import sources
from memory.store.items import TOPIC, TURN

Index = QModelIndex | QPersistentModelIndex
SortRole = Qt.ItemDataRole.UserRole + 10
EntryRole = Qt.ItemDataRole.UserRole + 11
COLUMNS = ("Memory", "Kind", "Whose words", "From", "Created", "Changed", "Shown", "Used", "Helpful")
KIND_FILTERS = {"Memories": (TOPIC,), "Messages": (TURN,), "Everything": ()}
DATE_FILTERS = {"Any time": 0, "Last 7 days": 7, "Last 30 days": 30, "Last year": 365}


def _day(stamp: str) -> str:
    return stamp[:16].replace("T", " ")


def _titles(entry: Entry) -> str:
    """“A”, or “A” and “B”, or “A”, “B” and “C”: every conversation the memory's words come from."""
    titles = [f"“{t}”" for t in entry.conversation_titles or (entry.conversation_title,)]
    return titles[0] if len(titles) == 1 else f"{', '.join(titles[:-1])} and {titles[-1]}"


class MemoryTableModel(QAbstractTableModel):
    """Entries as rows; the Memory column is editable (the edit is a request, applied by the core)."""

    edit_requested = Signal(int, str)

    def __init__(self) -> None:
        super().__init__()
        self._entries: list[Entry] = []

    def set_entries(self, entries: list[Entry]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self.endResetModel()

    def entry(self, row: int) -> Entry:
        return self._entries[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section]
        return None

    def _values(self, e: Entry) -> tuple[Any, ...]:
        return (
            e.text,
            KIND_NAMES.get(e.kind, e.kind),
            sources.label(e.source),
            e.conversation_title,
            e.created_at[:10],
            e.updated_at[:10],
            e.uses,
            e.cited,
            e.helpful,
        )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, SortRole):
            return self._values(entry)[index.column()]
        if role == Qt.ItemDataRole.EditRole and index.column() == 0:
            return entry.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                f"{entry.text}\n\nFrom {_titles(entry)}, {_day(entry.occurred_at)}\n"
                f"{sources.label(entry.source).capitalize()}. Shown with {entry.uses} answer(s), used by "
                f"{entry.cited}, helpful {entry.helpful}, "
                f"not relevant {entry.not_relevant}; {entry.versions} earlier version(s)"
            )
        if role == EntryRole:
            return entry
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.isValid() and index.column() == 0 else base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() != 0:
            return False
        text = " ".join(str(value).split())
        entry = self._entries[index.row()]
        if not text or text == entry.text:
            return False
        self.edit_requested.emit(entry.id, text)
        return True


class MemoryPanel(QWidget):
    """Search box, kind filter, the table, and the actions on the selected memory."""

    query_changed = Signal(str, object, int)  # text, kinds, days back (0: any time)
    forget_requested = Signal(int)
    source_requested = Signal(int, int)  # conversation id, message id
    history_requested = Signal(int)
    about_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = MemoryTableModel()
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SortRole)
        self.search = QLineEdit(
            placeholderText="Search memories (as the assistant would)…", clearButtonEnabled=True
        )
        self.kinds = QComboBox()
        self.kinds.addItems(list(KIND_FILTERS))
        self.dates = QComboBox()
        self.dates.addItems(list(DATE_FILTERS))
        self.table = QTableView()
        self.table.setObjectName("memoryTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 320)  # the text comes first and stays readable; the rest scrolls
        header.setStretchLastSection(True)
        for column, width in enumerate((70, 120, 80, 80, 45, 45, 55), 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        self.table.verticalHeader().hide()
        self.edit_button = QPushButton("Edit")
        self.forget_button = QPushButton("Forget")
        self.source_button = QPushButton("Go to Source")
        self.history_button = QPushButton("History")
        self.about_button = QPushButton("What Do You Know About Me?")
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._build()

    def _build(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.kinds)
        top.addWidget(self.dates)
        actions = QHBoxLayout()
        for button in (self.edit_button, self.forget_button, self.source_button, self.history_button):
            actions.addWidget(button)
        actions.addStretch()
        actions.addWidget(self.about_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self._debounce.timeout.connect(self.refresh)
        self.kinds.currentIndexChanged.connect(lambda _i: self.refresh())
        self.dates.currentIndexChanged.connect(lambda _i: self.refresh())
        self.edit_button.clicked.connect(self._edit_selected)
        self.forget_button.clicked.connect(
            lambda: self._with_selected(lambda e: self.forget_requested.emit(e.id))
        )
        self.source_button.clicked.connect(lambda: self._with_selected(self._go_to_source))
        self.history_button.clicked.connect(
            lambda: self._with_selected(lambda e: self.history_requested.emit(e.id))
        )
        self.about_button.clicked.connect(self.about_requested.emit)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.proxy.modelReset.connect(self._update_buttons)
        self._update_buttons()

    def refresh(self) -> None:
        self.query_changed.emit(
            self.search.text(), KIND_FILTERS[self.kinds.currentText()], DATE_FILTERS[self.dates.currentText()]
        )

    def show_entries(self, query: str, entries: list[Entry]) -> None:
        if query != self.search.text():
            return  # an older search finished after a newer one started
        self.model.set_entries(entries)
        if query.strip():
            self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # best match first, as found
            self.proxy.sort(-1)

    def selected(self) -> Entry | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(EntryRole) if rows else None

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    def _with_selected(self, action: Any) -> None:
        entry = self.selected()
        if entry is not None:
            action(entry)

    def _edit_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.table.edit(rows[0])

    def _go_to_source(self, entry: Entry) -> None:
        if entry.conversation_id is not None:
            self.source_requested.emit(
                entry.conversation_id, entry.message_ids[0] if entry.message_ids else -1
            )

    def _update_buttons(self) -> None:
        entry = self.selected()
        for button in (self.edit_button, self.forget_button, self.history_button):
            button.setEnabled(entry is not None)
        self.source_button.setEnabled(entry is not None and entry.conversation_id is not None)

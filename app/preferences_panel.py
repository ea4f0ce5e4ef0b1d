"""The preferences panel: an inbox of proposals to accept or reject, and the table of preferences."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from memory.preferences.preference_store import CATEGORIES, ORIGINS, Preference

Index = QModelIndex | QPersistentModelIndex
PrefRole = Qt.ItemDataRole.UserRole + 20
COLUMNS = ("Preference", "Category", "Origin", "Evidence", "Confidence", "Status", "Pinned", "Changed")
WIDTHS = (80, 110, 80, 75, 65, 50, 80)  # the columns after the text, in pixels (the user can resize)
STATUS_FILTERS = {"All": ("active", "disabled"), "Active": ("active",), "Disabled": ("disabled",)}


class PreferenceTableModel(QAbstractTableModel):
    """Preferences as rows; text and category are edited in place (as requests to the core)."""

    edit_requested = Signal(int, str)
    category_requested = Signal(int, str)

    def __init__(self) -> None:
        super().__init__()
        self._prefs: list[Preference] = []

    def set_preferences(self, prefs: list[Preference]) -> None:
        self.beginResetModel()
        self._prefs = list(prefs)
        self.endResetModel()

    def preference(self, row: int) -> Preference:
        return self._prefs[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._prefs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._prefs):
            return None
        p = self._prefs[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            values = (
                p.text,
                p.category,
                ORIGINS.get(p.origin, p.origin),
                f"{len(p.evidence)} message(s)" if p.evidence else "",
                f"{p.confidence:.0%}",
                p.status,
                "pinned" if p.pinned else "",
                p.updated_at[:10],
            )
            return values[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            written = " Written or edited by you: learning never changes it." if p.user_written else ""
            return f"{p.text}\n{ORIGINS.get(p.origin, p.origin)}, {p.status}.{written}"
        if role == PrefRole:
            return p
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.isValid() and index.column() in (0, 1) else base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        p = self._prefs[index.row()]
        text = " ".join(str(value).split())
        if index.column() == 0 and text and text != p.text:
            self.edit_requested.emit(p.id, text)
            return True
        if index.column() == 1 and text in CATEGORIES and text != p.category:
            self.category_requested.emit(p.id, text)
            return True
        return False


class _Filter(QSortFilterProxyModel):
    def __init__(self, statuses: tuple[str, ...]) -> None:
        super().__init__()
        self.statuses = statuses
        self.text = ""

    def set_filter(self, statuses: tuple[str, ...], text: str) -> None:
        self.statuses, self.text = statuses, text.casefold()
        self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, PreferenceTableModel)
        p = model.preference(row)
        return p.status in self.statuses and self.text in p.text.casefold()


def _table(model: QSortFilterProxyModel) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().hide()
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
    header.resizeSection(0, 300)  # the text comes first and stays readable; the rest scrolls
    header.setStretchLastSection(True)
    for column, width in enumerate(WIDTHS, 1):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(column, width)
    return table


class PreferencesPanel(QWidget):
    """Emits requests; the window turns them into calls on PreferenceOps."""

    action_requested = Signal(str, object)  # PreferenceStore method name, its arguments
    edit_then_accept_requested = Signal(int)
    add_requested = Signal()
    history_requested = Signal(int)
    rules_requested = Signal()
    evidence_requested = Signal(int)  # message id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = PreferenceTableModel()
        self.inbox_proxy = _Filter(("proposed",))
        self.table_proxy = _Filter(STATUS_FILTERS["All"])
        for proxy in (self.inbox_proxy, self.table_proxy):
            proxy.setSourceModel(self.model)
        self.inbox = _table(self.inbox_proxy)
        self.inbox.setObjectName("preferenceInbox")
        self.inbox.setMaximumHeight(150)
        self.table = _table(self.table_proxy)
        self.table.setSortingEnabled(True)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.inbox_label = QLabel()
        self.problem = QLabel()
        self.problem.setObjectName("banner")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.search = QLineEdit(placeholderText="Filter preferences…", clearButtonEnabled=True)
        self.status = QComboBox()
        self.status.addItems(list(STATUS_FILTERS))
        self.file_label = QLabel()
        self.file_label.setWordWrap(True)
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons: dict[str, QPushButton] = {}
        self._build()

    def _button(self, name: str, text: str) -> QPushButton:
        self.buttons[name] = QPushButton(text)
        return self.buttons[name]

    def _build(self) -> None:
        inbox_actions = QHBoxLayout()
        for name, text in (("accept", "Accept"), ("edit_accept", "Edit && Accept"), ("reject", "Reject")):
            inbox_actions.addWidget(self._button(name, text))
        inbox_actions.addStretch()
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.status)
        actions = QHBoxLayout()
        for name, text in (
            ("add", "Add…"),
            ("delete", "Delete"),
            ("toggle", "Disable"),
            ("pin", "Pin"),
            ("history", "History"),
            ("evidence", "Evidence"),
        ):
            actions.addWidget(self._button(name, text))
        actions.addStretch()
        actions.addWidget(self._button("rules", "Never Remember…"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        for widget in (self.problem, self.inbox_label, self.inbox):
            layout.addWidget(widget)
        layout.addLayout(inbox_actions)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.file_label)
        self._connect()

    def _connect(self) -> None:
        b = self.buttons
        b["accept"].clicked.connect(
            lambda: self._proposal(lambda p: self.action_requested.emit("accept", (p.id,)))
        )
        b["edit_accept"].clicked.connect(
            lambda: self._proposal(lambda p: self.edit_then_accept_requested.emit(p.id))
        )
        b["reject"].clicked.connect(
            lambda: self._proposal(lambda p: self.action_requested.emit("reject", (p.id,)))
        )
        b["add"].clicked.connect(self.add_requested.emit)
        b["delete"].clicked.connect(
            lambda: self._selected(lambda p: self.action_requested.emit("delete", (p.id,)))
        )
        b["toggle"].clicked.connect(
            lambda: self._selected(
                lambda p: self.action_requested.emit("set_enabled", (p.id, p.status != "active"))
            )
        )
        b["pin"].clicked.connect(
            lambda: self._selected(lambda p: self.action_requested.emit("set_pinned", (p.id, not p.pinned)))
        )
        b["history"].clicked.connect(lambda: self._selected(lambda p: self.history_requested.emit(p.id)))
        b["evidence"].clicked.connect(lambda: self._selected(self._evidence))
        b["rules"].clicked.connect(self.rules_requested.emit)
        self.search.textChanged.connect(lambda _t: self._refilter())
        self.status.currentIndexChanged.connect(lambda _i: self._refilter())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.inbox.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.model.modelReset.connect(self._update_buttons)
        self._update_buttons()

    def set_preferences(self, prefs: list[Preference]) -> None:
        self.model.set_preferences(prefs)
        proposed = self.inbox_proxy.rowCount()
        self.inbox_label.setText(
            f"<b>Proposed ({proposed})</b> — learned from your chats and edits; "
            "nothing is used until you accept it."
            if proposed
            else "No proposals waiting."
        )
        self.inbox.setVisible(bool(proposed))

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def _refilter(self) -> None:
        self.table_proxy.set_filter(STATUS_FILTERS[self.status.currentText()], self.search.text())

    @staticmethod
    def _chosen(table: QTableView) -> Preference | None:
        rows = table.selectionModel().selectedRows()
        return rows[0].data(PrefRole) if rows else None

    def selected(self) -> Preference | None:
        return self._chosen(self.table)

    def proposal(self) -> Preference | None:
        return self._chosen(self.inbox)

    def _selected(self, action: Any) -> None:
        p = self.selected()
        if p is not None:
            action(p)

    def _evidence(self, p: Preference) -> None:
        if p.evidence:
            self.evidence_requested.emit(p.evidence[0])

    def _proposal(self, action: Any) -> None:
        p = self.proposal()
        if p is not None:
            action(p)

    def _update_buttons(self) -> None:
        p, proposal = self.selected(), self.proposal()
        for name in ("accept", "edit_accept", "reject"):
            self.buttons[name].setEnabled(proposal is not None)
        for name in ("delete", "toggle", "pin", "history"):
            self.buttons[name].setEnabled(p is not None)
        self.buttons["evidence"].setEnabled(p is not None and bool(p.evidence))
        if p is not None:
            self.buttons["toggle"].setText("Enable" if p.status == "disabled" else "Disable")
            self.buttons["pin"].setText("Unpin" if p.pinned else "Pin")

"""The conversation list: filter by title, new, rename (F2) and delete with confirmation."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import dialogs
from app.models import ConversationListModel, ObjectRole
from memory.store.database import Conversation


class ConversationPanel(QWidget):
    selected = Signal(int)  # conversation id
    new_requested = Signal()
    delete_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ConversationListModel()
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter = QLineEdit(placeholderText="Filter conversations")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.new_button = QPushButton("New conversation")
        self.new_button.clicked.connect(self.new_requested)
        self.view = QListView()
        self.view.setObjectName("conversations")
        self.view.setModel(self.proxy)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setUniformItemSizes(True)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_view_context_menu)
        self.view.selectionModel().currentChanged.connect(self._on_view_current_changed)
        self.rename_action = QAction("Rename", self, shortcut=QKeySequence(Qt.Key.Key_F2))
        self.rename_action.triggered.connect(self.rename_current)
        self.delete_action = QAction("Delete…", self, shortcut=QKeySequence(QKeySequence.StandardKey.Delete))
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.delete_action.triggered.connect(self.delete_current)
        self.view.addAction(self.delete_action)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        layout.addWidget(self.new_button)
        layout.addWidget(self.filter)
        layout.addWidget(self.view)

    def set_conversations(self, items: list[Conversation], current_id: int | None) -> None:
        blocker = self.view.selectionModel().blockSignals(True)
        self.model.set_conversations(items)
        self.view.selectionModel().blockSignals(blocker)
        if current_id is not None:
            self.select(current_id, emit=False)

    def select(self, conversation_id: int, emit: bool = True) -> None:
        row = self.model.row_of(conversation_id)
        if row < 0:
            return
        index = self.proxy.mapFromSource(self.model.index(row))
        if not index.isValid():  # hidden by the filter
            self.filter.clear()
            index = self.proxy.mapFromSource(self.model.index(row))
        selection = self.view.selectionModel()
        blocker = selection.blockSignals(not emit)
        self.view.setCurrentIndex(index)
        selection.blockSignals(blocker)

    def title_of(self, conversation_id: int) -> str:
        row = self.model.row_of(conversation_id)
        return self.model.conversation(row).title if row >= 0 else "a deleted conversation"

    def current(self) -> Conversation | None:
        index = self.view.currentIndex()
        return index.data(ObjectRole) if index.isValid() else None

    def rename_current(self) -> None:
        if self.view.currentIndex().isValid():
            self.view.setFocus()
            self.view.edit(self.view.currentIndex())

    def delete_current(self) -> None:
        conversation = self.current()
        if conversation is None:
            return
        if dialogs.confirm(
            self,
            "Delete conversation",
            f"Delete “{conversation.title}”, all its messages and every memory that holds its words?"
            " This cannot be undone.",
            "Delete",
        ):
            self.delete_requested.emit(conversation.id)

    def _on_view_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.selected.emit(current.data(ObjectRole).id)

    def _on_view_context_menu(self, pos: QPoint) -> None:
        if not self.view.indexAt(pos).isValid():
            return
        menu = QMenu(self)
        menu.addAction(self.rename_action)
        menu.addAction(self.delete_action)
        menu.exec(self.view.viewport().mapToGlobal(pos))

"""Wires the memory browser, search, export/import and "delete everything" into the main window."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMessageBox, QProgressDialog, QPushButton

from app import dialogs
from app.layout import panel_action
from app.memory_dialogs import AboutMeDialog, SearchDialog, history_html
from app.memory_panel import MemoryPanel
from app.ops import call_in_gui
from memory.store.import_preview import Preview

if TYPE_CHECKING:
    from app.controller import ChatController
    from app.navigation import Navigation

UNDO_SECONDS = 10
EXPORT_FILTER = "Memoir export (*.zip)"


class MemoryActions(QObject):
    """The memory browser, search, export/import and "delete everything": their panel, menu items
    and dialogs, placed and shown through the window's :class:`app.navigation.Navigation`."""

    def __init__(self, nav: Navigation, controller: ChatController) -> None:
        self.w = nav.dialog_parent()  # the parent of its dialogs, nothing more
        super().__init__(self.w)
        self.nav, self.controller = nav, controller
        self.ops = controller.memory_ops
        self.panel = MemoryPanel()
        self.dock = QDockWidget("Memory", self.w)
        self.dock.setObjectName("memoryDock")
        self.dock.setWidget(self.panel)
        nav.add_side_panel(self.dock)
        self.search_dialog: SearchDialog | None = None
        self._forgotten: list[int] = []
        self._undo_timer = QTimer(self, singleShot=True, interval=UNDO_SECONDS * 1000)
        self._undo_button = QPushButton("Undo")
        self._undo_button.hide()
        nav.add_status_widget(self._undo_button)
        self._menus()
        self._connect()

    def _action(self, text: str, slot: Any, shortcut: str | None = None) -> QAction:
        act = QAction(text, self.w)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(slot)
        return act

    def _menus(self) -> None:
        self.browser_action = panel_action(self.dock, "&Memory Browser", "Ctrl+Shift+M")
        self.find_action = self._action("&Find in Conversation…", self.find_here, "Ctrl+F")
        self.search_action = self._action("&Search All Conversations…", self.search_all, "Ctrl+Shift+F")
        self.about_action = self._action("What Do You Know About &Me?", self.ops.about_me)
        self.export_action = self._action("&Export Everything…", self.export_all)
        self.import_action = self._action("&Import…", self.import_file)
        self.markdown_action = self._action("Export Conversation as &Markdown…", self.export_markdown)
        self.wipe_action = self._action("&Delete Everything…", self.delete_everything)
        self.rebuild_action = self._action("Re&build Search Index", self.rebuild_index)
        file_menu = self.nav.menu("file")
        first = file_menu.actions()[1]  # after "New Conversation"
        for act in (self.export_action, self.import_action, self.markdown_action):
            file_menu.insertAction(first, act)
        file_menu.insertSeparator(first)
        file_menu.insertAction(first, self.wipe_action)
        file_menu.insertSeparator(first)
        memory_menu = self.nav.menu("memory")
        memory_menu.insertActions(
            memory_menu.actions()[0], [self.browser_action, self.about_action, self.search_action]
        )
        memory_menu.addAction(self.rebuild_action)
        self.nav.menu("conversation").addAction(self.find_action)

    def _connect(self) -> None:
        self.panel.query_changed.connect(self.ops.load)
        self.ops.entries_loaded.connect(self.panel.show_entries)
        self.panel.model.edit_requested.connect(self.ops.edit)
        self.panel.forget_requested.connect(self.forget)
        self.panel.source_requested.connect(self.nav.jump_to)
        self.panel.history_requested.connect(self.show_history)
        self.panel.about_requested.connect(self.ops.about_me)
        self.ops.about_loaded.connect(self.show_about)
        self.ops.changed.connect(self._on_changed)
        # reflection added memories, or the memory finished opening: an open browser shows them
        self.controller.memories_changed.connect(self._on_changed)
        self.ops.failed.connect(self._on_failed)
        self.ops.messages_found.connect(self._on_found)
        self.dock.visibilityChanged.connect(self._on_dock_visibility)
        self._undo_timer.timeout.connect(self._close_undo)
        self._undo_button.clicked.connect(self.undo_forget)

    # Browser ----------------------------------------------------------------------------------

    def _on_dock_visibility(self, visible: bool) -> None:
        if visible:
            self.dock.raise_()  # its tab in front, whichever panel was showing
            if self.dock.width() < 520:  # room for the text column next to the dates and counts
                self.nav.widen_side_panel(self.dock, 640)
            self._on_changed()

    def _on_changed(self) -> None:
        if not self.dock.isVisible():
            return
        if self.controller.memory is None:  # it refreshes once the memory has opened
            self.nav.tell("Memory is still opening; the list fills in when ready.", 5000)
            return
        self.panel.refresh()

    def _on_failed(self, text: str) -> None:
        text = text or "Cancelled; nothing was changed."
        self.nav.tell(text, 10000)
        dialogs.warn(self.w, "Memory", text)

    def forget(self, item_id: int) -> None:
        self.ops.forget(item_id)
        self._forgotten.append(item_id)
        self.nav.tell(f"Memory forgotten. Undo within {UNDO_SECONDS} s.", UNDO_SECONDS * 1000)
        self._undo_button.show()
        self._undo_timer.start()

    def undo_forget(self) -> None:
        for item_id in self._forgotten:
            self.ops.undo_forget(item_id)
        self._forgotten.clear()
        self._undo_timer.stop()
        self._undo_button.hide()
        self.nav.tell("Memory restored.", 4000)

    def _close_undo(self) -> None:
        self._forgotten.clear()
        self._undo_button.hide()
        self.ops.purge()

    def show_history(self, item_id: int) -> None:
        entry = self.panel.selected()
        current = entry.text if entry is not None else ""

        def show(versions: list[dict[str, object]]) -> None:
            QMessageBox.information(self.w, "Memory History", history_html(current, versions))

        self.ops.versions(item_id, show)

    def show_about(self, about: tuple[list[Any], list[Any]]) -> AboutMeDialog:
        groups, preferences = about
        dialog = AboutMeDialog(groups, self.nav.jump_to, self.w, preferences)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # Search -----------------------------------------------------------------------------------

    def find_here(self) -> SearchDialog | None:
        here = self.nav.current_conversation()
        return self.search_all() if here is None else self._search(here)

    def search_all(self) -> SearchDialog:
        return self._search(None)

    def _search(self, scope: tuple[int, str] | None) -> SearchDialog:
        if self.search_dialog is not None:
            self.search_dialog.close()
        dialog = SearchDialog(self.ops.find, self.nav.jump_to, scope, self.w)
        self.search_dialog = dialog
        dialog.show()
        dialog.query.setFocus()
        return dialog

    def _on_found(self, query: str, found: list[Any]) -> None:
        if self.search_dialog is not None:
            self.search_dialog.show_results(query, found)

    # Export, import, delete everything --------------------------------------------------------

    def _progress(self, label: str) -> tuple[QProgressDialog, Any]:
        dialog = QProgressDialog(label, "Cancel", 0, 100, self.w)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        cancel = threading.Event()
        dialog.canceled.connect(cancel.set)

        def progress(done: int, total: int) -> bool:
            call_in_gui(lambda: dialog.setValue(int(100 * done / max(total, 1))))
            return not cancel.is_set()

        return dialog, progress

    def export_all(self) -> None:
        path = dialogs.save_path(
            self.w, "Export Everything", str(Path.home() / "memoir-export.zip"), EXPORT_FILTER
        )
        if not path:
            return
        dialog, progress = self._progress("Exporting your conversations and memories…")

        def done(counts: dict[str, int]) -> None:
            dialog.reset()
            self.nav.tell(
                f"Exported {counts['conversations']} conversations, {counts['messages']} messages and "
                f"{counts['memories']} memories to {Path(path).name}.",
                8000,
            )

        self.ops.export_all(Path(path), progress, done)
        self.ops.failed.connect(dialog.reset, Qt.ConnectionType.SingleShotConnection)

    def import_file(self) -> None:
        path = dialogs.open_path(self.w, "Import a Memoir Export", EXPORT_FILTER + ";;All files (*)")
        if path:
            self.ops.read_import(Path(path), self._confirm_import)

    def _confirm_import(self, read: tuple[dict[str, Any], Preview]) -> None:
        data, preview = read
        if not preview.conversations and not preview.memories:
            dialogs.warn(self.w, "Import", f"Nothing to import: {preview.describe()}.")
            return
        if not dialogs.confirm(self.w, "Import", f"This will add {preview.describe()}.", "Import"):
            return
        dialog, progress = self._progress("Importing…")

        def done(added: Preview) -> None:
            dialog.reset()
            self.nav.tell(f"Imported {added.describe()}.", 8000)

        self.ops.apply_import(data, progress, done)
        self.ops.failed.connect(dialog.reset, Qt.ConnectionType.SingleShotConnection)

    def export_markdown(self) -> None:
        here = self.nav.current_conversation()
        if here is None:
            return
        conversation_id, title = here
        name = title.replace("/", "-") + ".md"
        path = dialogs.save_path(self.w, "Export Conversation", str(Path.home() / name), "Markdown (*.md)")
        if path:
            self.ops.export_markdown(
                conversation_id,
                Path(path),
                lambda _: self.nav.tell(f"Saved {Path(path).name}.", 5000),
            )

    def rebuild_index(self) -> None:
        dialog, progress = self._progress("Re-embedding your memories for search…")

        def done(count: int) -> None:
            dialog.reset()
            self.nav.tell(f"Search index rebuilt ({count} memories embedded).", 6000)

        self.ops.rebuild_index(progress, done)

    def delete_everything(self) -> None:
        if not dialogs.confirm(
            self.w,
            "Delete everything",
            "Delete every conversation, memory and learned ranking? Your settings are kept. "
            "This cannot be undone — export first if you may want them back.",
            "Delete Everything",
        ):
            return
        self.nav.close_conversation()
        self.ops.delete_everything(lambda _: self.nav.tell("Everything was deleted.", 8000))

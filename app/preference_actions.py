"""Wires the preferences panel, its dock and "Edit Reply…" into the main window."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QDockWidget, QMessageBox, QPushButton

from app import dialogs
from app.layout import in_front, panel_action
from app.memory_dialogs import history_html
from app.preferences_panel import PreferencesPanel
from memory.preferences.preference_store import Preference
from memory.store.database import Message

if TYPE_CHECKING:
    from app.controller import ChatController
    from app.navigation import Navigation

UNDO_SECONDS = 10


class PreferenceActions(QObject):
    """The preferences panel and "Edit Reply…", placed and shown through the window's
    :class:`app.navigation.Navigation`."""

    def __init__(self, nav: Navigation, controller: ChatController) -> None:
        self.w = nav.dialog_parent()  # the parent of its dialogs, nothing more
        super().__init__(self.w)
        self.nav = nav
        self.ops = controller.preference_ops
        self.panel = PreferencesPanel()
        self.panel.file_label.setText(
            f"Also in a file you can edit in any editor: {self.ops.file.path} (changes apply when you save)."
        )
        self.dock = QDockWidget("Preferences", self.w)
        self.dock.setObjectName("preferencesDock")
        self.dock.setWidget(self.panel)
        nav.add_side_panel(self.dock)
        self.panel_action = panel_action(self.dock, "&Preferences Panel", "Ctrl+Shift+P")
        memory_menu = nav.menu("memory")
        memory_menu.insertAction(memory_menu.actions()[0], self.panel_action)
        self._deleted: list[tuple[int, str]] = []
        self._proposed: set[int] | None = None  # the proposals known so far (None: not loaded yet)
        self._undo_timer = QTimer(self, singleShot=True, interval=UNDO_SECONDS * 1000)
        self._undo_button = QPushButton("Undo Delete")
        self._undo_button.hide()
        nav.add_status_widget(self._undo_button)
        self._connect()
        self.dock.visibilityChanged.connect(self._on_visible)
        self.ops.start()

    def _on_visible(self, visible: bool) -> None:
        if visible:
            self.dock.raise_()  # its tab in front, whichever panel was showing
            if self.dock.width() < 620:  # room for the text next to the other columns
                self.nav.widen_side_panel(self.dock, 720)

    def _connect(self) -> None:
        p = self.panel
        p.action_requested.connect(self._on_action)
        p.edit_then_accept_requested.connect(self.edit_then_accept)
        p.add_requested.connect(self.add)
        p.history_requested.connect(self.show_history)
        p.rules_requested.connect(self.edit_rules)
        p.evidence_requested.connect(self.nav.jump_to_message)
        p.model.edit_requested.connect(lambda i, t: self.ops.change("edit", i, t))
        p.model.category_requested.connect(lambda i, c: self.ops.change("set_category", i, c))
        self.ops.changed.connect(p.set_preferences)
        self.ops.changed.connect(self._announce)
        self.ops.problem.connect(self._on_problem)
        self._undo_timer.timeout.connect(self._close_undo)
        self._undo_button.clicked.connect(self.undo_delete)

    def _announce(self, prefs: list[Preference]) -> None:
        """Say when proposals wait (at start) or arrive (from reflection), unless the panel is in
        front; the menu item counts them, so they are not missed with the panel closed."""
        proposed = {p.id: p.text for p in prefs if p.status == "proposed"}
        count = f" ({len(proposed)} to review)" if proposed else ""
        self.panel_action.setText(f"&Preferences Panel{count}")
        new = [text for pref_id, text in proposed.items() if pref_id not in (self._proposed or set())]
        first = self._proposed is None
        self._proposed = set(proposed)
        if not new or in_front(self.dock):
            return
        where = "review in Memory → Preferences Panel (Ctrl+Shift+P)"
        if first:
            n = len(new)
            waiting = "1 preference proposal waits" if n == 1 else f"{n} preference proposals wait"
            self.nav.tell(f"{waiting} for you: {where}.", 10000)
        else:
            quoted = f"“{new[0]}”" + (f" and {len(new) - 1} more" if len(new) > 1 else "")
            self.nav.tell(f"A preference proposed from your chat, {quoted}, waits for you: {where}.", 15000)

    def _on_action(self, name: str, args: tuple[Any, ...]) -> None:
        if name == "delete":
            pref = self._find(args[0])
            if pref is not None:
                self._deleted.append((pref.id, pref.status))
                self._undo_button.show()
                self._undo_timer.start()
                self.nav.tell("Preference deleted.", UNDO_SECONDS * 1000)
        self.ops.change(name, *args)

    def _find(self, pref_id: int) -> Preference | None:
        model = self.panel.model
        return next(
            (model.preference(r) for r in range(model.rowCount()) if model.preference(r).id == pref_id), None
        )

    def undo_delete(self) -> None:
        for pref_id, status in self._deleted:
            self.ops.change("restore", pref_id, status)
        self._close_undo()

    def _close_undo(self) -> None:
        self._deleted.clear()
        self._undo_timer.stop()
        self._undo_button.hide()

    def _on_problem(self, text: str) -> None:
        self.panel.show_problem(text)
        if text:
            self.nav.tell(text, 15000)

    def add(self) -> None:
        text = dialogs.ask_text(self.w, "Add a Preference", "What should Memoir always keep in mind?")
        if text and text.strip():
            self.ops.change("add", text)

    def edit_then_accept(self, pref_id: int) -> None:
        pref = self._find(pref_id)
        if pref is None:
            return
        text = dialogs.ask_text(self.w, "Edit and Accept", "The preference, as you want it:", pref.text)
        if text and text.strip():
            self.ops.change("accept", pref_id, text)

    def edit_rules(self) -> None:
        self.ops.read("rules", on_done=self._ask_rules)

    def _ask_rules(self, rules: list[str]) -> None:
        text = dialogs.ask_text(
            self.w,
            "Never Remember",
            "Words or topics Memoir must never learn a preference about, one per line:",
            "\n".join(rules),
            multiline=True,
        )
        if text is not None:
            self.ops.change("set_rules", text.splitlines())

    def show_history(self, pref_id: int) -> None:
        pref = self._find(pref_id)
        current = pref.text if pref else ""

        def show(history: list[dict[str, object]]) -> None:
            QMessageBox.information(self.w, "Preference History", history_html(current, history))

        self.ops.read("history", pref_id, on_done=show)

    def edit_reply(self, message: Message) -> None:
        text = dialogs.ask_text(
            self.w,
            "Edit Reply",
            "Change the reply into what you wanted. Memoir keeps your version and learns from it.",
            message.content,
            multiline=True,
        )
        if text is not None and text.strip() and text.strip() != message.content.strip():
            self.ops.edit_reply(message.id, text)

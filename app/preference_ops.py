"""The GUI's door to preferences: the table, consent, the editable file, and edits of replies."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from app.ops import call_in_gui
from memory.preferences.markdown_file import PreferencesFile, PreferencesFileError, Watcher
from memory.preferences.preference_store import Preference
from memory.store.database import Message

if TYPE_CHECKING:
    from app.controller_api import Core

log = logging.getLogger(__name__)


class PreferenceOps(QObject):
    changed = Signal(object)  # [Preference]: every visible one
    problem = Signal(str)  # the preferences file does not parse ("" once it does)

    def __init__(self, controller: Core, path: Path) -> None:
        super().__init__()
        self.c = controller
        self.file = PreferencesFile(path, controller.preferences)
        self._watcher: Watcher | None = None

    def start(self) -> None:
        """Show the preferences, write their file if it is missing, and watch it for the user's edits."""
        self.c.lanes.run(
            self.c.io_lane,
            self._first_load,
            on_done=self._loaded,
            on_error=self.c.lanes.report,
        )
        try:
            self._watcher = Watcher(self.file.path, lambda: call_in_gui(self.reload_file))
        except OSError as exc:  # e.g. out of inotify watches: the file still works, just not live
            log.warning("cannot watch the preferences file", exc_info=exc)

    def _first_load(self) -> list[Preference]:
        if self.file.path.exists():
            try:
                self.file.load()
            except PreferencesFileError as exc:
                text = f"{self.file.path.name} was not applied — {exc}. Nothing was changed."
                call_in_gui(lambda: self.problem.emit(text))
        else:
            self.file.write()
        return self.c.preferences.all()

    def _loaded(self, prefs: list[Preference]) -> None:
        self.changed.emit(prefs)

    def load(self, write_file: bool = False) -> None:
        def load() -> list[Preference]:
            if write_file:
                self.file.write()
            return self.c.preferences.all()

        self.c.lanes.run(self.c.io_lane, load, on_done=self._loaded, on_error=self.c.lanes.report)

    def change(self, action: str, *args: Any) -> None:
        """Run a PreferenceStore method (add, edit, accept, reject, delete, …), then rewrite the file."""

        def change() -> list[Preference]:
            getattr(self.c.preferences, action)(*args)
            self.file.write()
            return self.c.preferences.all()

        self.c.lanes.run(
            self.c.io_lane,
            change,
            on_done=self._loaded,
            on_error=lambda exc: self.c.problem.emit(f"Preference not changed: {exc}"),
        )

    def reload_file(self) -> None:
        """The file changed on disk (maybe by the user): apply it, or say why it cannot be."""

        def reload() -> list[Preference] | None:
            try:
                changed = self.file.load()
            except PreferencesFileError as exc:
                text = f"{self.file.path.name} was not applied — {exc}. Nothing was changed."
                call_in_gui(lambda: self.problem.emit(text))
                return None
            call_in_gui(lambda: self.problem.emit(""))
            return self.c.preferences.all() if changed else None

        def reloaded(prefs: list[Preference] | None) -> None:
            if prefs is not None:
                self._loaded(prefs)

        self.c.lanes.run(self.c.io_lane, reload, on_done=reloaded)

    def edit_reply(self, message_id: int, text: str) -> None:
        """Replace a reply with the user's edit, and learn what preference the edit shows (CIPHER)."""
        model, cipher, settings = self.c.model, self.c.cipher, self.c.settings

        def learn() -> tuple[str, Message]:
            context, original = self.c.chat.edit_reply(message_id, text)
            phrase = ""
            if model is not None and cipher is not None:
                phrase = cipher.learn(
                    message_id, context, original, text, model, settings.auto_accept_preferences
                )
            return phrase, self.c.store.message(message_id)

        def learned(result: tuple[str, Message]) -> None:
            self.c.forget_states()  # the reply as it was must not live on in a saved cache
            phrase, message = result
            self.c.message_added.emit(message)
            self.load(write_file=True)
            if phrase:
                self.c.problem.emit(f"Learned from your edit: “{phrase}” — see Preferences.")

        self.c.lanes.run(
            self.c.model_lane,
            learn,
            on_done=learned,
            on_error=lambda exc: self.c.problem.emit(f"Edit not saved: {exc}"),
        )

    def read(self, name: str, *args: Any, on_done: Any) -> None:
        """A PreferenceStore read (rules, history, …) off the GUI thread; ``on_done`` gets the result."""
        self.c.lanes.run(
            self.c.io_lane,
            getattr(self.c.preferences, name),
            *args,
            on_done=on_done,
            on_error=self.c.lanes.report,
        )

    def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()

"""The GUI's door to the user's memory: browse, edit, forget, search, export, import, wipe.

Every call runs on a lane (disk on the io lane, index work on the index lane) and answers with a
signal or a callback on the GUI thread. Long operations take a ``progress(done, total) -> bool``
callback; returning False cancels them without changing anything.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from memory.retrieval.book import MemoryBook
from memory.runtime.lane import BACKGROUND
from memory.store.export import conversation_markdown, export_all
from memory.store.import_preview import Preview, preview, read_export
from memory.store.importer import apply
from memory.store.items import TOPIC
from memory.store.message_search import search_messages

if TYPE_CHECKING:
    from app.controller_api import Core

Progress = Callable[[int, int], bool]


class MemoryOps(QObject):
    entries_loaded = Signal(str, object)  # query, [Entry]
    about_loaded = Signal(object)  # ([(category, [Entry])], [Preference] in use or proposed)
    messages_found = Signal(str, object)  # query, [Found]
    changed = Signal()  # memories were edited, forgotten, imported or wiped
    failed = Signal(str)  # a message for the user

    def __init__(self, controller: Core) -> None:
        super().__init__()
        self.c = controller

    def _book(self) -> MemoryBook:
        if self.c.memory is None:
            raise RuntimeError("Memory is still opening; try again in a moment.")
        return MemoryBook(self.c.memory)

    def _io(self, fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None) -> None:
        self.c.lanes.run(
            self.c.io_lane, fn, *args, on_done=on_done, on_error=lambda exc: self.failed.emit(str(exc))
        )

    def _reindex(self) -> None:
        """Make new data searchable: turns for messages that have none (an export may carry messages
        without their search items), then their vectors."""
        memory = self.c.memory
        if memory is not None:

            def reindex() -> None:
                memory.backfill()
                memory.indexer.sync()

            self.c.lanes.run(self.c.index_lane, reindex, priority=BACKGROUND, on_error=self.c.lanes.report)

    # Browse and correct ----------------------------------------------------------------------

    def load(self, query: str = "", kinds: tuple[str, ...] = (TOPIC,), days: int = 0) -> None:
        """Entries matching ``query`` (all if empty) of ``kinds``, from the last ``days`` (0: any time)."""
        since = (datetime.now(UTC) - timedelta(days=days)).isoformat() if days else ""
        self._io(
            lambda: self._book().search(query, kinds, since),
            on_done=lambda e: self.entries_loaded.emit(query, e),
        )

    def rebuild_index(self, progress: Progress, on_done: Callable[[int], None]) -> None:
        """Re-embed every memory from SQLite on the index lane; a cancel leaves the rest for later."""
        memory = self.c.memory
        if memory is None:
            self.failed.emit("Memory is still opening; try again in a moment.")
            return
        total = memory.items.count()
        state = {"go": True}

        def step(done: int) -> None:
            state["go"] = progress(done, total)

        self.c.lanes.run(
            self.c.index_lane,
            lambda: memory.indexer.rebuild(progress=step, cancelled=lambda: not state["go"]),
            on_done=on_done,
            on_error=lambda exc: self.failed.emit(str(exc)),
        )

    def edit(self, item_id: int, text: str) -> None:
        self._io(self._book_call, "edit", item_id, text, on_done=lambda _: self._done())

    def forget(self, item_id: int) -> None:
        self._io(self._book_call, "forget", item_id, on_done=lambda _: self._done())

    def undo_forget(self, item_id: int) -> None:
        self._io(self._book_call, "undo_forget", item_id, on_done=lambda _: self._done())

    def purge(self) -> None:
        """Delete forgotten memories for good (the undo window has closed), then rewrite the vector
        index without them (on its own lane)."""
        memory = self.c.memory
        if memory is None:
            return

        def compact(purged: int) -> None:
            if purged:
                self.c.forget_states()
                self.c.lanes.run(
                    self.c.index_lane, memory.compact, priority=BACKGROUND, on_error=self.c.lanes.report
                )

        self._io(self._book_call, "purge_forgotten", on_done=compact)

    def versions(self, item_id: int, on_done: Callable[[list[dict[str, object]]], None]) -> None:
        self._io(self._book_call, "versions", item_id, on_done=on_done)

    def about_me(self) -> None:
        def about() -> tuple[list[Any], list[Any]]:
            shown = [p for p in self.c.preferences.all() if p.status in ("active", "proposed")]
            return self._book().about_me(), shown

        self._io(about, on_done=self.about_loaded.emit)

    def _book_call(self, name: str, *args: Any) -> Any:
        return getattr(self._book(), name)(*args)

    def _done(self) -> None:
        self._reindex()
        self.changed.emit()

    # Search past conversations ---------------------------------------------------------------

    def find(self, query: str, conversation_id: int | None = None) -> None:
        self._io(
            search_messages,
            self.c.store,
            query,
            conversation_id,
            on_done=lambda f: self.messages_found.emit(query, f),
        )

    # Export, import, delete everything -------------------------------------------------------

    def export_all(self, path: Path, progress: Progress, on_done: Callable[[dict[str, int]], None]) -> None:
        settings = self.c.settings.exportable()  # no API key in a file meant to be moved around
        self._io(lambda: export_all(self.c.store, path, settings, progress), on_done=on_done)

    def export_markdown(self, conversation_id: int, path: Path, on_done: Callable[[Any], None]) -> None:
        from memory.runtime.paths import atomic_write_text

        self._io(
            lambda: atomic_write_text(path, conversation_markdown(self.c.store, conversation_id)),
            on_done=on_done,
        )

    def read_import(self, path: Path, on_done: Callable[[tuple[dict[str, Any], Preview]], None]) -> None:
        def read() -> tuple[dict[str, Any], Preview]:
            data = read_export(path)
            return data, preview(self.c.store, data)

        self._io(read, on_done=on_done)

    def apply_import(
        self, data: dict[str, Any], progress: Progress, on_done: Callable[[Preview], None]
    ) -> None:
        def imported(result: Preview) -> None:
            self._reindex()
            self.changed.emit()
            self.c.conversations.refresh()
            on_done(result)

        self._io(lambda: apply(self.c.store, data, progress), on_done=imported)

    def delete_everything(self, on_done: Callable[[Any], None]) -> None:
        memory = self.c.memory

        def wipe() -> None:
            if memory is None:
                self.c.store.wipe()
            else:
                memory.indexer.cancelled = True  # stop any indexing in progress first
                self.c.index_lane.submit(lambda: None).result()
                memory.wipe()
                memory.indexer.cancelled = False

        def wiped(_: Any) -> None:
            self.c.forget_states()
            self.changed.emit()
            self.c.conversations.refresh()
            self.c.preference_ops.load(write_file=True)  # preferences.md too, or it would bring them back
            on_done(None)

        self._io(wipe, on_done=wiped)

"""Preferences as a Markdown file the user may edit in any editor; edits apply live.

The file lists active and disabled preferences, one per "- " line, under "## category" headings.
"[pinned]" and "[off]" at the start of a line pin or disable it; " {#12}" at the end ties the line to
preference 12 (a line without it is a new preference; a preference whose line is gone is deleted).
A file that does not parse changes nothing, and the error is shown. Memoir's own writes are
recognised by their content hash, so they never come back as "external" edits.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory.preferences.preference_store import CATEGORIES, Preference, PreferenceStore
from memory.runtime.paths import atomic_write_text

HEADER = """# My preferences for Memoir

<!-- Edit freely; Memoir applies your changes when you save. One preference per line starting with
"- ". "## category" lines set the category ({categories}). Start a line with [pinned] to always
include it, or [off] to keep it but not use it. Keep the {{#n}} at the end of a line to edit that
preference; delete a line to delete the preference. -->
"""
_ITEM = re.compile(r"^- ((?:\[(?:pinned|off)\]\s*)*)(.*?)(?:\s*\{#(\d+)\})?\s*$")
DEBOUNCE = 0.4


class PreferencesFileError(ValueError):
    """The file does not parse; the message names the line."""


@dataclass(frozen=True)
class Line:
    text: str
    category: str
    pinned: bool
    off: bool
    pref_id: int | None


def render(preferences: list[Preference]) -> str:
    out = [HEADER.format(categories=", ".join(CATEGORIES))]
    for category in CATEGORIES:
        chosen = [p for p in preferences if p.category == category and p.status in ("active", "disabled")]
        if not chosen:
            continue
        out.append(f"\n## {category}\n")
        for p in chosen:
            tags = ("[pinned] " if p.pinned else "") + ("[off] " if p.status == "disabled" else "")
            out.append(f"- {tags}{p.text} {{#{p.id}}}")
    return "\n".join(out) + "\n"


def parse(text: str) -> list[Line]:
    lines: list[Line] = []
    category = "other"
    in_comment = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if in_comment or line.startswith("<!--"):
            in_comment = "-->" not in line
            continue
        if not line or line.startswith("# "):
            continue
        if line.startswith("## "):
            name = line[3:].strip().casefold()
            if name not in CATEGORIES:
                raise PreferencesFileError(f"line {number}: unknown category “{line[3:].strip()}”")
            category = name
            continue
        match = _ITEM.match(line)
        if match is None or not match.group(2).strip():
            raise PreferencesFileError(
                f"line {number}: expected “- a preference” or “## category”, found “{line[:60]}”"
            )
        tags = match.group(1)
        pref_id = int(match.group(3)) if match.group(3) else None
        lines.append(Line(match.group(2).strip(), category, "[pinned]" in tags, "[off]" in tags, pref_id))
    return lines


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class PreferencesFile:
    def __init__(self, path: Path, store: PreferenceStore) -> None:
        self.path = path
        self.store = store
        self._written: str | None = None  # hash of Memoir's last write
        self._lock = threading.Lock()

    def write(self) -> None:
        text = render(self.store.all(("active", "disabled")))
        with self._lock:
            atomic_write_text(self.path, text)
            self._written = _hash(text.encode("utf-8"))

    def load(self) -> bool:
        """Apply the file if someone else changed it; True if it did. Raises PreferencesFileError."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return False
        with self._lock:
            if _hash(data) == self._written:
                return False  # our own write coming back
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PreferencesFileError(
                f"the file is not text (UTF-8): {exc.reason} at byte {exc.start}"
            ) from exc
        if "\x00" in text:
            raise PreferencesFileError("the file contains binary data")
        self._apply(parse(text))
        self.write()  # normalised, with ids for new lines
        return True

    def _apply(self, lines: list[Line]) -> None:
        known = {p.id: p for p in self.store.all(("active", "disabled"))}
        seen: set[int] = set()
        for line in lines:
            if line.pref_id is not None and line.pref_id in known:
                pref = known[line.pref_id]
                seen.add(pref.id)
                if line.text != pref.text:
                    self.store.edit(pref.id, line.text, "edited in the preferences file")
                if line.category != pref.category:
                    self.store.set_category(pref.id, line.category)
                if line.pinned != pref.pinned:
                    self.store.set_pinned(pref.id, line.pinned)
                if line.off != (pref.status == "disabled"):
                    self.store.set_enabled(pref.id, not line.off)
            else:
                new = self.store.add(line.text, line.category, line.pinned)
                if line.off:
                    self.store.set_enabled(new, False)
        for pref_id in set(known) - seen:
            self.store.delete(pref_id)


class Watcher:
    """Calls ``on_change`` (from a worker thread) shortly after the file changes on disk.

    The directory is watched, not the file: editors that save atomically replace the file with a
    new one (a move or a create), which a watch on the old file would miss.
    """

    def __init__(self, path: Path, on_change: Callable[[], None]) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        self.path = path
        self._on_change = on_change
        self._timer: threading.Timer | None = None
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                names = {
                    Path(str(event.src_path)).name,
                    Path(str(getattr(event, "dest_path", "") or "")).name,
                }
                if path.name in names and event.event_type in ("modified", "created", "moved"):
                    watcher._poke()

        path.parent.mkdir(parents=True, exist_ok=True)
        self._observer = Observer()
        self._observer.schedule(Handler(), str(path.parent), recursive=False)
        self._observer.daemon = True
        self._observer.start()

    def _poke(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(DEBOUNCE, self._on_change)
        self._timer.daemon = True
        self._timer.start()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._observer.stop()
        self._observer.join(timeout=5)

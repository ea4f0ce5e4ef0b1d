"""Dialogs of the memory browser: search across conversations, "What do you know about me?", history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QTextBrowser, QVBoxLayout, QWidget

from app import theme
from memory.preferences.preference_store import Preference
from memory.retrieval.book import Entry
from memory.store import sources
from memory.store.message_search import MARK_END, MARK_START, Found


def _marked(snippet: str) -> str:
    """A snippet as HTML: escaped, with the matches in bold."""
    return (
        escape(snippet)
        .replace(MARK_START, f"<b style='background:{theme.current().highlight}'>")
        .replace(MARK_END, "</b>")
    )


class Browser(QTextBrowser):
    """Rich text that never loads anything (no files, no network); links call ``on_link``."""

    def __init__(self, on_link: Callable[[str], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(lambda url: on_link(url.toString()))

    def loadResource(self, type: int, name: QUrl | str) -> object:
        return None


class SearchDialog(QDialog):
    """Find messages across all conversations (or one); click a result to jump to it."""

    def __init__(
        self,
        search: Callable[[str, int | None], None],
        jump: Callable[[int, int], None],
        conversation: tuple[int, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._search, self._jump = search, jump
        self.scope = conversation[0] if conversation else None
        self.setWindowTitle(f"Find in “{conversation[1]}”" if conversation else "Search All Conversations")
        self.resize(640, 480)
        self.query = QLineEdit(placeholderText="Words to look for…", clearButtonEnabled=True)
        self.summary = QLabel()
        self.results = Browser(self._open)
        layout = QVBoxLayout(self)
        for widget in (self.query, self.summary, self.results):
            layout.addWidget(widget)
        self._debounce = QTimer(self, singleShot=True, interval=200)
        self.query.textChanged.connect(lambda _t: self._debounce.start())
        self._debounce.timeout.connect(lambda: self._search(self.query.text(), self.scope))

    def show_results(self, query: str, found: list[Found]) -> None:
        if query != self.query.text():
            return
        self.summary.setText(f"{len(found)} message(s)" if query.strip() else "")
        rows = [
            f"<p><a href='memoir-message:{f.conversation_id}:{f.message_id}'>"
            f"{escape(f.conversation_title)}</a> · {'You' if f.role == 'user' else 'Memoir'}"
            f" · {escape(f.created_at[:16].replace('T', ' '))}<br>"
            f"{_marked(f.snippet)}</p>"
            for f in found
        ]
        self.results.setHtml("".join(rows) or ("<p>No messages found.</p>" if query.strip() else ""))

    def _open(self, link: str) -> None:
        _, conversation, message = link.split(":")
        self._jump(int(conversation), int(message))


def _proposals(n: int) -> str:
    return f"{n} proposal" if n == 1 else f"{n} proposals"


def about_html(groups: list[tuple[str, list[Entry]]], preferences: Sequence[Preference] = ()) -> str:
    in_use = [p for p in preferences if p.status == "active"]
    waiting = len([p for p in preferences if p.status == "proposed"])
    if not groups and not in_use and not waiting:
        return "<p>Nothing yet. Memoir remembers what you tell it once a conversation ends.</p>"
    parts = [
        "<p>What Memoir believes about you, from your conversations."
        " Click a line to see where it came from.</p>"
    ]
    if in_use or waiting:  # first: these shape every answer
        parts.append("<h3>How you like to be answered</h3>")
        if in_use:
            parts.append("<ul>" + "".join(f"<li>{escape(p.text)}</li>" for p in in_use) + "</ul>")
        if waiting:
            parts.append(
                f"<p><i>{_proposals(waiting)} from your chats {'waits' if waiting == 1 else 'wait'} for you"
                " in Memory → Preferences Panel; none is used until you accept it.</i></p>"
            )
    for name, entries in groups:
        parts.append(f"<h3>{escape(name)}</h3><ul>")
        for e in entries:
            target = (
                f"memoir-message:{e.conversation_id}:{e.message_ids[0]}"
                if e.conversation_id and e.message_ids
                else ""
            )
            text = f"{escape(e.text)} <i>({escape(sources.label(e.source))})</i>"
            parts.append(f"<li><a href='{target}'>{text}</a></li>" if target else f"<li>{text}</li>")
        parts.append("</ul>")
    return "".join(parts)


class AboutMeDialog(QDialog):
    def __init__(
        self,
        groups: list[tuple[str, list[Entry]]],
        jump: Callable[[int, int], None],
        parent: QWidget | None = None,
        preferences: Sequence[Preference] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("What Memoir Knows About You")
        self.resize(620, 520)
        self._jump = jump
        self.text = Browser(self._open)
        self.text.setHtml(about_html(groups, preferences))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)

    def _open(self, link: str) -> None:
        _, conversation, message = link.split(":")
        self._jump(int(conversation), int(message))


def history_html(current: str, versions: list[dict[str, object]]) -> str:
    rows = [f"<p><b>Now:</b> {escape(current)}</p>"]
    rows += [
        f"<p><b>Until {escape(str(v['replaced_at'])[:16].replace('T', ' '))}</b>"
        f" ({escape(str(v['reason']))}):"
        f" {escape(str(v['text']))}</p>"
        for v in versions
    ]
    if not versions:
        rows.append("<p>No earlier versions.</p>")
    return "".join(rows)

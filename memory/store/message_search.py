"""Search across past conversations (FTS5 over messages), with the matches marked for display."""

from __future__ import annotations

from dataclasses import dataclass

from memory.store.database import Store
from memory.store.lexical import fts_query

MARK_START, MARK_END = "\x02", "\x03"  # around matches in snippets; the GUI turns them into bold


@dataclass(frozen=True)
class Found:
    message_id: int
    conversation_id: int
    conversation_title: str
    role: str
    created_at: str
    snippet: str


def search_messages(
    store: Store, query: str, conversation_id: int | None = None, limit: int = 200
) -> list[Found]:
    """Messages matching ``query`` (any of its words, stemmed), best first."""
    match = fts_query(query)
    if not match:
        return []
    where = "messages_fts MATCH ?"
    params: list[object] = [match]
    if conversation_id is not None:
        where += " AND m.conversation_id = ?"
        params.append(conversation_id)
    rows = store.query(
        "SELECT m.id, m.conversation_id, c.title, m.role, m.created_at,"
        f" snippet(messages_fts, 0, '{MARK_START}', '{MARK_END}', '…', 24) AS snippet"
        " FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
        " JOIN conversations c ON c.id = m.conversation_id"
        f" WHERE {where} ORDER BY bm25(messages_fts) LIMIT ?",
        (*params, limit),
    )
    return [
        Found(r["id"], r["conversation_id"], r["title"], r["role"], r["created_at"], r["snippet"])
        for r in rows
    ]

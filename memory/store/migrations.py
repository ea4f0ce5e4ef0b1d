"""Named, ordered, transactional schema migrations for the SQLite store."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from memory.store.conversation_text import m011_conversation_text, m012_conversation_vocabulary
from memory.store.schema_memory import (
    m001_conversations_and_messages,
    m002_memory_items,
    m003_fts_vocabulary,
    m004_reflection,
    m005_recall,
)
from memory.store.schema_user import (
    m006_your_memory,
    m007_preferences,
    m008_reranker_features,
    m009_sources_and_attribution,
    m010_deleted_messages_take_their_edits,
)

Migration = tuple[str, Callable[[sqlite3.Connection], None]]


MIGRATIONS: list[Migration] = [
    ("001_conversations_and_messages", m001_conversations_and_messages),
    ("002_memory_items", m002_memory_items),
    ("003_fts_vocabulary", m003_fts_vocabulary),
    ("004_reflection", m004_reflection),
    ("005_recall", m005_recall),
    ("006_your_memory", m006_your_memory),
    ("007_preferences", m007_preferences),
    ("008_reranker_features", m008_reranker_features),
    ("009_sources_and_attribution", m009_sources_and_attribution),
    ("010_deleted_messages_take_their_edits", m010_deleted_messages_take_their_edits),
    ("011_conversation_text", m011_conversation_text),
    ("012_conversation_vocabulary", m012_conversation_vocabulary),
]


def apply(conn: sqlite3.Connection, migrations: list[Migration] = MIGRATIONS) -> list[str]:
    """Apply every migration not yet recorded, each in its own transaction; return the names run.

    ``conn`` must be in autocommit mode (``isolation_level=None``) so transactions are explicit.
    """
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    ran = []
    for name, step in migrations:
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            step(conn)
            conn.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                (name, datetime.now(UTC).isoformat()),
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        ran.append(name)
    return ran

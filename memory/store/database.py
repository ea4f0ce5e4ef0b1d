"""The SQLite store: the single source of truth for conversations and messages."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from memory.store import conversation_text, migrations

DEFAULT_TITLE = "New conversation"
# A reply still marked as streaming when the store opens was cut off by a crash or kill.
INTERRUPTED = "interrupted"
# A reply a model server stopped sending (it went away): what arrived is kept.
CUT_OFF = "cut off"


_clock_lock = threading.Lock()
_last_stamp = datetime.min.replace(tzinfo=UTC)


def now() -> str:
    """A UTC timestamp, strictly increasing within the process (coarse clocks tie otherwise)."""
    global _last_stamp
    with _clock_lock:
        stamp = max(datetime.now(UTC), _last_stamp + timedelta(microseconds=1))
        _last_stamp = stamp
    return stamp.isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    created_at: str
    updated_at: str


CONVERSATION_COLUMNS = "id, title, created_at, updated_at"


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: int
    role: str
    content: str
    status: str
    created_at: str
    updated_at: str
    model: str | None = None
    tokens: int | None = None
    tokens_per_second: float | None = None


class Store:
    """Thread-safe access to the database; every write is its own durable transaction."""

    class DoesNotExist(LookupError):
        pass

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5.0)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a committed user message survives even a power cut, not just a crash.
        conn.execute("PRAGMA synchronous = FULL")
        # Deleted text is overwritten, not left in free pages: some SQLite builds (python.org's for
        # macOS and Windows) default this off, so "forget" would leave the words in the file.
        conn.execute("PRAGMA secure_delete = ON")
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        migrations.apply(conn)
        self.recovered = self._recover_interrupted()

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic, serialized write. A COMMIT that fails (disk full, locked) rolls back too, so
        the shared connection never stays inside a transaction that every later write would hit."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    def scrub(self) -> None:
        """After deleting what the user asked to forget: merge the full-text indexes (their old
        segments still hold deleted words; freed pages are zeroed by secure_delete) and fold the
        WAL, whose frames hold old page images, back into the file and truncate it."""
        with self.transaction() as conn:
            conversation_text.refresh(conn)  # its rows still hold what was forgotten until rebuilt
        with self._lock:
            for table in ("memory_fts", "messages_fts", "conversation_fts"):
                self.conn.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _rollback(self) -> None:
        if self.conn.in_transaction:  # SQLite may have rolled back already (e.g. on SQLITE_FULL)
            self.conn.execute("ROLLBACK")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Rows as dicts (sqlite-utils' query; its table helpers are not used for writes: they commit
        on their own, which would end the transactions above early)."""
        with self._lock:
            return list(self.db.query(sql, params))

    def _recover_interrupted(self) -> int:
        with self.transaction() as conn:
            cursor = conn.execute("UPDATE messages SET status = ? WHERE status = 'streaming'", (INTERRUPTED,))
            return cursor.rowcount

    # Conversations -------------------------------------------------------------------------

    def create_conversation(self, title: str = DEFAULT_TITLE) -> Conversation:
        stamp = now()
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)",
                (title, stamp, stamp),
            )
            new_id = cursor.lastrowid
        assert new_id is not None
        return Conversation(new_id, title, stamp, stamp)

    def conversations(self) -> list[Conversation]:
        rows = self.query(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations ORDER BY updated_at DESC, id DESC"
        )
        return [Conversation(**row) for row in rows]

    def conversation(self, conversation_id: int) -> Conversation:
        rows = self.query(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?", (conversation_id,)
        )
        if not rows:
            raise Store.DoesNotExist(f"conversation {conversation_id}")
        return Conversation(**rows[0])

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        title = " ".join(title.split())[:200] or DEFAULT_TITLE
        with self.transaction() as conn:
            conn.execute(
                "UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?",
                (title, now(), conversation_id),
            )

    def delete_conversation(self, conversation_id: int) -> list[int]:
        """Delete it with everything derived from it, and scrub the file of its words (its vectors
        leave the index at the next sync; ``MemoryService.compact`` rewrites the index files).
        Returns the other conversations whose words were in a memory that went with it (a memory
        cannot be unpicked): reflecting on them again learns back what was theirs."""
        from memory.store.forgetting import forget_evidence, forget_items

        with self.transaction() as conn:
            # its own items, and memories of other conversations that took in its words (a sentence
            # joined, a merge)
            items = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM memory_items WHERE conversation_id = ? UNION"
                    " SELECT im.item_id FROM memory_item_messages im"
                    " JOIN messages m ON m.id = im.message_id WHERE m.conversation_id = ?",
                    (conversation_id, conversation_id),
                )
            ]
            marks = ",".join("?" * len(items))
            others = [
                row[0]
                for row in conn.execute(
                    "SELECT DISTINCT m.conversation_id FROM memory_item_messages im"
                    " JOIN messages m ON m.id = im.message_id JOIN memory_items i ON i.id = im.item_id"
                    f" WHERE im.item_id IN ({marks}) AND i.kind != 'turn' AND m.conversation_id != ?"
                    " ORDER BY m.conversation_id",
                    (*items, conversation_id),
                )
            ]
            forget_items(conn, items)  # shown with replies in other conversations too
            conn.executemany("DELETE FROM memory_items WHERE id = ?", [(i,) for i in items])
            forget_evidence(conn, conversation_id)
            conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        self.scrub()
        return others

    # Messages ------------------------------------------------------------------------------

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        status: str = "complete",
        model: str | None = None,
        created_at: str | None = None,
    ) -> Message:
        stamp = created_at or now()
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO messages (conversation_id, role, content, status, created_at,"
                " updated_at, model) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, status, stamp, stamp, model),
            )
            conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (stamp, conversation_id))
            new_id = cursor.lastrowid
        assert new_id is not None
        return self.message(new_id)

    def update_message(self, message_id: int, **changes: Any) -> None:
        allowed = {"content", "status", "tokens", "tokens_per_second", "model"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        changes["updated_at"] = now()
        assignments = ", ".join(f"{name} = ?" for name in changes)
        with self.transaction() as conn:
            conn.execute(f"UPDATE messages SET {assignments} WHERE id = ?", (*changes.values(), message_id))

    def message(self, message_id: int) -> Message:
        rows = self.query("SELECT * FROM messages WHERE id = ?", (message_id,))
        if not rows:
            raise Store.DoesNotExist(f"message {message_id}")
        return Message(**rows[0])

    def messages(self, conversation_id: int) -> list[Message]:
        rows = self.query("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,))
        return [Message(**row) for row in rows]

    def delete_message(self, message_id: int) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM messages WHERE id = ?", (message_id,))

    def wipe(self) -> None:
        """Delete every conversation, memory, receipt and learned weight (settings stay)."""
        with self.transaction() as conn:
            for table in (
                "preference_versions",
                "preferences",
                "never_rules",
                "reply_edits",
                "receipts",
                "recollections",
                "reranker",
                "reranker_features",
                "memory_versions",
                "memory_item_messages",
                "reflection_jobs",
                "reflection_state",
                "memory_items",
                "messages",
                "conversations",
                "index_removals",
                "conversation_fts_stale",
                "conversation_fts",
            ):
                conn.execute(f"DELETE FROM {table}")
            conn.execute("INSERT INTO memory_fts(memory_fts) VALUES ('rebuild')")
            conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")

    def integrity_ok(self) -> bool:
        rows = self.query("PRAGMA integrity_check")
        return [next(iter(r.values())) for r in rows] == ["ok"]

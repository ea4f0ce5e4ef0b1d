"""Named, ordered, transactional schema migrations for the SQLite store."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

Migration = tuple[str, Callable[[sqlite3.Connection], None]]


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run statements one by one (``executescript`` would COMMIT and break the transaction)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement: {statement!r}")


def _m001_conversations_and_messages(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
            content TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'complete',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            model TEXT,
            tokens INTEGER,
            tokens_per_second REAL
        );
        CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
        """,
    )


def _m002_memory_items(conn: sqlite3.Connection) -> None:
    # Every memory item (a message turn now; topic memories and preferences later) is a row here;
    # the Chroma index is derived from these rows and can be rebuilt from them at any time.
    # index_text feeds BM25 and embed_text the vectors: on LoCoMo they are best apart (README).
    run_script(
        conn,
        """
        CREATE TABLE memory_items (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            index_text TEXT NOT NULL,
            embed_text TEXT NOT NULL,
            conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
            message_ids TEXT NOT NULL DEFAULT '[]',
            speaker TEXT,
            occurred_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active',
            indexed_hash TEXT
        );
        CREATE INDEX memory_items_by_kind ON memory_items(kind, status);
        CREATE INDEX memory_items_by_conversation ON memory_items(conversation_id);
        CREATE INDEX memory_items_unindexed ON memory_items(indexed_hash) WHERE indexed_hash IS NULL;
        CREATE TABLE memory_item_messages (
            item_id INTEGER NOT NULL REFERENCES memory_items(id) ON DELETE CASCADE,
            message_id INTEGER NOT NULL,
            PRIMARY KEY (item_id, message_id)
        );
        CREATE INDEX memory_item_messages_by_message ON memory_item_messages(message_id);
        CREATE VIRTUAL TABLE memory_fts USING fts5(
            index_text, content='memory_items', content_rowid='id', tokenize='porter unicode61'
        );
        CREATE TRIGGER memory_items_ai AFTER INSERT ON memory_items BEGIN
            INSERT INTO memory_fts(rowid, index_text) VALUES (new.id, new.index_text);
        END;
        CREATE TRIGGER memory_items_ad AFTER DELETE ON memory_items BEGIN
            INSERT INTO memory_fts(memory_fts, rowid, index_text) VALUES ('delete', old.id, old.index_text);
        END;
        CREATE TRIGGER memory_items_au AFTER UPDATE OF index_text ON memory_items BEGIN
            INSERT INTO memory_fts(memory_fts, rowid, index_text) VALUES ('delete', old.id, old.index_text);
            INSERT INTO memory_fts(rowid, index_text) VALUES (new.id, new.index_text);
        END;
        CREATE TABLE index_removals (
            item_id INTEGER PRIMARY KEY
        );
        CREATE TRIGGER memory_items_removed AFTER DELETE ON memory_items BEGIN
            INSERT OR IGNORE INTO index_removals(item_id) VALUES (old.id);
        END;
        """,
    )


def _m003_fts_vocabulary(conn: sqlite3.Connection) -> None:
    # Document frequencies per (stemmed) term, to leave near-universal terms out of OR queries.
    conn.execute("CREATE VIRTUAL TABLE memory_fts_vocab USING fts5vocab(memory_fts, 'row')")


def _m004_reflection(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE reflection_jobs (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            upto_message_id INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX reflection_jobs_pending ON reflection_jobs(status, id);
        CREATE TABLE reflection_state (
            conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
            reflected_upto INTEGER NOT NULL
        );
        CREATE TABLE memory_versions (
            id INTEGER PRIMARY KEY,
            item_id INTEGER NOT NULL REFERENCES memory_items(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            message_ids TEXT NOT NULL,
            replaced_at TEXT NOT NULL,
            reason TEXT NOT NULL
        );
        CREATE INDEX memory_versions_by_item ON memory_versions(item_id, id);
        """,
    )


def _m005_recall(conn: sqlite3.Connection) -> None:
    """What each user message was answered with, what each reply cited, and the reranker's weights."""
    run_script(
        conn,
        """
        CREATE TABLE recollections (
            message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
            query TEXT NOT NULL,
            block TEXT NOT NULL,          -- exactly what the prompt carried, so later prompts repeat it
            candidates TEXT NOT NULL,     -- JSON [[item_id, retriever score], ...] in retriever order
            shown TEXT NOT NULL,          -- JSON [item_id, ...] as numbered in the block
            created_at TEXT NOT NULL
        );
        CREATE TABLE receipts (
            reply_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,    -- the [n] the model saw
            item_id INTEGER,              -- NULL once the memory is forgotten; the text stays
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            cited INTEGER,                -- 1 cited, 0 not, NULL when citations could not be parsed
            feedback INTEGER,             -- +1 helpful, -1 not relevant, NULL none
            PRIMARY KEY (reply_id, position)
        );
        CREATE INDEX receipts_by_item ON receipts(item_id);
        CREATE TABLE reranker (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version INTEGER NOT NULL,     -- the weights' format
            dimension INTEGER NOT NULL,
            w_q BLOB NOT NULL,            -- float32, row-major; never pickled
            w_m BLOB NOT NULL,
            updates INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        );
        """,
    )


def _m006_your_memory(conn: sqlite3.Connection) -> None:
    """Stable ids for export/import, the user's authorship of a memory, and search over messages."""
    run_script(
        conn,
        """
        ALTER TABLE conversations ADD COLUMN uid TEXT;
        UPDATE conversations SET uid = lower(hex(randomblob(16)));
        CREATE UNIQUE INDEX conversations_by_uid ON conversations(uid);
        CREATE TRIGGER conversations_uid AFTER INSERT ON conversations WHEN new.uid IS NULL BEGIN
            UPDATE conversations SET uid = lower(hex(randomblob(16))) WHERE id = new.id;
        END;
        ALTER TABLE memory_items ADD COLUMN uid TEXT;
        UPDATE memory_items SET uid = lower(hex(randomblob(16)));
        CREATE UNIQUE INDEX memory_items_by_uid ON memory_items(uid);
        CREATE TRIGGER memory_items_uid AFTER INSERT ON memory_items WHEN new.uid IS NULL BEGIN
            UPDATE memory_items SET uid = lower(hex(randomblob(16))) WHERE id = new.id;
        END;
        -- 1 once the user wrote or edited the text: reflection may not merge over it
        ALTER TABLE memory_items ADD COLUMN user_edited INTEGER NOT NULL DEFAULT 0;
        CREATE VIRTUAL TABLE messages_fts USING fts5(
            content, content='messages', content_rowid='id', tokenize='porter unicode61'
        );
        INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
        CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
        END;
        CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
        END;
        CREATE TRIGGER messages_au AFTER UPDATE OF content ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
            INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
        END;
        """,
    )


def _m007_preferences(conn: sqlite3.Connection) -> None:
    """What the user wants, learned or written, with consent (proposed → active) and history."""
    run_script(
        conn,
        """
        CREATE TABLE preferences (
            id INTEGER PRIMARY KEY,
            uid TEXT UNIQUE,
            text TEXT NOT NULL,
            category TEXT NOT NULL DEFAULT 'other',
            origin TEXT NOT NULL,            -- 'chat' (stated in chat), 'edit' (learned from an edit), 'user'
            status TEXT NOT NULL,            -- proposed, active, disabled, rejected, deleted
            pinned INTEGER NOT NULL DEFAULT 0,
            confidence REAL NOT NULL DEFAULT 1.0,
            evidence TEXT NOT NULL DEFAULT '[]',  -- message ids
            replaces INTEGER,                -- a proposal to change this (user-written) preference
            user_written INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TRIGGER preferences_uid AFTER INSERT ON preferences WHEN new.uid IS NULL BEGIN
            UPDATE preferences SET uid = lower(hex(randomblob(16))) WHERE id = new.id;
        END;
        CREATE TABLE preference_versions (
            id INTEGER PRIMARY KEY,
            preference_id INTEGER NOT NULL REFERENCES preferences(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            replaced_at TEXT NOT NULL,
            reason TEXT NOT NULL
        );
        CREATE TABLE never_rules (
            id INTEGER PRIMARY KEY,
            text TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        );
        CREATE TABLE reply_edits (
            id INTEGER PRIMARY KEY,
            message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
            context TEXT NOT NULL,           -- the user message the reply answered
            original TEXT NOT NULL,
            edited TEXT NOT NULL,
            phrase TEXT NOT NULL,            -- the preference the model read into the edit
            vector BLOB,                     -- the context's embedding, float32
            created_at TEXT NOT NULL
        );
        """,
    )


def _m008_reranker_features(conn: sqlite3.Connection) -> None:
    """The reranker's feature weights and their Adam moments (memory.rerank_features)."""
    run_script(
        conn,
        """
        CREATE TABLE reranker_features (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            names TEXT NOT NULL,          -- JSON list of the features, in order: other names, other weights
            theta BLOB NOT NULL,          -- float64 each; never pickled
            first_moment BLOB NOT NULL,
            second_moment BLOB NOT NULL
        );
        """,
    )


def _m009_sources_and_attribution(conn: sqlite3.Connection) -> None:
    """Whose words each memory holds (memory.sources), and how each receipt's "used" was decided."""
    run_script(
        conn,
        """
        ALTER TABLE memory_items ADD COLUMN source TEXT NOT NULL DEFAULT 'user';
        UPDATE memory_items SET source = 'assistant' WHERE kind = 'turn' AND EXISTS (
            SELECT 1 FROM memory_item_messages im JOIN messages m ON m.id = im.message_id
            WHERE im.item_id = memory_items.id AND m.role = 'assistant');
        UPDATE memory_items SET source = 'assistant'
            WHERE kind = 'turn' AND lower(coalesce(speaker, '')) = 'assistant';
        UPDATE memory_items SET source = CASE WHEN user_edited = 1 THEN 'edit' ELSE 'reflection' END
            WHERE kind != 'turn';
        CREATE INDEX memory_items_by_source ON memory_items(source);
        ALTER TABLE receipts ADD COLUMN source TEXT;
        ALTER TABLE receipts ADD COLUMN how TEXT;  -- how "used" was decided, in words for the user
        UPDATE receipts SET source = (SELECT i.source FROM memory_items i WHERE i.id = receipts.item_id);
        UPDATE receipts SET how = CASE cited WHEN 1 THEN 'cited by the reply' WHEN 0 THEN 'not cited'
            ELSE 'the reply gave no citations' END;
        """,
    )
    # Questions are told apart in Python (memory.sources.is_question): the rule is not SQL.
    from memory.sources import QUESTION, is_question

    rows = conn.execute("SELECT id, text FROM memory_items WHERE kind = 'turn' AND source = 'user'")
    questions = [(QUESTION, item_id) for item_id, text in rows.fetchall() if is_question(text)]
    conn.executemany("UPDATE memory_items SET source = ? WHERE id = ?", questions)


def _m010_deleted_messages_take_their_edits(conn: sqlite3.Connection) -> None:
    """A deleted message takes the reply edits made on it (their text quotes it), not just the link."""
    run_script(
        conn,
        """
        DELETE FROM reply_edits WHERE message_id IS NULL;
        CREATE TRIGGER messages_take_their_edits BEFORE DELETE ON messages BEGIN
            DELETE FROM reply_edits WHERE message_id = old.id;
        END;
        """,
    )


MIGRATIONS: list[Migration] = [
    ("001_conversations_and_messages", _m001_conversations_and_messages),
    ("002_memory_items", _m002_memory_items),
    ("003_fts_vocabulary", _m003_fts_vocabulary),
    ("004_reflection", _m004_reflection),
    ("005_recall", _m005_recall),
    ("006_your_memory", _m006_your_memory),
    ("007_preferences", _m007_preferences),
    ("008_reranker_features", _m008_reranker_features),
    ("009_sources_and_attribution", _m009_sources_and_attribution),
    ("010_deleted_messages_take_their_edits", _m010_deleted_messages_take_their_edits),
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

"""Later schema steps: the user's memory view, preferences, reranker features, whose words a
memory holds (migrations 006–010, run in order by ``memory/store/migrations.py``).
"""

from __future__ import annotations

import sqlite3

from memory.store.schema_memory import run_script


def m006_your_memory(conn: sqlite3.Connection) -> None:
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


def m007_preferences(conn: sqlite3.Connection) -> None:
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


def m008_reranker_features(conn: sqlite3.Connection) -> None:
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


def m009_sources_and_attribution(conn: sqlite3.Connection) -> None:
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
    from memory.store.sources import QUESTION, is_question

    rows = conn.execute("SELECT id, text FROM memory_items WHERE kind = 'turn' AND source = 'user'")
    questions = [(QUESTION, item_id) for item_id, text in rows.fetchall() if is_question(text)]
    conn.executemany("UPDATE memory_items SET source = ? WHERE id = ?", questions)


def m010_deleted_messages_take_their_edits(conn: sqlite3.Connection) -> None:
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

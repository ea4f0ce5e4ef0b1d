"""The first schema steps: conversations and messages, memory items and their FTS5 index,
reflection and recall (migrations 001–005, run in order by ``memory/store/migrations.py``).
"""

from __future__ import annotations

import sqlite3


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


def m001_conversations_and_messages(conn: sqlite3.Connection) -> None:
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


def m002_memory_items(conn: sqlite3.Connection) -> None:
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


def m003_fts_vocabulary(conn: sqlite3.Connection) -> None:
    # Document frequencies per (stemmed) term, to leave near-universal terms out of OR queries.
    conn.execute("CREATE VIRTUAL TABLE memory_fts_vocab USING fts5vocab(memory_fts, 'row')")


def m004_reflection(conn: sqlite3.Connection) -> None:
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


def m005_recall(conn: sqlite3.Connection) -> None:
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

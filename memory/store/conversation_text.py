"""Conversations as whole documents for BM25: the coarse first stage of retrieval.

A question often shares words with the conversation its answer sits in more than with the one turn
that holds it (the turn says "it was great", the conversation says "Paris" ten times). Each
conversation's searchable turns (their indexed text) are one row of ``conversation_fts``; triggers
mark a conversation stale when its turns change, and its row is rebuilt before the next search and
before a scrub, so forgotten words leave this index as they leave the others.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from datetime import date
from typing import Any, Protocol

from memory.store.lexical import content_words, fts_query, stem_words
from memory.store.schema_memory import run_script
from memory.store.time_words import day_name


class Store(Protocol):
    """What this module needs of :class:`memory.store.database.Store` (which imports this module
    for its scrub, so it is not imported here)."""

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]: ...

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...


SCHEMA = """
CREATE VIRTUAL TABLE conversation_fts USING fts5(text, tokenize='porter unicode61');
CREATE TABLE conversation_fts_stale (conversation_id INTEGER PRIMARY KEY);
CREATE TRIGGER conversation_fts_ai AFTER INSERT ON memory_items
WHEN new.kind = 'turn' AND new.conversation_id IS NOT NULL BEGIN
    INSERT OR IGNORE INTO conversation_fts_stale VALUES (new.conversation_id);
END;
CREATE TRIGGER conversation_fts_ad AFTER DELETE ON memory_items
WHEN old.kind = 'turn' AND old.conversation_id IS NOT NULL BEGIN
    INSERT OR IGNORE INTO conversation_fts_stale VALUES (old.conversation_id);
END;
CREATE TRIGGER conversation_fts_au AFTER UPDATE OF index_text, status, conversation_id ON memory_items
WHEN old.kind = 'turn' OR new.kind = 'turn' BEGIN
    INSERT OR IGNORE INTO conversation_fts_stale
        SELECT old.conversation_id WHERE old.conversation_id IS NOT NULL;
    INSERT OR IGNORE INTO conversation_fts_stale
        SELECT new.conversation_id WHERE new.conversation_id IS NOT NULL;
END;
CREATE INDEX memory_items_turns_in_order ON memory_items(conversation_id, kind, status, id);
INSERT OR IGNORE INTO conversation_fts_stale
    SELECT DISTINCT conversation_id FROM memory_items WHERE kind = 'turn' AND conversation_id IS NOT NULL;
"""


def m011_conversation_text(conn: sqlite3.Connection) -> None:
    run_script(conn, SCHEMA)


def m012_conversation_vocabulary(conn: sqlite3.Connection) -> None:
    # In how many conversations each (stemmed) term occurs: a view of the index, nothing stored.
    conn.execute("CREATE VIRTUAL TABLE conversation_fts_vocab USING fts5vocab(conversation_fts, 'row')")


def refresh(conn: sqlite3.Connection) -> int:
    """Rebuild the rows of stale conversations (inside the caller's transaction); how many. A row
    is the days its turns were written ("8 May 2023": questions name days and months) and the
    turns' indexed text."""
    stale = [row[0] for row in conn.execute("SELECT conversation_id FROM conversation_fts_stale")]
    for conversation_id in stale:
        conn.execute("DELETE FROM conversation_fts WHERE rowid = ?", (conversation_id,))
        rows = conn.execute(
            "SELECT occurred_at, index_text FROM memory_items WHERE conversation_id = ? AND kind = 'turn'"
            " AND status = 'active' ORDER BY id",
            (conversation_id,),
        ).fetchall()
        if rows:
            days = " ".join(dict.fromkeys(_day(occurred) for occurred, _ in rows))
            text = " ".join([days, *(index_text for _, index_text in rows)]).strip()
            conn.execute("INSERT INTO conversation_fts(rowid, text) VALUES (?, ?)", (conversation_id, text))
    conn.execute("DELETE FROM conversation_fts_stale")
    return len(stale)


def refresh_stale(store: Store) -> None:
    """Rebuild the stale rows, if any, in a transaction of their own."""
    if store.query("SELECT 1 FROM conversation_fts_stale LIMIT 1"):
        with store.transaction() as conn:
            refresh(conn)


def _day(occurred_at: str) -> str:
    try:
        return day_name(date.fromisoformat(occurred_at[:10]))
    except ValueError:
        return ""


def search(store: Store, text: str, k: int, leave_out: int | None = None) -> dict[int, float]:
    """The best ``k`` conversations for ``text``, each scored by BM25 divided by the best's score
    (1.0 for the best). Stale rows are rebuilt first (the conversation going on is, after each turn).
    ``leave_out`` (the conversation asked in, which holds the query's own words) is dropped before
    the best is taken."""
    words = content_words(text)
    if not words:
        return {}
    refresh_stale(store)  # normally done already, on the index lane (Indexer.sync)
    # With no word of weight, all words: tiny scores, but the best still counts 1.0 (as before the
    # pruning; without this, R@25 on LoCoMo tune fell from 0.861 to 0.858).
    query = fts_query(text, _weighted(store, words) or words)
    rows = store.query(
        "SELECT rowid AS id, -bm25(conversation_fts) AS score FROM conversation_fts"
        " WHERE conversation_fts MATCH ? ORDER BY bm25(conversation_fts) LIMIT ?",
        (query, k + (leave_out is not None)),
    )
    rows = [r for r in rows if r["id"] != leave_out][:k]
    if not rows:
        return {}
    top = rows[0]["score"] or 1.0
    return {int(r["id"]): float(r["score"]) / top for r in rows}


def _weighted(store: Store, words: list[str]) -> list[str]:
    """The words that can raise a conversation's BM25. FTS5 gives a term found in half the rows or
    more no weight (its IDF is clamped to ~0), yet reading its long postings (a conversation holds
    every turn) was a third of the query's cost at 1,000 conversations (bench/bench_scale.py's
    data: 3.4 ms, 2.2 with them left out)."""
    stems = stem_words(words)
    marks = ",".join("?" * len(stems))
    rows = store.query(f"SELECT term, doc FROM conversation_fts_vocab WHERE term IN ({marks})", tuple(stems))
    found_in = {r["term"]: r["doc"] for r in rows}
    # Rows counted in the small docsize table: count(*) on conversation_fts reads all the text.
    total = store.query("SELECT count(*) AS n FROM conversation_fts_docsize")[0]["n"]
    return [w for w, s in zip(words, stems, strict=True) if 0 < 2 * found_in.get(s, 0) < total]


def turn_neighbours(store: Store, ids: list[int]) -> dict[int, tuple[int | None, int | None]]:
    """For each turn item among ``ids``: the active turn items just before and after it in its
    conversation (None at either end). Other kinds have no neighbours and are left out."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    around = (
        "(SELECT {f}(j.id) FROM memory_items j WHERE j.conversation_id = i.conversation_id"
        " AND j.kind = 'turn' AND j.status = 'active' AND j.id {op} i.id)"
    )
    rows = store.query(
        f"SELECT i.id AS id, {around.format(f='max', op='<')} AS before,"
        f" {around.format(f='min', op='>')} AS after FROM memory_items i"
        # "+i.kind": look the ids up by key; on the kind index SQLite would scan every turn
        f" WHERE i.id IN ({marks}) AND +i.kind = 'turn' AND i.conversation_id IS NOT NULL",
        tuple(ids),
    )
    return {r["id"]: (r["before"], r["after"]) for r in rows}


def turns_of_messages(store: Store, message_ids: list[int]) -> dict[int, int]:
    """The active turn item of each message that has one."""
    unique = tuple(dict.fromkeys(message_ids))  # two topics may come from the same message
    if not unique:
        return {}
    marks = ",".join("?" * len(unique))
    rows = store.query(
        "SELECT im.message_id AS message, i.id AS item FROM memory_item_messages im"
        f" JOIN memory_items i ON i.id = im.item_id WHERE im.message_id IN ({marks})"
        " AND +i.kind = 'turn' AND i.status = 'active'",
        unique,
    )
    return {r["message"]: r["item"] for r in rows}

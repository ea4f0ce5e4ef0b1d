"""Memory items in SQLite: the rows every index is derived from, and lexical (FTS5/BM25) search."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from memory.store.database import Store, now
from memory.store.forgetting import forget_item
from memory.store.lexical import content_words, fts_query, stem_words
from memory.store.sources import FACTS, USER
from memory.store.time_words import day_name, resolved

TURN, TOPIC, PREFERENCE = "turn", "topic", "preference"
ACTIVE = "active"


@dataclass(frozen=True)
class MemoryItem:
    id: int
    kind: str
    text: str
    index_text: str  # what BM25 sees
    embed_text: str  # what the embedder sees
    conversation_id: int | None
    message_ids: tuple[int, ...]
    speaker: str | None
    occurred_at: str
    created_at: str
    updated_at: str
    status: str
    user_edited: bool = False  # the user wrote or edited the text: reflection never merges over it
    uid: str | None = None  # stable across export and import
    source: str = USER  # whose words (memory.sources): only FACTS are shown to the model

    @property
    def is_fact(self) -> bool:
        """May be shown to the model as something about the user (not Memoir's words, not a question)."""
        return self.source in FACTS

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> MemoryItem:
        row = dict(row)
        row.pop("indexed_hash", None)
        row["user_edited"] = bool(row.get("user_edited", 0))
        row["message_ids"] = tuple(json.loads(row["message_ids"]))
        return cls(**row)


@dataclass(frozen=True)
class TurnText:
    """What goes into a turn's indexed text besides its words (chosen by measurement on LoCoMo)."""

    speaker: bool = True
    date: bool = False
    caption: bool = True
    previous: bool = False
    times: bool = False  # the days its time expressions name ("yesterday" -> "(on 7 May 2023)")


# The measured choice (bench/tune_retrieval.py): the previous turn lifts BM25 recall@5 on LoCoMo dev
# from 0.53 to 0.59, because answers often lack the words their question used; it blurs vectors.
# Resolved times (memory/store/time_words.py), chosen on LoCoMo tune (README): lexical text only.
LEXICAL_TEXT = TurnText(previous=True, times=True)
DENSE_TEXT = TurnText()


def turn_index_text(
    text: str,
    *,
    speaker: str | None = None,
    when: date | None = None,
    caption: str | None = None,
    previous: str | None = None,
    layout: TurnText = TurnText(),
) -> str:
    parts = []
    if layout.date and when:
        parts.append(f"[{day_name(when)}]")
    parts.append(f"{speaker}: {text}" if layout.speaker and speaker else text)
    if layout.caption and caption:
        parts.append(f"(shared a photo: {caption})")
    if layout.previous and previous:
        parts.append(f"(in reply to: {previous})")
    if layout.times and when and (days := resolved(text, when)):
        parts.append(days)
    return " ".join(parts)


def content_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


# A term in more than half the items gets no weight from FTS5's BM25 (its IDF is clamped to ~0) but
# makes the OR query touch most of the index: leaving it out changes no ranking. (A lower share
# wrongly dropped real words from small stores: in 5 items, a word in 2 is not "common".)
COMMON_TERM_SHARE = 0.5
# Postings read per query before the commonest remaining terms are left out: bounds BM25's cost at
# 100k items; far below it (LoCoMo's 600-turn conversations) nothing is ever left out by this.
POSTINGS_BUDGET = 10_000


class ItemStore:
    """Adds, reads and searches memory items; deletions are queued for the vector index."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(
        self,
        kind: str,
        text: str,
        *,
        index_text: str | None = None,
        embed_text: str | None = None,
        conversation_id: int | None = None,
        message_ids: Iterable[int] = (),
        speaker: str | None = None,
        occurred_at: str | None = None,
        source: str = USER,
    ) -> int:
        stamp = now()
        ids = list(message_ids)
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO memory_items (kind, text, index_text, embed_text, conversation_id, message_ids,"
                " speaker, occurred_at, created_at, updated_at, source)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    kind,
                    text,
                    index_text or text,
                    embed_text or index_text or text,
                    conversation_id,
                    json.dumps(ids),
                    speaker,
                    occurred_at or stamp,
                    stamp,
                    stamp,
                    source,
                ),
            )
            item_id = cursor.lastrowid
            conn.executemany(
                "INSERT OR IGNORE INTO memory_item_messages (item_id, message_id) VALUES (?, ?)",
                [(item_id, m) for m in ids],
            )
        assert item_id is not None
        return item_id

    def add_many(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert many items in one transaction (imports, benchmarks); keys as in :meth:`add`."""
        stamp = now()
        ids = []
        with self.store.transaction() as conn:
            for row in rows:
                text = row["text"]
                index_text = row.get("index_text") or text
                message_ids = list(row.get("message_ids", ()))
                cursor = conn.execute(
                    "INSERT INTO memory_items (kind, text, index_text, embed_text, conversation_id,"
                    " message_ids, speaker, occurred_at, created_at, updated_at, source)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        row["kind"],
                        text,
                        index_text,
                        row.get("embed_text") or index_text,
                        row.get("conversation_id"),
                        json.dumps(message_ids),
                        row.get("speaker"),
                        row.get("occurred_at") or stamp,
                        stamp,
                        stamp,
                        row.get("source", USER),
                    ),
                )
                assert cursor.lastrowid is not None
                ids.append(cursor.lastrowid)
                conn.executemany(
                    "INSERT OR IGNORE INTO memory_item_messages (item_id, message_id) VALUES (?, ?)",
                    [(cursor.lastrowid, m) for m in message_ids],
                )
        return ids

    def get(self, item_id: int) -> MemoryItem:
        rows = self.store.query("SELECT * FROM memory_items WHERE id = ?", (item_id,))
        if not rows:
            raise Store.DoesNotExist(f"memory item {item_id}")
        return MemoryItem.from_row(rows[0])

    def many(self, ids: list[int]) -> dict[int, MemoryItem]:
        found: dict[int, MemoryItem] = {}
        for start in range(0, len(ids), 500):  # stay under SQLite's host-parameter limit
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.store.query(f"SELECT * FROM memory_items WHERE id IN ({marks})", tuple(chunk)):
                found[row["id"]] = MemoryItem.from_row(row)
        return found

    def for_message(self, message_id: int) -> list[MemoryItem]:
        rows = self.store.query(
            "SELECT i.* FROM memory_items i JOIN memory_item_messages m ON m.item_id = i.id"
            " WHERE m.message_id = ? ORDER BY i.id",
            (message_id,),
        )
        return [MemoryItem.from_row(r) for r in rows]

    def update_text(
        self, item_id: int, text: str, index_text: str | None = None, embed_text: str | None = None
    ) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE memory_items SET text = ?, index_text = ?, embed_text = ?, updated_at = ?,"
                " indexed_hash = NULL WHERE id = ?",
                (text, index_text or text, embed_text or index_text or text, now(), item_id),
            )

    def delete(self, item_id: int) -> None:
        with self.store.transaction() as conn:
            forget_item(conn, item_id)  # receipts keep that a memory was shown, not its text
            conn.execute("DELETE FROM memory_items WHERE id = ?", (item_id,))

    def count(self) -> int:
        return int(self.store.query("SELECT count(*) AS n FROM memory_items")[0]["n"])

    def all_ids(self) -> set[int]:
        """Ids that belong in the vector index (a forgotten item awaiting deletion does not)."""
        return {r["id"] for r in self.store.query("SELECT id FROM memory_items WHERE status != 'forgotten'")}

    # The vector index's outbox ------------------------------------------------------------

    def pending_index(self, limit: int = 256) -> list[MemoryItem]:
        rows = self.store.query(
            "SELECT * FROM memory_items WHERE indexed_hash IS NULL AND status != 'forgotten'"
            " ORDER BY id LIMIT ?",
            (limit,),
        )
        return [MemoryItem.from_row(r) for r in rows]

    def mark_indexed(self, items: list[MemoryItem]) -> None:
        with self.store.transaction() as conn:
            conn.executemany(
                "UPDATE memory_items SET indexed_hash = ? WHERE id = ? AND embed_text = ?",
                [(content_hash(i.embed_text), i.id, i.embed_text) for i in items],
            )

    def mark_all_unindexed(self) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE memory_items SET indexed_hash = NULL")

    def pending_removals(self) -> list[int]:
        return [r["item_id"] for r in self.store.query("SELECT item_id FROM index_removals")]

    def clear_removals(self, ids: list[int]) -> None:
        with self.store.transaction() as conn:
            conn.executemany("DELETE FROM index_removals WHERE item_id = ?", [(i,) for i in ids])

    # Lexical search ------------------------------------------------------------------------

    def search_bm25(
        self, text: str, k: int, where: str = "", params: tuple[Any, ...] = ()
    ) -> list[tuple[int, float]]:
        """Best ``k`` items by BM25 (k1 = 1.2, b = 0.75, Porter stemming); higher score is better.

        Without ``where`` the ranking happens inside FTS5 alone (no join per match).
        """
        query = fts_query(text, self._discriminating(content_words(text)))
        if not query:
            return []
        if where:
            sql = (
                "SELECT i.id AS id, -bm25(memory_fts) AS score FROM memory_fts JOIN memory_items i"
                f" ON i.id = memory_fts.rowid WHERE memory_fts MATCH ? AND {where}"
                " ORDER BY bm25(memory_fts) LIMIT ?"
            )
        else:
            sql = (
                "SELECT rowid AS id, -bm25(memory_fts) AS score FROM memory_fts"
                " WHERE memory_fts MATCH ? ORDER BY bm25(memory_fts) LIMIT ?"
            )
        rows = self.store.query(sql, (query, *params, k))
        return [(r["id"], float(r["score"])) for r in rows]

    def _discriminating(self, words: list[str]) -> list[str]:
        """The words worth searching: none found in over COMMON_TERM_SHARE of items, and the
        rarest first until POSTINGS_BUDGET (a query's cost grows with its terms' frequencies)."""
        if len(words) < 2:
            return words
        stems = stem_words(words)  # a stemmer per thread: searches run on several lanes
        marks = ",".join("?" * len(stems))
        rows = self.store.query(
            f"SELECT term, doc FROM memory_fts_vocab WHERE term IN ({marks})", tuple(stems)
        )
        frequency = {r["term"]: r["doc"] for r in rows}
        limit = COMMON_TERM_SHARE * max(1, self.count())
        by_rarity = sorted(zip(words, stems, strict=True), key=lambda ws: frequency.get(ws[1], 0))
        chosen: set[str] = set()
        postings = 0
        for word, stem in by_rarity:
            df = frequency.get(stem, 0)
            if chosen and (df > limit or postings + df > POSTINGS_BUDGET):
                break
            chosen.add(word)
            postings += df
        return [w for w in words if w in chosen]

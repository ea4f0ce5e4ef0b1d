"""The user's view of their memory: list, search, edit (versioned) and forget (with undo), and an
overview of what Memoir knows about them.

Forgetting is two-step so it can be undone: the item leaves search and the vector index at once
(status ``forgotten``, queued for removal from Chroma), and is deleted from SQLite when the undo
window closes, or at the next start if the app quit first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from memory.retrieval.hybrid import Filters
from memory.retrieval.service import MemoryService
from memory.store.database import now
from memory.store.forgetting import forget_items
from memory.store.items import TOPIC, TURN

FORGOTTEN = "forgotten"
KIND_NAMES = {TOPIC: "memory", TURN: "message"}
# "What do you know about me?" puts a memory under the category of its nearest example (MiniLM
# cosine, at least CATEGORY_FLOOR), else under "Other". Generic examples written for Memoir.
CATEGORIES = {
    "Work and study": ["I work as a nurse.", "My job is in sales.", "I am a teacher.", "I study at college."],
    "Family and people": [
        "My partner works as a pharmacist.",
        "I have two kids.",
        "My sister lives in Berlin.",
        "My best friend is Sam.",
    ],
    "Hobbies and interests": [
        "I love playing guitar.",
        "I enjoy hiking.",
        "I like reading novels.",
        "I listen to rock music.",
    ],
    "Food and health": [
        "I am vegetarian.",
        "I love cooking pasta.",
        "I am allergic to peanuts.",
        "I go to the gym.",
    ],
    "Home and places": [
        "I live in a small town.",
        "I moved to Lisbon.",
        "I grew up on a farm.",
        "I travelled to Japan.",
    ],
    "Pets": [
        "Our dog sleeps at the foot of my bed.",
        "My cat is called Tom.",
        "I own two horses.",
        "I adopted a puppy.",
    ],
    "Plans": ["I am going to Porto next week.", "I plan to start running.", "My goal is to learn Spanish."],
}
CATEGORY_FLOOR = 0.3


@dataclass(frozen=True)
class Entry:
    id: int
    kind: str
    text: str
    conversation_id: int | None
    conversation_title: str
    message_ids: tuple[int, ...]
    occurred_at: str
    created_at: str
    updated_at: str
    user_edited: bool
    uses: int  # replies it was shown with
    cited: int  # replies that cited it
    helpful: int  # times the user marked it helpful
    not_relevant: int
    versions: int
    source: str = "user"  # whose words (memory.sources)
    # every conversation its turns come from, in the order they were said: a memory joined or
    # merged across conversations holds words from each
    conversation_titles: tuple[str, ...] = ()
    score: float | None = None  # search relevance, when it came from a search


_SELECT = """
SELECT i.id, i.kind, i.text, i.conversation_id, coalesce(c.title, '') AS conversation_title,
       i.message_ids, i.occurred_at, i.created_at, i.updated_at, i.user_edited,
       (SELECT count(*) FROM receipts r WHERE r.item_id = i.id) AS uses,
       (SELECT count(*) FROM receipts r WHERE r.item_id = i.id AND r.cited = 1) AS cited,
       (SELECT count(*) FROM receipts r WHERE r.item_id = i.id AND r.feedback = 1) AS helpful,
       (SELECT count(*) FROM receipts r WHERE r.item_id = i.id AND r.feedback = -1) AS not_relevant,
       (SELECT count(*) FROM memory_versions v WHERE v.item_id = i.id) AS versions, i.source,
       (SELECT json_group_array(title) FROM (
            SELECT c2.title AS title FROM memory_item_messages im JOIN messages m ON m.id = im.message_id
            JOIN conversations c2 ON c2.id = m.conversation_id WHERE im.item_id = i.id
            GROUP BY c2.id ORDER BY min(m.id))) AS conversation_titles
FROM memory_items i LEFT JOIN conversations c ON c.id = i.conversation_id
"""


def _entry(row: dict[str, object], score: float | None = None) -> Entry:
    values = dict(row)
    values["message_ids"] = tuple(json.loads(str(values["message_ids"])))
    values["user_edited"] = bool(values["user_edited"])
    values["conversation_titles"] = tuple(json.loads(str(values["conversation_titles"] or "[]")))
    return Entry(**values, score=score)  # type: ignore[arg-type]


class MemoryBook:
    def __init__(self, memory: MemoryService) -> None:
        self.memory = memory
        self.store = memory.store

    def entries(self, kinds: tuple[str, ...] = (TOPIC,), since: str = "", until: str = "") -> list[Entry]:
        """Active items of ``kinds`` (all kinds if empty), newest first, optionally within dates."""
        where, params = ["i.status = 'active'"], []
        if kinds:
            where.append(f"i.kind IN ({','.join('?' * len(kinds))})")
            params += list(kinds)
        if since:
            where.append("i.occurred_at >= ?")
            params.append(since)
        if until:
            where.append("i.occurred_at <= ?")
            params.append(until)
        sql = f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY i.updated_at DESC, i.id DESC"
        return [_entry(r) for r in self.store.query(sql, tuple(params))]

    def entry(self, item_id: int) -> Entry | None:
        rows = self.store.query(f"{_SELECT} WHERE i.id = ?", (item_id,))
        return _entry(rows[0]) if rows else None

    def search(
        self, query: str, kinds: tuple[str, ...] = (TOPIC,), since: str = "", k: int = 50
    ) -> list[Entry]:
        """The same hybrid retrieval the assistant uses, so the user sees what it would find."""
        if not query.strip():
            return self.entries(kinds, since)
        hits = self.memory.search(query, k=k, filters=Filters(kinds=kinds, since=since or None))
        found = []
        for hit in hits:
            entry = self.entry(hit.item.id)
            if entry is not None:
                found.append(Entry(**{**entry.__dict__, "score": round(hit.score, 3)}))
        return found

    def edit(self, item_id: int, text: str) -> None:
        """The user's text replaces the memory's; the old text is kept as a version."""
        text = " ".join(text.split())
        if not text:
            raise ValueError("A memory cannot be empty; forget it instead.")
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT text, message_ids FROM memory_items WHERE id = ?", (item_id,)
            ).fetchone()
            if row is None:
                raise LookupError(f"memory {item_id} no longer exists")
            if row[0] == text:
                return
            conn.execute(
                "INSERT INTO memory_versions (item_id, text, message_ids, replaced_at, reason)"
                " VALUES (?, ?, ?, ?, 'edited by you')",
                (item_id, row[0], row[1], now()),
            )
            conn.execute(
                "UPDATE memory_items SET text = ?, index_text = ?, embed_text = ?, user_edited = 1,"
                " source = 'edit', updated_at = ?, indexed_hash = NULL WHERE id = ?",
                (text, text, text, now(), item_id),
            )

    def versions(self, item_id: int) -> list[dict[str, object]]:
        return self.store.query(
            "SELECT text, replaced_at, reason FROM memory_versions WHERE item_id = ? ORDER BY id DESC",
            (item_id,),
        )

    def forget(self, item_id: int) -> None:
        """Out of search and the vector index now; deleted for good by :meth:`purge_forgotten`."""
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE memory_items SET status = ?, updated_at = ? WHERE id = ?", (FORGOTTEN, now(), item_id)
            )
            conn.execute("INSERT OR IGNORE INTO index_removals(item_id) VALUES (?)", (item_id,))

    def undo_forget(self, item_id: int) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE memory_items SET status = 'active', indexed_hash = NULL WHERE id = ? AND status = ?",
                (item_id, FORGOTTEN),
            )
            conn.execute("DELETE FROM index_removals WHERE item_id = ?", (item_id,))

    def purge_forgotten(self) -> int:
        """Delete forgotten items for good: their rows and versions, their text in receipts and in
        the memory blocks stored with messages, and every copy in FTS segments and the WAL. Their
        vectors are queued for removal; :meth:`MemoryService.compact` rewrites the index without
        them."""
        with self.store.transaction() as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM memory_items WHERE status = ?", (FORGOTTEN,))]
            forget_items(conn, ids)
            conn.executemany("DELETE FROM memory_items WHERE id = ?", [(i,) for i in ids])  # versions cascade
        if ids:
            self.store.scrub()
        return len(ids)

    def about_me(self) -> list[tuple[str, list[Entry]]]:
        """Topic memories grouped by what they are about, for "What do you know about me?"."""
        entries = self.entries((TOPIC,))
        if not entries:
            return []
        examples = [(name, text) for name, texts in CATEGORIES.items() for text in texts]
        embedder = self.memory.embedder
        centres = np.asarray(embedder.embed([text for _, text in examples]))
        vectors = np.asarray(embedder.embed([e.text for e in entries]))
        similarity = vectors @ centres.T
        groups: dict[str, list[Entry]] = {}
        for entry, row in zip(entries, similarity, strict=True):
            best = int(row.argmax())
            name = examples[best][0] if row[best] >= CATEGORY_FLOOR else "Other"
            groups.setdefault(name, []).append(entry)
        order = [*CATEGORIES, "Other"]
        return [(name, groups[name]) for name in order if name in groups]

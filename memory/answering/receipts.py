"""Receipts: for each reply, the memories it was shown, whether it used each (and how that was
decided), the user's feedback, and where each memory came from — read from SQLite alone."""

from __future__ import annotations

from dataclasses import dataclass, field

from memory.store.database import Message, Store
from memory.store.items import ItemStore, MemoryItem
from memory.store.sources import USER


@dataclass
class Receipt:
    reply_id: int
    position: int
    item_id: int | None
    kind: str
    text: str
    used: bool | None  # did the reply use it; None: not sure
    feedback: int | None = None
    sources: list[Message] = field(default_factory=list)
    source: str = USER  # whose words (memory.sources)
    how: str = ""  # how "used" was decided, for the user
    occurred_at: str = ""


def read_receipts(store: Store, reply_id: int) -> list[Receipt]:
    """A reply's receipts from SQLite alone (no index, no embedder): readable as soon as the app
    starts, before the memory is open — the first conversation shown needs them then."""
    rows = store.query("SELECT * FROM receipts WHERE reply_id = ? ORDER BY position", (reply_id,))
    present = ItemStore(store).many([r["item_id"] for r in rows if r["item_id"] is not None])
    found = []
    for row in rows:
        item = present.get(row["item_id"]) if row["item_id"] is not None else None
        found.append(
            Receipt(
                reply_id,
                row["position"],
                row["item_id"],
                row["kind"],
                row["text"],
                None if row["cited"] is None else bool(row["cited"]),
                row["feedback"],
                sources_of(store, item) if item is not None else [],
                source=row["source"] or (item.source if item else USER),
                how=row["how"] or "",
                occurred_at=item.occurred_at if item else "",
            )
        )
    return found


def sources_of(store: Store, item: MemoryItem) -> list[Message]:
    found = []
    for message_id in item.message_ids:
        try:
            found.append(store.message(message_id))
        except Store.DoesNotExist:
            continue  # the conversation was deleted; the memory stands on its own
    return found


def one_line(text: str) -> str:
    return " ".join(text.split())


def clip(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, cut at a word with "…" when longer."""
    line = one_line(text)
    if len(line) <= limit:
        return line
    return line[:limit].rsplit(" ", 1)[0] + "…"

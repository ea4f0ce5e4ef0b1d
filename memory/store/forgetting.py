"""What forgetting leaves behind: a placeholder wherever a receipt or a stored memory block held the
text of a memory that is gone (forgotten, or deleted with its conversation); and no learned
preference that only a deleted conversation's turns stood behind."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Collection
from functools import partial

FORGOTTEN_TEXT = "(a memory you forgot)"
NO_ITEM = 0  # in a recollection's shown list, where a forgotten memory was: row ids start at 1
# a numbered line and the indented lines under it (the user's words a topic came from; in blocks
# stored before memory_block.py, "    from <date>, User: …")
_ENTRY = re.compile(r"^\[(\d+)\] .*(?:\n    .*)*", re.MULTILINE)


def forget_items(conn: sqlite3.Connection, item_ids: Collection[int]) -> None:
    """Before ``item_ids`` are deleted: their receipts and the blocks that showed them keep no text,
    and no recollection names them any more. Row ids are reused once the highest is deleted, so a
    memory learned later could otherwise take a forgotten one's place in an old recollection: be
    credited with a reply it was never shown to, or teach the reranker with another's features."""
    gone = set(item_ids)
    if not gone:
        return
    conn.executemany(
        "UPDATE receipts SET item_id = NULL, text = ? WHERE item_id = ?", [(FORGOTTEN_TEXT, i) for i in gone]
    )
    rows = conn.execute("SELECT message_id, block, candidates, shown FROM recollections").fetchall()
    for message_id, block, candidates, shown in rows:
        listed, pool = json.loads(shown), json.loads(candidates)
        if gone.isdisjoint(listed) and gone.isdisjoint(i for i, _ in pool):
            continue
        positions = {str(n) for n, i in enumerate(listed, 1) if i in gone}
        conn.execute(
            "UPDATE recollections SET block = ?, candidates = ?, shown = ? WHERE message_id = ?",
            (
                _ENTRY.sub(partial(_placeholder, positions), block),
                json.dumps([[i, score] for i, score in pool if i not in gone]),
                json.dumps([NO_ITEM if i in gone else i for i in listed]),  # positions stay numbered
                message_id,
            ),
        )


def forget_item(conn: sqlite3.Connection, item_id: int) -> None:
    forget_items(conn, (item_id,))


def _placeholder(positions: set[str], entry: re.Match[str]) -> str:
    return f"[{entry.group(1)}] {FORGOTTEN_TEXT}" if entry.group(1) in positions else entry.group(0)


def forget_evidence(conn: sqlite3.Connection, conversation_id: int) -> None:
    """Learned preferences lose the conversation's turns as evidence. One learned only from them
    goes too unless the user took it up (accepted, or switched off): a proposal, or a rejected or
    deleted one kept so it is not proposed again, holds the conversation's words and nothing else."""
    turns = {
        row[0]
        for row in conn.execute("SELECT id FROM messages WHERE conversation_id = ?", (conversation_id,))
    }
    rows = conn.execute("SELECT id, status, evidence FROM preferences WHERE user_written = 0").fetchall()
    for pref_id, status, evidence in rows:
        refs = json.loads(evidence)
        kept = [r for r in refs if r not in turns]
        if len(kept) == len(refs):
            continue
        if not kept and status not in ("active", "disabled"):
            conn.execute("DELETE FROM preferences WHERE id = ?", (pref_id,))
        else:
            conn.execute("UPDATE preferences SET evidence = ? WHERE id = ?", (json.dumps(kept), pref_id))

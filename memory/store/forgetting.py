"""What forgetting leaves behind: a placeholder wherever a receipt or a stored memory block held the
text of a memory that is gone (forgotten, or deleted with its conversation); and no learned
preference that only a deleted conversation's turns stood behind."""

from __future__ import annotations

import json
import re
import sqlite3
from functools import partial

FORGOTTEN_TEXT = "(a memory you forgot)"
# a numbered line and the indented lines under it (the user's words a topic came from; in blocks
# stored before memory_block.py, "    from <date>, User: …")
_ENTRY = re.compile(r"^\[(\d+)\] .*(?:\n    .*)*", re.MULTILINE)


def forget_item(conn: sqlite3.Connection, item_id: int) -> None:
    """Before ``item_id`` is deleted: its receipts and the blocks that showed it keep no text."""
    forget_in_blocks(conn, item_id)
    conn.execute("UPDATE receipts SET item_id = NULL, text = ? WHERE item_id = ?", (FORGOTTEN_TEXT, item_id))


def forget_in_blocks(conn: sqlite3.Connection, item_id: int) -> None:
    """Replace ``item_id``'s entry in every stored memory block that showed it (its numbered line
    and the source lines under it) with a placeholder; the rest of the block stays as it was."""
    rows = conn.execute(
        "SELECT message_id, block, shown FROM recollections WHERE shown LIKE ?", (f"%{item_id}%",)
    ).fetchall()
    for message_id, block, shown in rows:
        positions = {str(n) for n, i in enumerate(json.loads(shown), 1) if i == item_id}
        block = _ENTRY.sub(partial(_placeholder, positions), block)
        conn.execute("UPDATE recollections SET block = ? WHERE message_id = ?", (block, message_id))


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

"""A forgotten memory's entry leaves every stored block, with the lines under it, in either form, and
its id leaves every recollection; preferences learned only from a deleted conversation go with it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from memory.answering.memory_block import Note, render
from memory.store.forgetting import FORGOTTEN_TEXT, NO_ITEM, forget_items
from memory.store.items import TOPIC, ItemStore

OLD_BLOCK = (
    "Notes from earlier conversations with the user.\n<<<MEMORIES\n"
    "[1] (2026-01-02) Plays the cello.\n    from 2026-01-02, User: I play the cello on Sundays.\n"
    "[2] (2026-01-03) User said: I keep bees.\nMEMORIES>>>"
)


def blocks_after_forgetting(block: str, shown: list[int], item_id: int) -> str:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE recollections (message_id, block, candidates, shown)")
    pool = json.dumps([[i, 0.5] for i in shown])
    conn.execute("INSERT INTO recollections VALUES (1, ?, ?, ?)", (block, pool, json.dumps(shown)))
    conn.execute("CREATE TABLE receipts (item_id, text)")
    forget_items(conn, [item_id])
    return str(conn.execute("SELECT block FROM recollections").fetchone()[0])


def test_a_topic_and_the_users_words_under_it_are_replaced() -> None:
    block = render(
        [
            Note("2026-01-02", "Plays the cello.", quote="I play the cello on Sundays."),
            Note("2026-01-03", "I keep bees.", who="User"),
        ],
        "cello",
        this_year=2026,
    )
    after = blocks_after_forgetting(block, [17, 18], 17)
    assert "cello" not in after and f"[1] {FORGOTTEN_TEXT}" in after
    assert "[2] 3 January, User: I keep bees." in after  # the rest stays byte for byte


def test_blocks_stored_in_the_earlier_form_are_cleaned_too() -> None:
    after = blocks_after_forgetting(OLD_BLOCK, [17, 18], 17)
    assert "cello" not in after and f"[1] {FORGOTTEN_TEXT}" in after and "I keep bees." in after


def test_preferences_learned_only_from_a_deleted_conversation_go_with_it(tmp_path: Path) -> None:
    from memory.preferences.preference_store import PreferenceStore
    from memory.store.database import Store

    store = Store(tmp_path / "memoir.db")
    gone, stays = store.create_conversation(), store.create_conversation()
    said = store.add_message(gone.id, "user", "My greyhound is scared of the stairs.").id
    kept = store.add_message(stays.id, "user", "Keep answers short.").id
    prefs = PreferenceStore(store)
    proposed = prefs.propose("Mention the greyhound's stairs fear.", "topics", "chat", [said])
    rejected = prefs.propose("Ask about greyhound stairs.", "topics", "chat", [said])
    accepted = prefs.propose("Answer about greyhounds first.", "topics", "chat", [said])
    both = prefs.propose("Keep answers short and about dogs.", "style", "chat", [said, kept])
    assert None not in (proposed, rejected, accepted, both)
    prefs.reject(rejected)  # type: ignore[arg-type]
    prefs.accept(accepted)  # type: ignore[arg-type]
    assert store.delete_conversation(gone.id) == []
    left = {p.text: (p.status, p.evidence) for p in prefs.all()}
    assert left == {
        "Answer about greyhounds first.": ("active", ()),  # the user took it up: theirs now
        "Keep answers short and about dogs.": ("proposed", (kept,)),
    }
    store.close()
    data = (tmp_path / "memoir.db").read_bytes()
    assert b"stairs fear" not in data and b"Ask about greyhound stairs" not in data


def test_a_memory_that_takes_a_forgotten_ones_id_is_never_in_its_recollections(tmp_path: Path) -> None:
    """SQLite gives the highest id again once it is deleted: the old recollection must not name it,
    or a regenerated reply would be credited with a memory it was never shown."""
    from memory.store.database import Store

    store = Store(tmp_path / "memoir.db")
    items = ItemStore(store)
    conv = store.create_conversation()
    asked = store.add_message(conv.id, "user", "What do I play?").id
    kept, gone = items.add(TOPIC, "Plays the cello."), items.add(TOPIC, "Keeps bees.")
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO recollections (message_id, query, block, candidates, shown, created_at)"
            " VALUES (?, ?, ?, ?, ?, '')",
            (
                asked,
                "What do I play?",
                OLD_BLOCK,
                json.dumps([[kept, 0.9], [gone, 0.8]]),
                json.dumps([kept, gone]),
            ),
        )
    items.delete(gone)
    assert items.add(TOPIC, "Grows tomatoes.") == gone  # the same id, a different memory
    row = store.query("SELECT candidates, shown, block FROM recollections")[0]
    assert json.loads(row["candidates"]) == [[kept, 0.9]]
    assert json.loads(row["shown"]) == [kept, NO_ITEM]  # the block's numbering stays
    assert f"[2] {FORGOTTEN_TEXT}" in row["block"] and "[1] (2026-01-02) Plays the cello." in row["block"]
    store.close()

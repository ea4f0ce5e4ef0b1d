"""Conversations as BM25 documents: kept in step with their turns, and forgotten words leave them."""

from __future__ import annotations

from pathlib import Path

from memory.store import conversation_text
from memory.store.database import Store
from memory.store.items import TURN, ItemStore


def turn(items: ItemStore, conversation: int, text: str) -> int:
    return items.add(TURN, text, conversation_id=conversation)


def test_a_conversation_is_found_by_words_of_any_of_its_turns(store: Store) -> None:
    items = ItemStore(store)
    paris = store.create_conversation("Trip").id
    other = store.create_conversation("Other").id
    turn(items, paris, "We landed in Paris on Monday")
    turn(items, paris, "The museum queue was long")
    turn(items, other, "My sister plays the cello")
    found = conversation_text.search(store, "Which museum did you visit in Paris?", 10)
    assert list(found) == [paris]
    assert found[paris] == 1.0
    # a turn added later is searchable at the next search, without any call in between
    turn(items, other, "She took me to a museum of music")
    found = conversation_text.search(store, "museum", 10)
    assert set(found) == {paris, other}
    assert max(found.values()) == 1.0 and min(found.values()) > 0


def test_the_conversation_asked_in_is_left_out_before_the_best_is_taken(store: Store) -> None:
    items = ItemStore(store)
    asked, paris, rome, other = (store.create_conversation(t).id for t in ("Now", "Paris", "Rome", "Cello"))
    turn(items, asked, "Which museum did we visit, the one with the long queue?")
    turn(items, paris, "The museum queue was long")
    turn(items, rome, "A small museum near the station")
    turn(items, other, "My sister plays the cello")
    for text in ("Tomatoes need sun", "The bus was late", "I bake bread on Sundays"):
        turn(items, store.create_conversation().id, text)  # so that museum is no common word
    query = "Which museum did we visit, the one with the long queue?"
    assert conversation_text.search(store, query, 10)[asked] == 1.0
    found = conversation_text.search(store, query, 10, leave_out=asked)
    assert asked not in found and found[paris] == 1.0 and 0 < found[rome] < 1.0
    assert list(conversation_text.search(store, query, 1, leave_out=asked)) == [paris]


def test_only_active_turns_count(store: Store) -> None:
    items = ItemStore(store)
    conv = store.create_conversation().id
    kept = turn(items, conv, "I grow tomatoes on the balcony")
    hidden = turn(items, conv, "The zeppelin tour was cancelled")
    items.add("topic", "The user likes zeppelins", conversation_id=conv)  # topics are not turns
    assert conversation_text.search(store, "zeppelin", 5) == {conv: 1.0}
    with store.transaction() as conn:
        conn.execute("UPDATE memory_items SET status = 'archived' WHERE id = ?", (hidden,))
    assert conversation_text.search(store, "zeppelin", 5) == {}
    assert conversation_text.search(store, "tomatoes", 5) == {conv: 1.0}
    assert kept


def test_forgotten_words_leave_the_conversation_index_and_the_file(tmp_path: Path) -> None:
    store = Store(tmp_path / "memoir.db")
    items = ItemStore(store)
    conv = store.create_conversation().id
    turn(items, conv, "We walked the dog at noon")
    secret = turn(items, conv, "My locker code is quixotically 5521")
    assert conversation_text.search(store, "quixotically", 5) == {conv: 1.0}
    items.delete(secret)
    store.scrub()  # what the app runs after a forget; no search in between
    store.close()
    for path in tmp_path.iterdir():
        assert b"quixotically" not in path.read_bytes(), path.name
        assert b"quixot" not in path.read_bytes(), path.name  # the stemmed term in FTS5's index
    store = Store(tmp_path / "memoir.db")
    assert conversation_text.search(store, "quixotically", 5) == {}
    assert conversation_text.search(store, "dog", 5) == {conv: 1.0}
    store.close()


def test_deleting_a_conversation_drops_its_row(store: Store) -> None:
    items = ItemStore(store)
    conv = store.create_conversation().id
    turn(items, conv, "The harpsichord needs tuning")
    assert conversation_text.search(store, "harpsichord", 5) == {conv: 1.0}
    store.delete_conversation(conv)
    assert conversation_text.search(store, "harpsichord", 5) == {}


def test_neighbours_are_the_active_turns_around_in_the_same_conversation(store: Store) -> None:
    items = ItemStore(store)
    a, b = store.create_conversation().id, store.create_conversation().id
    first = turn(items, a, "one")
    elsewhere = turn(items, b, "other conversation")
    topic = items.add("topic", "a topic", conversation_id=a)
    second = turn(items, a, "two")
    third = turn(items, a, "three")
    with store.transaction() as conn:
        conn.execute("UPDATE memory_items SET status = 'archived' WHERE id = ?", (second,))
    around = conversation_text.turn_neighbours(store, [first, third, topic, elsewhere])
    assert around == {first: (None, third), third: (first, None), elsewhere: (None, None)}


def test_a_conversation_is_found_by_the_day_it_happened(store: Store) -> None:
    items = ItemStore(store)
    july = store.create_conversation().id  # first: on a tie it would come first
    items.add(TURN, "We talked about the garden", conversation_id=july, occurred_at="2023-07-04T10:00:00")
    june = store.create_conversation().id
    items.add(TURN, "We talked about the garden", conversation_id=june, occurred_at="2023-06-27T10:00:00")
    found = conversation_text.search(store, "What did we say about the garden in June?", 5)
    assert found[june] == 1.0 and found[july] < 1.0


def test_indexing_rebuilds_the_rows_so_a_search_need_not(store: Store, tmp_path: Path) -> None:
    from memory.retrieval.service import MemoryService
    from tests.fakes import FakeEmbedder

    memory = MemoryService(store, tmp_path / "index", FakeEmbedder())
    conv = store.create_conversation()
    memory.remember_message(store.add_message(conv.id, "user", "The harpsichord needs tuning"))
    assert store.query("SELECT conversation_id FROM conversation_fts_stale")
    memory.indexer.sync()  # the index lane's work after each saved turn
    assert store.query("SELECT conversation_id FROM conversation_fts_stale") == []
    assert store.query("SELECT rowid FROM conversation_fts WHERE conversation_fts MATCH 'harpsichord'")


def test_words_in_half_the_conversations_or_more_are_left_out_of_the_query(store: Store) -> None:
    """They carry no BM25 weight but cost the most to read; with nothing else to match on, the
    query keeps every word (the day test above), so the search never comes back empty for it."""
    items = ItemStore(store)
    days = ["2023-06-27", "2023-07-04", "2023-08-01", "2023-09-05"]
    ids = []
    for day in days:
        ids.append(store.create_conversation().id)
        items.add(TURN, "We talked about the garden", conversation_id=ids[-1], occurred_at=f"{day}T10:00:00")
    found = conversation_text.search(store, "What did we say about the garden in June?", 5)
    assert found == {ids[0]: 1.0}  # "garden" (in all four) no longer brings in the others
    found = conversation_text.search(store, "the garden", 5)
    assert set(found) == set(ids)  # nothing else to go on: every word is searched

"""SQLite is the truth, Chroma an index: rebuild, drift repair, corruption, provenance, filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory.index.indexer import Indexer
from memory.index.vector_index import VectorIndex
from memory.retrieval.hybrid import Filters, Retriever
from memory.store.database import Store
from memory.store.items import TOPIC, TURN, ItemStore
from memory.store.lexical import fts_query
from tests.fakes import FakeEmbedder

FACTS = [
    ("I adopted a golden retriever puppy named Rex", "2023-05-01T10:00:00"),
    ("My sister lives in Lisbon and teaches maths", "2023-06-10T10:00:00"),
    ("I am training for a marathon in October", "2023-07-20T10:00:00"),
    ("Rex chewed my running shoes yesterday", "2023-08-02T10:00:00"),
]


@pytest.fixture
def memory(store: Store, tmp_path: Path) -> tuple[ItemStore, VectorIndex, Indexer, Retriever, int]:
    items = ItemStore(store)
    conv = store.create_conversation("Facts")
    for text, when in FACTS:
        message = store.add_message(conv.id, "user", text, created_at=when)
        items.add(
            TURN, text, conversation_id=conv.id, message_ids=[message.id], speaker="User", occurred_at=when
        )
    embedder = FakeEmbedder()
    index = VectorIndex(tmp_path / "index", embedder.name, embedder.dimension)
    indexer = Indexer(items, index, embedder)
    indexer.sync()
    return items, index, indexer, Retriever(items, index, embedder), conv.id


def top_texts(
    retriever: Retriever, query: str, method: str = "hybrid", k: int = 2, **kw: object
) -> list[str]:
    return [h.item.text for h in retriever.search(query, k=k, method=method, filters=Filters(**kw))]  # type: ignore[arg-type]


def test_every_item_is_indexed_once(memory) -> None:  # type: ignore[no-untyped-def]
    items, index, indexer, _, _ = memory
    assert index.count() == 4 and items.pending_index() == []
    assert indexer.sync() == 0


def test_each_method_finds_the_obvious_item_with_provenance(memory) -> None:  # type: ignore[no-untyped-def]
    items, _, _, retriever, conv_id = memory
    for method in ("bm25", "dense", "hybrid"):
        [hit] = retriever.search("golden retriever puppy", k=1, method=method)
        assert hit.item.text == FACTS[0][0]
        assert hit.item.conversation_id == conv_id
        assert hit.item.occurred_at == FACTS[0][1]
        [message_id] = hit.item.message_ids
        assert items.store.message(message_id).content == FACTS[0][0]


def test_filters_by_kind_time_and_conversation(memory) -> None:  # type: ignore[no-untyped-def]
    items, _, indexer, retriever, conv_id = memory
    items.add(TOPIC, "User has a dog called Rex", occurred_at="2023-09-01T00:00:00")
    indexer.sync()
    for method in ("bm25", "dense"):
        assert top_texts(retriever, "Rex dog", method, k=5, kinds=(TOPIC,)) == ["User has a dog called Rex"]
        assert FACTS[3][0] not in top_texts(retriever, "Rex", method, k=5, until="2023-07-31T00:00:00")
        assert top_texts(retriever, "Rex", method, k=5, since="2023-08-01T00:00:00", kinds=(TURN,)) == [
            FACTS[3][0]
        ]
        assert top_texts(retriever, "Rex", method, k=5, conversation_id=conv_id + 1) == []


def test_deleted_items_leave_both_stores(memory) -> None:  # type: ignore[no-untyped-def]
    items, index, indexer, retriever, _ = memory
    [hit] = retriever.search("marathon", k=1)
    items.delete(hit.item.id)
    indexer.sync()
    assert hit.item.id not in index.ids()
    assert all(h.item.id != hit.item.id for h in retriever.search("marathon training October", k=5))


def test_rebuild_from_sqlite_after_deleting_the_index(memory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    items, index, _, retriever, _ = memory
    before = [h.item.id for h in retriever.search("sister Lisbon", k=4, method="dense")]
    index.close()
    import shutil

    shutil.rmtree(tmp_path / "index")
    fresh = VectorIndex(tmp_path / "index", "fake-bow", 64)
    assert fresh.count() == 0
    indexer = Indexer(items, fresh, FakeEmbedder())
    report = indexer.check()
    assert report.missing == 4
    indexer.sync()
    after = [
        h.item.id
        for h in Retriever(items, fresh, FakeEmbedder()).search("sister Lisbon", k=4, method="dense")
    ]
    assert after == before


def test_consistency_check_repairs_drift_both_ways(memory) -> None:  # type: ignore[no-untyped-def]
    items, index, indexer, _, _ = memory
    ids = sorted(items.all_ids())
    index.delete([ids[0]])  # lost from the index
    with items.store.transaction() as conn:  # removed from SQLite behind the index's back
        conn.execute("DELETE FROM memory_items WHERE id = ?", (ids[1],))
        conn.execute("DELETE FROM index_removals")
    report = indexer.check()
    assert (report.missing, report.stale) == (1, 1)
    indexer.sync()
    assert index.ids() == items.all_ids()


def test_corrupt_index_is_moved_aside_and_rebuilt_with_nothing_lost(memory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    items, index, _, _, _ = memory
    index.close()
    for path in (tmp_path / "index").rglob("*"):
        if path.is_file():
            path.write_bytes(b"\x00garbage" * 512)
    reopened = VectorIndex(tmp_path / "index", "fake-bow", 64)
    assert reopened.needs_rebuild and reopened.report.moved_aside is not None
    assert reopened.report.moved_aside.exists()
    Indexer(items, reopened, FakeEmbedder()).rebuild()
    assert reopened.ids() == items.all_ids() and len(items.all_ids()) == 4


def test_changing_embedder_resets_the_index(memory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, index, _, _, _ = memory
    index.close()
    other = VectorIndex(tmp_path / "index", "another-model", 64)
    assert other.needs_rebuild and other.count() == 0


def test_fts_query_quotes_every_term_so_user_text_cannot_inject_syntax() -> None:
    assert fts_query('the "NEAR" OR (xylo* AND yak) - what?') == '"near" OR "xylo" OR "yak"'
    assert fts_query("the and of") == ""


def test_bm25_survives_any_query(memory) -> None:  # type: ignore[no-untyped-def]
    _, _, _, retriever, _ = memory
    for query in ['"', "*", "NEAR(", "a\x00b", "", "🎉", "AND OR NOT"]:
        retriever.search(query, k=3, method="bm25")


def test_inactive_items_are_never_returned(memory) -> None:  # type: ignore[no-untyped-def]
    items, _, _, retriever, _ = memory
    [hit] = retriever.search("sister Lisbon maths", k=1)
    with items.store.transaction() as conn:
        conn.execute("UPDATE memory_items SET status = 'archived' WHERE id = ?", (hit.item.id,))
    for method in ("bm25", "dense", "hybrid"):
        assert hit.item.id not in [
            h.item.id for h in retriever.search("sister Lisbon maths", k=4, method=method)
        ]


def test_near_universal_terms_are_left_out_of_the_query(store: Store) -> None:
    items = ItemStore(store)
    items.add_many([{"kind": TURN, "text": f"Alice: note number {i} about the weather"} for i in range(20)])
    target = items.add(TURN, "Alice: my passport expires in June")
    # "alice" is in every item: it would match all 21 and rank nothing
    assert items._discriminating(["alice", "passport"]) == ["passport"]
    assert [i for i, _ in items.search_bm25("Alice passport", 3)] == [target]
    # a query made only of common words still searches with its rarest word
    assert items._discriminating(["alice", "weather"]) in (["alice"], ["weather"])
    assert items.search_bm25("Alice weather", 3)


def test_asking_for_more_neighbours_than_the_index_holds(tmp_path: Path, store: Store) -> None:
    """query() no longer counts first (10 ms at 100k items): Chroma must cope with k > count,
    with an empty index and with one emptied by deletes."""
    embedder = FakeEmbedder()
    index = VectorIndex(tmp_path / "index", embedder.name, embedder.dimension)
    vector = embedder.embed(["a dog on the beach"])[0]
    assert index.query(vector, 5) == []
    items = ItemStore(store)
    ids = [items.add(TURN, text) for text, _ in FACTS[:2]]
    index.upsert(list(items.many(ids).values()), embedder.embed([t for t, _ in FACTS[:2]]))
    assert sorted(i for i, _ in index.query(vector, 50)) == sorted(ids)
    assert len(index.query(vector, 50, {"kind": TOPIC})) == 0
    assert index.query(vector, 0) == []
    index.delete(ids)
    assert index.query(vector, 5) == []


def test_hybrid_search_gives_the_same_hits_from_any_thread(memory) -> None:  # type: ignore[no-untyped-def]
    """The lexical side runs on a worker beside the dense side; searches from several threads at
    once (lanes) must each get what a lone search gets."""
    from concurrent.futures import ThreadPoolExecutor

    retriever = memory[3]
    queries = ["my dog Rex", "where does my sister live", "marathon training", "running shoes"] * 5
    alone = [[h.item.id for h in retriever.search(q, k=3)] for q in queries]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda q: [h.item.id for h in retriever.search(q, k=3)], queries))
    assert together == alone
    assert len({tuple(a) for a in alone}) > 1  # the queries do find different things


def test_queries_from_another_thread_wait_for_writes(memory) -> None:  # type: ignore[no-untyped-def]
    """A query run while another thread wrote once failed in CI ("Error creating hnsw segment
    reader: Nothing found on disk"); one run beside a wipe fails at once. Calls now take turns,
    as they do in the child process."""
    import threading

    import numpy as np

    _, index, indexer, _, _ = memory
    vector = np.asarray(next(iter(index.vectors([1]).values())))
    errors: list[Exception] = []
    done = threading.Event()

    def query_meanwhile() -> None:
        while not done.is_set():
            try:
                index.query(vector, 4)
            except Exception as exc:  # what a search on the model's lane would have raised
                errors.append(exc)

    asker = threading.Thread(target=query_meanwhile)
    asker.start()
    try:
        for _ in range(4):
            index.wipe()
            indexer.rebuild()
            index.compact()
    finally:
        done.set()
        asker.join()
    assert errors == [] and index.count() == len(FACTS)

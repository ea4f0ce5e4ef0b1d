"""The vector index in a child process answers exactly as the in-process one, and fails clearly."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from memory.index.index_process import IndexProcess, IndexProcessError
from memory.index.vector_index import VectorIndex
from memory.store.database import Store
from memory.store.items import TURN, ItemStore
from tests.fakes import FakeEmbedder

TEXTS = ["my dog Biscuit loves the beach", "tomatoes on the balcony", "night shifts at the hospital"]


@pytest.fixture
def child(tmp_path: Path) -> IndexProcess:
    index = IndexProcess(tmp_path / "child", "fake-bow", 64)
    yield index
    index.close()


def test_the_child_answers_as_the_in_process_index(child: IndexProcess, store: Store, tmp_path: Path) -> None:
    items = ItemStore(store)
    ids = [items.add(TURN, text) for text in TEXTS]
    rows = list(items.many(ids).values())
    vectors = FakeEmbedder().embed(TEXTS)
    local = VectorIndex(tmp_path / "local", "fake-bow", 64)
    for index in (local, child):
        index.upsert(rows, vectors)
    assert child.count() == local.count() == 3 and child.ids() == local.ids() == set(ids)
    query = FakeEmbedder().embed(["the dog at the beach"])[0]
    assert child.query(query, 2) == local.query(query, 2)
    assert child.query(query, 3, {"kind": TURN}) == local.query(query, 3, {"kind": TURN})
    assert np.allclose(child.vectors([ids[0]])[ids[0]], local.vectors([ids[0]])[ids[0]])
    for index in (local, child):
        index.delete([ids[0]])
    assert child.ids() == local.ids() == set(ids[1:])
    child.reset()
    assert child.count() == 0 and not child.needs_rebuild
    local.close()


def test_a_corrupt_index_is_reported_through_the_child(tmp_path: Path) -> None:
    VectorIndex(tmp_path / "index", "fake-bow", 64).close()
    for path in (tmp_path / "index").rglob("*"):
        if path.is_file():
            path.write_bytes(b"\x00garbage" * 512)
    child = IndexProcess(tmp_path / "index", "fake-bow", 64)
    assert child.needs_rebuild and child.report.moved_aside is not None
    assert child.count() == 0
    child.close()


def test_errors_in_the_child_are_raised_in_the_app(child: IndexProcess, store: Store) -> None:
    items = ItemStore(store)
    row = list(items.many([items.add(TURN, TEXTS[0])]).values())
    with pytest.raises(Exception, match=r"(?i)length|number|size"):
        child.upsert(row, FakeEmbedder().embed(TEXTS[:2]))  # two vectors for one item
    assert child.count() == 0  # and the child goes on serving


def test_a_dead_child_gives_a_clear_error(child: IndexProcess) -> None:
    os.kill(child._process.pid, signal.SIGKILL)
    child._process.join(timeout=10)
    with pytest.raises(IndexProcessError, match="search index process"):
        child.count()


def test_waits_for_an_index_process_left_over_from_a_killed_app(tmp_path: Path) -> None:
    """The old child may still be finishing a write; the new one opens the folder only after it."""
    import fcntl
    import threading
    import time

    path = tmp_path / "index"
    holder = path.with_name("index.lock").open("a")
    fcntl.flock(holder, fcntl.LOCK_EX)  # as the left-over process holds it
    opened: list[IndexProcess] = []
    thread = threading.Thread(target=lambda: opened.append(IndexProcess(path, "fake-bow", 64)))
    thread.start()
    time.sleep(3)  # enough to spawn and open, were the folder free
    assert not opened, "it opened the index while another process held it"
    holder.close()  # the left-over process exits
    thread.join(60)
    assert opened and opened[0].count() == 0
    opened[0].close()


def test_gives_up_clearly_if_the_index_stays_in_use(tmp_path: Path) -> None:
    import fcntl

    path = tmp_path / "index"
    holder = path.with_name("index.lock").open("a")
    fcntl.flock(holder, fcntl.LOCK_EX)
    with pytest.raises(IndexProcessError, match="still in use"):
        IndexProcess(path, "fake-bow", 64, lock_wait_s=0.5)
    holder.close()


def test_compact_and_wipe_through_the_child_leave_no_deleted_vector(
    child: IndexProcess, store: Store, tmp_path: Path
) -> None:
    items = ItemStore(store)
    ids = [items.add(TURN, text) for text in TEXTS]
    vectors = FakeEmbedder().embed(TEXTS)
    child.upsert(list(items.many(ids).values()), vectors)
    gone = np.asarray(vectors[0], dtype=np.float32).tobytes()

    def holders() -> list[str]:
        return [p.name for p in (tmp_path / "child").rglob("*") if p.is_file() and gone in p.read_bytes()]

    child.delete([ids[0]])
    assert holders()  # Chroma keeps a deleted vector in its files
    child.compact()
    assert holders() == [] and child.ids() == set(ids[1:])
    query = FakeEmbedder().embed(["tomatoes"])[0]
    assert child.query(query, 1)[0][0] == ids[1]  # still searchable after the rewrite
    (tmp_path / "child.broken-20260101T000000").mkdir()
    child.wipe()
    assert child.count() == 0 and not (tmp_path / "child.broken-20260101T000000").exists()

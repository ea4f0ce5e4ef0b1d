"""Keeps the vector index in step with SQLite: embeds new items, removes deleted ones, repairs drift."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from memory.embed.minilm import Embedder
from memory.index.vector_index import Index
from memory.store import conversation_text
from memory.store.items import ItemStore

log = logging.getLogger(__name__)


@dataclass
class Consistency:
    sqlite_items: int
    index_items: int
    missing: int  # in SQLite, not in the index: re-embedded
    stale: int  # in the index, no longer in SQLite: removed

    @property
    def repaired(self) -> bool:
        return bool(self.missing or self.stale)


class Indexer:
    """All index writes go through here, on one background lane, at low priority."""

    def __init__(
        self,
        items: ItemStore,
        index: Index,
        embedder: Embedder,
        batch_size: int = 64,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self.items = items
        self.index = index
        self.embedder = embedder
        self.batch_size = batch_size
        self.busy = busy  # true while a reply is generated: embedding would steal its CPU
        self.cancelled = False  # set at shutdown: stop between batches, the rest resumes next start

    def sync(
        self, progress: Callable[[int], None] = lambda _n: None, cancelled: Callable[[], bool] = lambda: False
    ) -> int:
        """Apply queued removals, then embed every unindexed item. Returns items embedded."""
        removals = self.items.pending_removals()
        if removals:
            self.index.delete(removals)
            self.items.clear_removals(removals)
        done = 0
        stop = lambda: self.cancelled or cancelled()  # noqa: E731
        while not stop():
            while self.busy() and not stop():
                time.sleep(0.05)
            batch = self.items.pending_index(self.batch_size)
            if not batch:
                break
            vectors = self.embedder.embed([i.embed_text for i in batch])
            self.index.upsert(batch, vectors)
            self.items.mark_indexed(batch)  # after the upsert: a crash between re-embeds, never loses
            done += len(batch)
            progress(done)
        if not stop():  # the conversation documents too, so a search does not rebuild them
            conversation_text.refresh_stale(self.items.store)
        return done

    def check(self) -> Consistency:
        """Compare ids in SQLite and the index; queue what is missing, drop what is stale."""
        truth = self.items.all_ids()
        indexed = self.index.ids()
        missing = truth - indexed
        stale = indexed - truth
        if stale:
            self.index.delete(sorted(stale))
        if missing:
            with self.items.store.transaction() as conn:
                conn.executemany(
                    "UPDATE memory_items SET indexed_hash = NULL WHERE id = ?", [(i,) for i in missing]
                )
        report = Consistency(len(truth), len(indexed), len(missing), len(stale))
        if report.repaired:
            log.info("index drift repaired: %s", report)
        return report

    def rebuild(
        self, progress: Callable[[int], None] = lambda _n: None, cancelled: Callable[[], bool] = lambda: False
    ) -> int:
        """Throw the vectors away and re-embed everything from SQLite."""
        self.index.reset()
        self.items.mark_all_unindexed()
        with self.items.store.transaction() as conn:
            conn.execute("DELETE FROM index_removals")
        return self.sync(progress, cancelled)

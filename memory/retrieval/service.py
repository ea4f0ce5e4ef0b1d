"""The memory service: items in SQLite, their vector index, and search — opened as one unit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from memory.embed.minilm import Embedder
from memory.index.index_process import IndexProcess
from memory.index.indexer import Consistency, Indexer
from memory.index.vector_index import Index, VectorIndex
from memory.retrieval.hybrid import Filters, Hit, Retriever
from memory.store import sources
from memory.store.database import Message, Store
from memory.store.items import DENSE_TEXT, LEXICAL_TEXT, TURN, ItemStore, turn_index_text

log = logging.getLogger(__name__)
SPEAKERS = {"user": "User", "assistant": "Assistant"}
SEARCHABLE = ("complete", "stopped", "interrupted", "cut off")
_MARKS = ", ".join("?" * len(SEARCHABLE))


class MemoryService:
    """Everything Memoir remembers, searchable. Index work belongs on one background lane."""

    def __init__(
        self,
        store: Store,
        index_dir: Path,
        embedder: Embedder,
        busy: Callable[[], bool] = lambda: False,
        index_process: bool = False,
    ) -> None:
        self.store = store
        self.items = ItemStore(store)
        self.embedder = embedder
        self.index: Index
        if index_process:  # the app's choice: index writes then never hold the GUI's GIL
            self.index = IndexProcess(index_dir, embedder.name, embedder.dimension)
        else:
            self.index = VectorIndex(index_dir, embedder.name, embedder.dimension)
        self.indexer = Indexer(self.items, self.index, embedder, busy=busy)
        self.retriever = Retriever(self.items, self.index, embedder)

    @property
    def index_problem(self) -> str | None:
        report = self.index.report
        if report.moved_aside is not None:
            return (
                f"The search index was damaged ({report.reason}); it was moved to "
                f"{report.moved_aside.name} and is being rebuilt from your conversations. "
                "Nothing was lost."
            )
        return None

    def remember_message(self, message: Message) -> int | None:
        """Make a saved message searchable (as a turn item); idempotent."""
        if message.status not in SEARCHABLE or not message.content.strip():
            return None
        if self.items.for_message(message.id):
            return None
        speaker = SPEAKERS.get(message.role, message.role)
        previous = self._previous_turn(message)
        return self.items.add(
            TURN,
            message.content,
            index_text=turn_index_text(
                message.content,
                speaker=speaker,
                when=written(message),
                previous=previous,
                layout=LEXICAL_TEXT,
            ),
            embed_text=turn_index_text(message.content, speaker=speaker, layout=DENSE_TEXT),
            conversation_id=message.conversation_id,
            message_ids=[message.id],
            speaker=speaker,
            occurred_at=message.created_at,
            source=sources.of_turn(message.role, message.content),
        )

    def _previous_turn(self, message: Message) -> str | None:
        rows = self.store.query(
            "SELECT role, content FROM messages WHERE conversation_id = ? AND id < ? AND status IN"
            f" ({_MARKS}) ORDER BY id DESC LIMIT 1",
            (message.conversation_id, message.id, *SEARCHABLE),
        )
        if not rows:
            return None
        return f"{SPEAKERS.get(rows[0]['role'], rows[0]['role'])}: {rows[0]['content']}"

    def backfill(self) -> int:
        """Turn items for messages that have none (e.g. a crash between the two writes)."""
        rows = self.store.query(
            f"SELECT m.* FROM messages m WHERE m.status IN ({_MARKS}) AND NOT EXISTS"
            " (SELECT 1 FROM memory_item_messages im JOIN memory_items i ON i.id = im.item_id"
            "  WHERE im.message_id = m.id AND i.kind = ?)",
            (*SEARCHABLE, TURN),
        )
        return sum(self.remember_message(Message(**row)) is not None for row in rows)

    def start_up(self) -> Consistency:
        """The quick start-up check: backfill, compare ids with the index, embed what is missing."""
        self.backfill()
        report = self.indexer.check()
        self.indexer.sync()
        return report

    def search(
        self,
        query: str,
        k: int = 10,
        filters: Filters = Filters(),  # noqa: B008
        method: str = "hybrid",
    ) -> list[Hit]:
        return self.retriever.search(query, k, filters, method)

    def compact(self) -> None:
        """Remove what was forgotten from the vector index's files too (after a purge)."""
        self.indexer.sync()  # the queued removals first
        self.index.compact()

    def wipe(self) -> None:
        """Delete every conversation and memory, and the vector index with any moved-aside copy,
        leaving the data folder as a fresh start would (settings stay)."""
        self.store.wipe()
        self.store.scrub()
        self.index.wipe()

    def close(self) -> None:
        self.index.close()


def written(message: Message) -> date | None:
    """The day a message was written, on the user's clock (stamps are UTC: at 00:30 in Lisbon's
    summer it is still yesterday in UTC); its time expressions are resolved against it."""
    try:
        stamp = datetime.fromisoformat(message.created_at)
    except (TypeError, ValueError):
        return None
    return (stamp.astimezone() if stamp.tzinfo else stamp).date()


def open_memory(
    home: Path,
    store: Store,
    busy: Callable[[], bool] = lambda: False,
    embedding_model: str = "",
    index_process: bool = True,
) -> MemoryService:
    """The memory of the data dir ``home``, embedding with MiniLM or the given GGUF model; its
    vector index runs in a child process unless ``index_process`` is False."""
    embedder: Embedder
    if embedding_model:
        from memory.embed.gguf_embedder import LlamaEmbedder

        embedder = LlamaEmbedder(Path(embedding_model).expanduser())
    else:
        from memory.embed.embedders import default_embedder

        embedder = default_embedder()
    return MemoryService(store, home / "index", embedder, busy=busy, index_process=index_process)

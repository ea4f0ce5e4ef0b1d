"""The vector index: a ChromaDB collection derived from SQLite, safe to throw away and rebuild."""

from __future__ import annotations

import functools
import logging
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from memory.embed.minilm import Vectors
from memory.store.items import MemoryItem

os.environ["ANONYMIZED_TELEMETRY"] = "False"  # before chromadb reads its settings
log = logging.getLogger(__name__)
COLLECTION = "memoir_memory"
F = TypeVar("F", bound=Callable[..., Any])


def serial(method: F) -> F:
    """One call at a time. Chroma failed a query run while another thread wrote ("Error creating
    hnsw segment reader: Nothing found on disk", seen once in CI), and compact and wipe replace the
    folder under any reader. The child process (the app's choice) is serial by its pipe; this makes
    the in-process index, used by the benches and tests, behave the same."""

    @functools.wraps(method)
    def locked(self: VectorIndex, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return locked  # type: ignore[return-value]


def timestamp(iso: str) -> float:
    """Seconds since the epoch for an ISO time, for Chroma's numeric range filters."""
    parsed = datetime.fromisoformat(iso)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


@dataclass
class OpenReport:
    moved_aside: Path | None = None
    reason: str = ""


class Index(Protocol):
    """What the indexer and the retriever need of a vector index (in this process or a child)."""

    report: OpenReport

    @property
    def needs_rebuild(self) -> bool: ...
    def reset(self) -> None: ...
    def compact(self) -> None: ...
    def wipe(self) -> None: ...
    def upsert(self, items: list[MemoryItem], vectors: Vectors) -> None: ...
    def delete(self, ids: list[int]) -> None: ...
    def query(
        self, vector: Vectors, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[int, float]]: ...
    def vectors(self, ids: list[int]) -> dict[int, np.ndarray]: ...
    def count(self) -> int: ...
    def ids(self) -> set[int]: ...
    def close(self) -> None: ...


class VectorIndex:
    """Vectors, ids and filterable metadata; never embeds anything itself (no default model)."""

    def __init__(self, path: Path, embedder_name: str, dimension: int) -> None:
        self.path = path
        self.embedder_name = embedder_name
        self.dimension = dimension
        self.report = OpenReport()
        self._lock = threading.RLock()
        try:
            self._open()
        except Exception as exc:  # a broken index must never stop the app: it is only derived data
            self.report = OpenReport(self._move_aside(), f"the index could not be opened ({exc})")
            log.warning("vector index at %s was unreadable and moved aside: %s", path, exc)
            self._open()

    def _open(self) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._client = chromadb.PersistentClient(
            path=str(self.path),
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True),
        )
        self._collection = self._client.get_or_create_collection(
            COLLECTION,
            embedding_function=None,
            metadata={"embedder": self.embedder_name, "dimension": self.dimension, "hnsw:space": "cosine"},
        )
        self._collection.count()  # touch the files now, so corruption shows up here
        meta = self._collection.metadata or {}
        if meta.get("embedder") != self.embedder_name or meta.get("dimension") != self.dimension:
            self.reset()  # vectors from another embedder are meaningless here
            self.report.reason = "the embedding model changed"

    def _move_aside(self) -> Path:
        self._forget_client()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.broken-{stamp}")
        if self.path.exists():
            shutil.move(str(self.path), aside)
        return aside

    def _forget_client(self) -> None:
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()  # chroma caches one system per path

    @property
    def needs_rebuild(self) -> bool:
        return bool(self.report.reason)

    @serial
    def reset(self) -> None:
        """Drop every vector (the SQLite rows stay; rebuild re-embeds them)."""
        import contextlib

        with contextlib.suppress(Exception):
            self._client.delete_collection(COLLECTION)
        self._collection = self._client.get_or_create_collection(
            COLLECTION,
            embedding_function=None,
            metadata={"embedder": self.embedder_name, "dimension": self.dimension, "hnsw:space": "cosine"},
        )

    @serial
    def upsert(self, items: list[MemoryItem], vectors: Vectors) -> None:
        if not items:
            return
        self._collection.upsert(
            ids=[str(i.id) for i in items],
            embeddings=np.asarray(vectors, dtype=np.float32),
            metadatas=[self._metadata(i) for i in items],
        )

    @staticmethod
    def _metadata(item: MemoryItem) -> dict[str, Any]:
        return {
            "kind": item.kind,
            "conversation_id": item.conversation_id or 0,
            "occurred": timestamp(item.occurred_at),
            "status": item.status,
        }

    @serial
    def delete(self, ids: list[int]) -> None:
        if ids:
            self._collection.delete(ids=[str(i) for i in ids])

    @serial
    def query(self, vector: Vectors, k: int, where: dict[str, Any] | None = None) -> list[tuple[int, float]]:
        """The ``k`` nearest items as (id, cosine similarity), best first.

        No count() first: Chroma returns fewer than ``k`` (or none) by itself, and its count took
        10 ms at 100,000 items, twice per search (profiled with bench/bench_scale.py's data)."""
        if k <= 0:
            return []
        result = self._collection.query(
            query_embeddings=np.asarray(vector, dtype=np.float32).reshape(1, -1),
            n_results=k,
            where=where or None,
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = (result["distances"] or [[]])[0]
        return [(int(i), 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]

    @serial
    def vectors(self, ids: list[int]) -> dict[int, np.ndarray]:
        """Stored embeddings of ``ids`` (those indexed), without embedding anything again."""
        if not ids:
            return {}
        got = self._collection.get(ids=[str(i) for i in ids], include=["embeddings"])
        embeddings = got["embeddings"] if got["embeddings"] is not None else []
        return {int(i): np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], embeddings, strict=True)}

    @serial
    def count(self) -> int:
        return int(self._collection.count())

    @serial
    def ids(self) -> set[int]:
        found: set[int] = set()
        offset, page = 0, 5000
        while True:
            batch = self._collection.get(include=[], limit=page, offset=offset)["ids"]
            found.update(int(i) for i in batch)
            if len(batch) < page:
                return found
            offset += page

    @serial
    def compact(self) -> None:
        """Rewrite the index with only what it holds now. Chroma keeps a deleted vector in its files
        (the log in chroma.sqlite3 keeps every upsert): "forget" must not leave it there."""
        got = self._collection.get(include=["embeddings", "metadatas"])
        ids, metadatas = list(got["ids"]), list(got["metadatas"] or [])
        vectors = np.asarray(got["embeddings"] if got["embeddings"] is not None else [], dtype=np.float32)
        self._forget_client()
        fresh = self.path.with_name(f"{self.path.name}.compacting")
        shutil.rmtree(fresh, ignore_errors=True)
        built = VectorIndex(fresh, self.embedder_name, self.dimension)
        for start in range(0, len(ids), 1000):
            built._collection.add(
                ids=ids[start : start + 1000],
                embeddings=vectors[start : start + 1000],
                metadatas=metadatas[start : start + 1000],
            )
        built.close()
        old = self.path.with_name(f"{self.path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        self.path.rename(old)
        fresh.rename(self.path)
        shutil.rmtree(old)
        for aside in self.path.parent.glob(f"{self.path.name}.broken-*"):  # old copies hold it too
            shutil.rmtree(aside, ignore_errors=True)
        self._open()

    @serial
    def wipe(self) -> None:
        """Delete Everything: the index folder and any moved-aside copies, then a fresh index."""
        self._forget_client()
        for path in [self.path, *self.path.parent.glob(f"{self.path.name}.broken-*")]:
            shutil.rmtree(path, ignore_errors=True)
        self.report = OpenReport()
        self._open()

    @serial
    def close(self) -> None:
        self._forget_client()

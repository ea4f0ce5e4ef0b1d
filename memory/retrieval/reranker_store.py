"""The reranker's weights in SQLite: float32 bytes with their shape and a format version (no pickle)."""

from __future__ import annotations

import json

import numpy as np

from memory.retrieval.rerank_features import NAMES
from memory.retrieval.reranker import Reranker
from memory.store.database import Store, now

VERSION = 1


class RerankerStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def load(self, dimension: int) -> Reranker:
        """The saved reranker, or a fresh one (zero weights) if none fits this embedder."""
        rows = self.store.query("SELECT * FROM reranker WHERE id = 1")
        if not rows or rows[0]["version"] != VERSION or rows[0]["dimension"] != dimension:
            return Reranker(dimension)  # another embedder's weights mean nothing here
        row = rows[0]
        shape = (dimension, dimension)
        try:
            w_q = np.frombuffer(row["w_q"], dtype=np.float32).reshape(shape)
            w_m = np.frombuffer(row["w_m"], dtype=np.float32).reshape(shape)
        except ValueError:  # truncated bytes: start again rather than fail every reply
            return Reranker(dimension)
        reranker = Reranker(dimension, (w_q, w_m))
        reranker.updates = int(row["updates"])
        self._load_features(reranker)
        return reranker

    def _load_features(self, reranker: Reranker) -> None:
        """The feature weights, if saved for the same features (else they stay at zero)."""
        rows = self.store.query("SELECT * FROM reranker_features WHERE id = 1")
        if not rows or json.loads(rows[0]["names"]) != list(NAMES):
            return
        arrays = [
            np.frombuffer(rows[0][column], dtype=np.float64)
            for column in ("theta", "first_moment", "second_moment")
        ]
        if all(a.shape == (len(NAMES),) for a in arrays):
            reranker.theta[:] = arrays[0]
            reranker.adam[0][:] = arrays[1]
            reranker.adam[1][:] = arrays[2]

    def save(self, reranker: Reranker) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO reranker VALUES (1, ?, ?, ?, ?, ?, ?)",
                (
                    VERSION,
                    reranker.dimension,
                    reranker.w_q.astype(np.float32).tobytes(),
                    reranker.w_m.astype(np.float32).tobytes(),
                    reranker.updates,
                    now(),
                ),
            )
            conn.execute(
                "INSERT OR REPLACE INTO reranker_features VALUES (1, ?, ?, ?, ?)",
                (
                    json.dumps(list(NAMES)),
                    reranker.theta.astype(np.float64).tobytes(),
                    reranker.adam[0].astype(np.float64).tobytes(),
                    reranker.adam[1].astype(np.float64).tobytes(),
                ),
            )

    def info(self) -> dict[str, object]:
        rows = self.store.query("SELECT version, dimension, updates, updated_at FROM reranker WHERE id = 1")
        return rows[0] if rows else {"updates": 0}

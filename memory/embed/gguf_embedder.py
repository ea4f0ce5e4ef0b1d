"""A GGUF embedding model run by llama.cpp, for users who prefer another embedder than MiniLM."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from memory.embed.minilm import Vectors
from memory.llm.engine import check_model_file, open_llama


class LlamaEmbedder:
    """Mean-pooled, L2-normalised llama.cpp embeddings. Own ``Llama`` object: use from one lane."""

    def __init__(self, path: Path, n_ctx: int = 512, n_threads: int = 0) -> None:
        check_model_file(path)
        from llama_cpp import LLAMA_POOLING_TYPE_MEAN

        threads = n_threads or (os.cpu_count() or 1)
        self._llama = open_llama(
            path,
            embedding=True,
            pooling_type=LLAMA_POOLING_TYPE_MEAN,
            n_ctx=n_ctx,
            n_batch=n_ctx,
            n_ubatch=n_ctx,
            n_threads=threads,
        )
        self._lock = threading.Lock()  # searches (model lane) and indexing (index lane) both embed
        self.name = f"gguf:{path.name}"
        self.dimension = int(self._llama.n_embd())

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # An empty text has no tokens, and llama-cpp-python then reads an embedding that does not
        # exist (an exception, or a segfault); a single space is the nearest text that has one.
        safe = [text if text.strip() else " " for text in texts]
        with self._lock:
            raw = self._llama.embed(safe, normalize=False, truncate=True)
        vectors = np.asarray(raw, dtype=np.float32)
        vectors = vectors.reshape(len(texts), self.dimension)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def close(self) -> None:
        self._llama.close()

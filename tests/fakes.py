"""Deterministic test doubles shared by several test modules."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from memory.embed.minilm import Vectors


class FakeEmbedder:
    """Bag-of-words hashed into 64 dimensions: texts sharing words are near, others far."""

    name = "fake-bow"
    dimension = 64

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: list[str]) -> Vectors:
        self.calls += 1
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
            out[row] /= max(1e-6, float(np.linalg.norm(out[row])))
        return out

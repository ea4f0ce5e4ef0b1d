"""How much could *any* reranker of this family learn here? A supervised ceiling for the bench.

The online reranker sees five shown memories per answer and a reward for each. This one is given
far more: every candidate of every first-half question labelled (covers an evidence turn or not),
sixty passes over them, and richer inputs than the reranker's — the memory's embedding, its
element-wise product with the query's, and the reranker's own features (memory.rerank_features) —
combined linearly on top of the retriever's score and fitted with a listwise softmax loss. Measured on the
same second halves, it bounds what learning from citations can add with these candidates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

EPOCHS = 60
STEP = 1.0
L2 = 1e-3


def features(query: np.ndarray, memories: np.ndarray, pair: np.ndarray) -> np.ndarray:
    """The memory's embedding and its product with the query's, beside the reranker's own features."""
    return np.hstack([memories, memories * query, pair])


@dataclass
class Ceiling:
    train: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    test: list[tuple[np.ndarray, np.ndarray, list[list[str]], list[str]]] = field(default_factory=list)

    def add_training(
        self,
        query: np.ndarray,
        memories: np.ndarray,
        base: np.ndarray,
        labels: list[bool],
        pair: np.ndarray,
    ) -> None:
        if any(labels):
            self.train.append((features(query, memories, pair), np.asarray(labels, float), base))

    def add_test(
        self,
        query: np.ndarray,
        memories: np.ndarray,
        base: np.ndarray,
        turns: list[list[str]],
        evidence: list[str],
        pair: np.ndarray,
    ) -> None:
        self.test.append((features(query, memories, pair), base, turns, evidence))

    def fit(self) -> np.ndarray:
        """Weights maximising the softmax probability of the labelled candidates (full batch)."""
        if not self.train:
            return np.zeros(0)
        weights = np.zeros(self.train[0][0].shape[1])
        for _ in range(EPOCHS):
            gradient = np.zeros_like(weights)
            for feats, labels, base in self.train:
                s = base + feats @ weights
                p = np.exp(s - s.max())
                p /= p.sum()
                gradient += feats.T @ (labels / labels.sum() - p)
            weights += STEP * (gradient / len(self.train) - L2 * weights)
        return weights

    def orders(self) -> list[tuple[list[str], list[str]]]:
        """For each test question: the turns in the fitted order, and its evidence."""
        weights = self.fit()
        out = []
        for feats, base, turns, evidence in self.test:
            s = base + (feats @ weights if len(weights) else 0.0)
            order = np.argsort(-s, kind="stable")
            out.append(([t for i in order for t in turns[i]], evidence))
        return out

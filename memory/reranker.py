"""Retrospective reflection (RMM §6): a reranker that learns which memories answers actually use.

Query and memory embeddings are adapted by residual linear maps, ``q' = q + W_q q`` and
``m' = m + W_m m``. The score adds what the adaptation changes to the retriever's own score,
``s = base + q'·m' - q·m``, so with W at zero (the start, and after a reset) the order is exactly the
retriever's. Learning is REINFORCE on a softmax policy over the candidates at temperature τ, with
per-memory rewards (+1 cited, -1 shown but not cited) against a baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TEMPERATURE = 0.5
BASELINE = 0.5
LEARNING_RATE = 1e-3
BATCH = 4


@dataclass
class Example:
    """One answer: the query, its candidates, which were shown, and each shown memory's reward."""

    query: np.ndarray  # (d,)
    memories: np.ndarray  # (k, d)
    base: np.ndarray  # (k,) the retriever's scores
    shown: list[int]  # candidate positions shown to the model
    rewards: list[float]  # one per shown position
    weight: float = 1.0  # how much this answer counts (the user's own judgement counts more)


class Reranker:
    def __init__(self, dimension: int, weights: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.dimension = dimension
        if weights is None:
            weights = (np.zeros((dimension, dimension)), np.zeros((dimension, dimension)))
        self.w_q, self.w_m = (np.asarray(w, dtype=np.float64) for w in weights)
        self.updates = 0
        self._pending: list[Example] = []

    def scores(self, query: np.ndarray, memories: np.ndarray, base: np.ndarray) -> np.ndarray:
        q, m = np.asarray(query, np.float64), np.asarray(memories, np.float64)
        adapted_q = q + self.w_q @ q
        adapted_m = m + m @ self.w_m.T
        return np.asarray(base, np.float64) + adapted_m @ adapted_q - m @ q

    def select(
        self,
        query: np.ndarray,
        memories: np.ndarray,
        base: np.ndarray,
        top: int,
        rng: np.random.Generator | None = None,
    ) -> list[int]:
        """Positions of the ``top`` memories: sampled by Gumbel-top-k while learning (``rng``
        given), else the best scores. Ties keep the retriever's order."""
        s = self.scores(query, memories, base)
        if rng is not None:
            s = s / TEMPERATURE + rng.gumbel(size=s.shape)
        return [int(i) for i in np.argsort(-s, kind="stable")[:top]]

    def log_policy_gradient(self, example: Example) -> tuple[np.ndarray, np.ndarray]:
        """Gradient of sum_j (r_j - b) log softmax(s/τ)_j over shown j, with respect to W_q, W_m."""
        q = np.asarray(example.query, np.float64)
        m = np.asarray(example.memories, np.float64)
        s = self.scores(q, m, example.base) / TEMPERATURE
        p = np.exp(s - s.max())
        p /= p.sum()
        coef = np.zeros(len(m))  # d objective / d s_i
        for j, reward in zip(example.shown, example.rewards, strict=True):
            advantage = reward - BASELINE
            coef -= advantage * p / TEMPERATURE
            coef[j] += advantage / TEMPERATURE
        adapted_q = q + self.w_q @ q
        adapted_m = m + m @ self.w_m.T
        grad_q = np.outer(coef @ adapted_m, q)  # ds_i/dW_q = m'_i q^T
        grad_m = np.outer(adapted_q, coef @ m)  # ds_i/dW_m = q' m_i^T
        return grad_q, grad_m

    def learn(self, example: Example) -> bool:
        """Queue an answer's rewards; every BATCH answers take one ascent step. True if it stepped."""
        self._pending.append(example)
        if len(self._pending) < BATCH:
            return False
        total_q = np.zeros_like(self.w_q)
        total_m = np.zeros_like(self.w_m)
        for queued in self._pending:
            grad_q, grad_m = self.log_policy_gradient(queued)
            total_q += queued.weight * grad_q
            total_m += queued.weight * grad_m
        self.w_q += LEARNING_RATE * total_q / len(self._pending)
        self.w_m += LEARNING_RATE * total_m / len(self._pending)
        self._pending.clear()
        self.updates += 1
        return True

    def objective(self, example: Example) -> float:
        """The quantity whose gradient ``log_policy_gradient`` returns (for checking it)."""
        s = self.scores(example.query, example.memories, example.base) / TEMPERATURE
        log_p = s - s.max() - np.log(np.exp(s - s.max()).sum())
        return float(
            sum((r - BASELINE) * log_p[j] for j, r in zip(example.shown, example.rewards, strict=True))
        )

    def reset(self) -> None:
        self.w_q[:] = 0.0
        self.w_m[:] = 0.0
        self.updates = 0
        self._pending.clear()

"""The reranker's maths (RMM §6), citation parsing, and the weights' persistence."""

from __future__ import annotations

import numpy as np
import pytest

from memory.answering.attribution import parse_citations
from memory.retrieval.reranker import BATCH, FEATURES, PRIOR, Example, Reranker
from memory.retrieval.reranker_store import RerankerStore
from memory.store.database import Store


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def example(rng: np.random.Generator, d: int = 8, k: int = 6) -> Example:
    return Example(
        query=unit(rng.normal(size=d)),
        memories=unit(rng.normal(size=(k, d))),
        base=rng.uniform(0, 1, size=k),
        shown=[0, 2, 3],
        rewards=[1.0, -1.0, 1.0],
    )


def test_zero_weights_keep_the_retrievers_order() -> None:
    rng = np.random.default_rng(1)
    ex = example(rng)
    reranker = Reranker(8)
    assert np.allclose(reranker.scores(ex.query, ex.memories, ex.base), ex.base)
    assert reranker.select(ex.query, ex.memories, ex.base, 6) == list(np.argsort(-ex.base, kind="stable"))


def test_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(2)
    ex = example(rng)
    reranker = Reranker(8, (rng.normal(scale=0.1, size=(8, 8)), rng.normal(scale=0.1, size=(8, 8))))
    grad_q, grad_m = reranker.log_policy_gradient(ex)
    eps = 1e-6
    for weights, grad in ((reranker.w_q, grad_q), (reranker.w_m, grad_m)):
        for a, b in [(0, 0), (3, 5), (7, 1)]:
            weights[a, b] += eps
            up = reranker.objective(ex)
            weights[a, b] -= 2 * eps
            down = reranker.objective(ex)
            weights[a, b] += eps
            assert grad[a, b] == pytest.approx((up - down) / (2 * eps), rel=1e-4, abs=1e-8)


def test_a_consistently_rewarded_memory_rises() -> None:
    rng = np.random.default_rng(3)
    d, k = 16, 8
    reranker = Reranker(d)
    favourite = unit(rng.normal(size=d))
    start = None
    for step in range(400):
        memories = unit(rng.normal(size=(k, d)))
        memories[5] = favourite
        query = unit(rng.normal(size=d))
        base = np.linspace(1.0, 0.3, k)  # the retriever ranks the favourite 6th
        shown = reranker.select(query, memories, base, 3, rng)
        rewards = [1.0 if i == 5 else -1.0 for i in shown]
        reranker.learn(Example(query, memories, base, shown, rewards))
        if step == 0:
            start = reranker.scores(query, memories, base)[5] - base[5]
    query = unit(rng.normal(size=d))
    memories = unit(rng.normal(size=(k, d)))
    memories[5] = favourite
    gain = reranker.scores(query, memories, np.zeros(k))[5] - float(memories[5] @ query)
    assert start == 0.0 and reranker.updates == 400 // BATCH
    assert gain > 0.05, gain


def test_sampling_explores_but_stays_near_the_top() -> None:
    rng = np.random.default_rng(4)
    ex = example(rng, k=10)
    ex.base = np.linspace(5.0, 0.0, 10)  # clear gaps: sampling at τ=0.5 rarely reorders them
    picks = Reranker(8).select(ex.query, ex.memories, ex.base, 3, rng)
    assert sorted(picks) == [0, 1, 2]


@pytest.mark.parametrize(
    ("text", "shown", "expected"),
    [
        ("Biscuit loves the beach [1].", 5, {1}),
        ("You have a dog [1, 3] and a class [2]", 5, {1, 2, 3}),
        ("Nothing relevant here. [NO_CITE]", 5, set()),
        ("[no_cite]", 5, set()),
        ("As noted in [7], ...", 5, None),  # never shown
        ("I don't remember.", 5, None),  # said nothing either way
        ("[a] [ ] [1-2] ]]", 5, None),
        ("[0]", 3, None),
    ],
)
def test_citation_parsing(text: str, shown: int, expected: set[int] | None) -> None:
    assert parse_citations(text, shown) == expected


def test_weights_persist_and_reset(store: Store) -> None:
    rng = np.random.default_rng(5)
    weights = RerankerStore(store)
    reranker = weights.load(8)
    assert not reranker.w_q.any()
    for _ in range(BATCH):
        reranker.learn(example(rng))
    weights.save(reranker)
    again = weights.load(8)
    assert again.updates == 1 and np.allclose(again.w_q, reranker.w_q, atol=1e-6) and again.w_q.any()
    assert not weights.load(16).w_q.any()  # another embedder's dimension: start afresh
    again.reset()
    weights.save(again)
    assert not weights.load(8).w_m.any()


def featured(rng: np.random.Generator, d: int = 8, k: int = 6) -> Example:
    ex = example(rng, d, k)
    ex.features = rng.normal(size=(k, FEATURES))
    return ex


def test_zero_feature_weights_keep_the_retrievers_order() -> None:
    ex = featured(np.random.default_rng(6))
    reranker = Reranker(8, theta=np.zeros(FEATURES))
    assert np.allclose(reranker.scores(ex.query, ex.memories, ex.base, ex.features), ex.base)


def test_feature_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(7)
    ex = featured(rng)
    reranker = Reranker(8, theta=rng.normal(scale=0.3, size=FEATURES))
    grad = reranker.theta_gradient(ex)
    eps = 1e-6
    for a in range(FEATURES):
        reranker.theta[a] += eps
        up = reranker.objective(ex)
        reranker.theta[a] -= 2 * eps
        down = reranker.objective(ex)
        reranker.theta[a] += eps
        assert grad[a] == pytest.approx((up - down) / (2 * eps), rel=1e-4, abs=1e-8)


def test_a_feature_that_marks_cited_memories_gains_weight() -> None:
    rng = np.random.default_rng(8)
    d, k, marker = 8, 10, 3
    reranker = Reranker(d)
    for _ in range(800):
        phi = rng.normal(scale=0.1, size=(k, FEATURES))
        good = int(rng.integers(4, k))  # the retriever ranks it below the top four
        phi[good, marker] = 1.0
        base = np.linspace(1.0, 0.0, k)
        ex = Example(unit(rng.normal(size=d)), unit(rng.normal(size=(k, d))), base, [], [], features=phi)
        ex.shown = reranker.select(ex.query, ex.memories, base, 3, rng, phi)
        ex.rewards = [1.0 if i == good else -1.0 for i in ex.shown]
        reranker.learn(ex)
    assert reranker.theta[marker] == max(reranker.theta) and reranker.theta[marker] > 0.6
    phi = np.zeros((k, FEATURES))
    phi[5, marker] = 1.0
    query, memories = unit(rng.normal(size=d)), unit(rng.normal(size=(k, d)))
    assert reranker.select(query, memories, np.linspace(1.0, 0.0, k), 1, None, phi) == [5]


def test_feature_weights_persist_with_their_adam_state_and_reset(store: Store) -> None:
    rng = np.random.default_rng(9)
    weights = RerankerStore(store)
    reranker = weights.load(8)
    for _ in range(2 * BATCH):
        reranker.learn(featured(rng))
    weights.save(reranker)
    again = weights.load(8)
    assert list(again.theta) != list(PRIOR) and np.array_equal(again.theta, reranker.theta)
    assert all(np.array_equal(a, b) for a, b in zip(again.adam, reranker.adam, strict=True))
    store.conn.execute("UPDATE reranker_features SET names = '[\"something else\"]'")
    assert list(weights.load(8).theta) == list(PRIOR)  # other features: their weights mean nothing here
    again.reset()
    weights.save(again)
    assert list(weights.load(8).theta) == list(PRIOR) and not weights.load(8).adam[1].any()

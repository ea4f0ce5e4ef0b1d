"""The reranker's starting weights are the ones the committed fit produced, on "tune" only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memory.retrieval.rerank_features import NAMES
from memory.retrieval.reranker import PRIOR, Reranker

RESULT = Path(__file__).resolve().parents[3] / "bench/results/reranker_prior.json"


def test_prior_is_the_committed_fit_on_tune() -> None:
    fit = json.loads(RESULT.read_text(encoding="utf-8"))
    assert fit["split"] == "tune"
    assert list(fit["prior"]) == list(NAMES)  # same features, same order
    assert pytest.approx(tuple(fit["prior"].values()), abs=1e-4) == PRIOR


def test_a_new_reranker_and_a_reset_one_start_from_the_prior() -> None:
    reranker = Reranker(4)
    assert list(reranker.theta) == list(PRIOR)
    reranker.theta[:] = 0.0
    reranker.reset()
    assert list(reranker.theta) == list(PRIOR)

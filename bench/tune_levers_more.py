"""More retrieval levers measured on the *tune* LoCoMo conversations, on top of the app's choice (issue 17).

Same simulator as ``bench/tune_levers.py`` (exact cosine in numpy for Chroma, in-memory FTS5 for the
store), starting from the app's levers (conversations, neighbours 0.3, query feedback 0.3, dates).
Each trial changes one thing:
- ``pairs``: BM25 of the query's adjacent content-word pairs as NEAR groups (window 2 or 5), added
  with a weight (phrases like "pottery class" should count more together than apart);
- ``spread2``: a turn also gains a share of the better of the turns two away;
- ``floor``: the cosine below which the dense side gives nothing (the app: 0.2);
- ``depth``: how many hits each side contributes (the app: 50);
- ``list_cap``: questions that ask for several things ("What activities…", "…both…") keep at most
  N turns per conversation in their top 25 (evidence for a list is spread across conversations);
- ``dense_by_best``: the dense side divided by the query's best dense gain, as the BM25 side is by its
  best score (then each side's best hit scores its full weight), over floors, dense weights and
  conversation weights around the app's;
- ``query_form``: the dense query without its question words, or as its content words only, alone
  or averaged with the question's own vector.
Prints one JSON line per trial (the first line is the provenance); asserts nothing.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from collections.abc import Callable
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import tune_levers as levers  # noqa: E402
from bench.tune_retrieval import bm25_scores  # noqa: E402
from memory.store.items import TurnText  # noqa: E402
from memory.store.lexical import content_words  # noqa: E402

APP = {"mode": "bm25", "wd": 0.8, "spread": 0.3, "session": 1.0, "prf": 0.3, "prf_m": 3}
LAYOUT = replace(TurnText(previous=True), times=True)
LIST_QUESTION = re.compile(
    r"^\s*(what|which)\s+(?:\w+\s+)?\w+s\b(?!\s+(?:\w+\s+)?(?:do|did|does|is|was)\b)|\bboth\b"
    r"|^\s*what\s+(?:has|have)\b",
    re.IGNORECASE,
)
QUESTION_WORDS = re.compile(
    r"^\s*(what|when|where|who|whom|which|why|how)(\s+(do|does|did|is|are|was|were|has|have|had|"
    r"kind of|type of|long|many|much))?\s+",
    re.IGNORECASE,
)


def pair_scores(d: dict, window: int) -> np.ndarray:
    """Normalised BM25 of each question's adjacent content-word pairs (NEAR groups), per turn."""

    def near_pairs(question: str) -> str:
        words = content_words(question)
        return " OR ".join(f'NEAR("{a}" "{b}", {window})' for a, b in pairwise(words))

    questions = [q.text for q in d["questions"]]
    hits = bm25_scores(d["lex"], questions, levers.DEPTH, match=near_pairs)
    out = np.zeros((len(questions), len(d["lex"])))
    for qi, found in enumerate(hits):
        for row, score in found:
            out[qi, row] = score / (found[0][1] or 1.0)
    return out


def capped(cap: int) -> levers.Reorder:
    def reorder(d: dict, qi: int, scores: np.ndarray) -> list[int]:
        order = list(np.argsort(-scores))
        if not LIST_QUESTION.search(d["questions"][qi].text):
            return order
        kept: list[int] = []
        later: list[int] = []
        per: dict[int, int] = {}
        for i in order[:200]:
            session = int(d["sessions"][i])
            if per.get(session, 0) < cap:
                kept.append(i)
                per[session] = per.get(session, 0) + 1
            else:
                later.append(i)
        return kept + later

    return reorder


def spread2(share2: float) -> Callable[[np.ndarray, np.ndarray, float], np.ndarray]:
    plain = levers.spread

    def spread(scores: np.ndarray, sessions: np.ndarray, share: float) -> np.ndarray:
        out = plain(scores, sessions, share)
        left, right = np.zeros_like(scores), np.zeros_like(scores)
        same = sessions[2:] == sessions[:-2]
        left[:, 2:] = np.where(same, scores[:, :-2], 0.0)
        right[:, :-2] = np.where(same, scores[:, 2:], 0.0)
        return out + share2 * np.maximum(left, right)

    return spread


def by_best(floor: float) -> Callable[[np.ndarray, int], np.ndarray]:
    """The dense side divided by the query's best dense gain, as BM25 is by its best score."""
    plain = levers.dense_all

    def dense(sims: np.ndarray, depth: int) -> np.ndarray:
        gain = plain(sims, depth, floor)
        return gain / np.maximum(gain.max(axis=1, keepdims=True), 1e-9)

    return dense


def per_conversation(data: list[dict], cfg: dict) -> dict:
    """R@10 of each conversation alone (does a lever hold on each, or ride on one?)."""
    return {"r@10_each": [levers.evaluate([d], cfg)["r@10"] for d in data]}


def main() -> None:
    samples, embedder = levers.setup("tune_levers_more.py", __doc__)

    def build() -> list[dict]:
        return [levers.sample_data(s, embedder, LAYOUT, False, dated=True) for s in samples]

    def emit(trial: dict, result: dict) -> None:
        print(json.dumps({**trial, **result}), flush=True)

    data = build()
    emit({"trial": "the app's levers"} | per_conversation(data, APP), levers.evaluate(data, APP))
    plain_bm25 = [d["bm25"] for d in data]
    for window in (2, 5):
        pairs = [pair_scores(d, window) for d in data]
        for weight in (0.2, 0.4, 0.7):
            for d, bm25, extra in zip(data, plain_bm25, pairs, strict=True):
                d["bm25"] = bm25 + weight * extra
            emit({"trial": "pairs", "window": window, "weight": weight}, levers.evaluate(data, APP))
    for d, bm25 in zip(data, plain_bm25, strict=True):
        d["bm25"] = bm25
    for share in (0.05, 0.1, 0.15):
        with mock.patch.object(levers, "spread", spread2(share)):
            emit({"trial": "spread2", "share": share}, levers.evaluate(data, APP))
    plain_dense = levers.dense_all
    for floor in (0.1, 0.15, 0.25, 0.3):
        dense = lambda sims, depth, floor=floor: plain_dense(sims, depth, floor)  # noqa: E731
        with mock.patch.object(levers, "dense_all", dense):
            emit({"trial": "floor", "floor": floor}, levers.evaluate(data, APP))
    for cap in (1, 2, 3):
        emit({"trial": "list_cap", "cap": cap}, levers.evaluate(data, APP, capped(cap)))
    for floor, weight, conversations in itertools.product((0.1, 0.2, 0.3), (0.7, 0.8, 0.9), (0.8, 1.0, 1.2)):
        with mock.patch.object(levers, "dense_all", by_best(floor)):
            cfg = {**APP, "wd": weight, "session": conversations}
            trial = {"trial": "dense_by_best", "floor": floor, "wd": weight, "session": conversations}
            emit(trial | per_conversation(data, cfg), levers.evaluate(data, cfg))
    own = [d["qv"] for d in data]
    forms = {
        "no question words": lambda t: QUESTION_WORDS.sub("", t).rstrip("?"),
        "content words": lambda t: " ".join(content_words(t)),
    }
    for name, form in forms.items():
        for mix in (1.0, 0.5):
            for d, vectors in zip(data, own, strict=True):
                other = embedder.embed([form(q.text) for q in d["questions"]])
                moved = mix * other + (1 - mix) * vectors
                d["qv"] = moved / np.linalg.norm(moved, axis=1, keepdims=True)
            emit({"trial": "query_form", "form": name, "mix": mix}, levers.evaluate(data, APP))
    for d, vectors in zip(data, own, strict=True):
        d["qv"] = vectors
    for depth in (30, 80, 120):
        with mock.patch.object(levers, "DEPTH", depth):
            emit({"trial": "depth", "depth": depth}, levers.evaluate(build(), APP))


if __name__ == "__main__":
    main()

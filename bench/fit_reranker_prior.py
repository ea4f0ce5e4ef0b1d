"""The reranker's starting feature weights, chosen on LoCoMo "tune" and nowhere else.

Within one user's few dozen answers the reranker's feature weights barely move from zero (the loop
bench: no online gain even from oracle rewards), yet the same features rank evidence better when
their weights are learnt over many users. So a new user's reranker starts from weights fitted here,
offline, on the tune conversations, and goes on learning from its own answers.

Each tune conversation is stored twice through the loop bench's ``play`` (each speaker in turn the
user: the app's storage, recall and features), each of that user's questions asked in the first
person, and ``Recall.candidates`` gives the pool the app would rerank. The weights maximise the
listwise log-likelihood of the evidence-covering candidates under the reranker's own softmax
(``memory.retrieval.reranker.TEMPERATURE``), with a small L2 pull towards zero.

    .venv/bin/python bench/fit_reranker_prior.py [--data ../shared/bench/locomo_dev.json]

Writes ``bench/results/reranker_prior.json``; ``memory/retrieval/reranker.py``'s ``PRIOR`` is copied from it
(``tests/unit/retrieval/test_reranker_prior.py`` checks they agree).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from memory.embed import embedders  # noqa: E402
from memory.embed import minilm as embed  # noqa: E402
from memory.evaluation import report  # noqa: E402
from memory.evaluation.loop import play, recall_at, user_questions  # noqa: E402
from memory.retrieval.rerank_features import NAMES  # noqa: E402
from memory.retrieval.reranker import PRIOR, TEMPERATURE  # noqa: E402

L2 = 1e-2
STEPS = 3000
RATE = 0.05


def pools(
    samples: list[dict], embedder: embed.Embedder
) -> list[tuple[np.ndarray, np.ndarray, list[list[str]], list[str]]]:
    """(base, features, turns per candidate, evidence) for every user question of every play."""
    found = []
    for sample in samples:
        conversation = sample["conversation"]
        for user in (conversation["speaker_a"], conversation["speaker_b"]):
            with tempfile.TemporaryDirectory(prefix="memoir-prior-") as tmp:
                played = play(sample, user, Path(tmp), embedder)
                try:
                    for asked in user_questions(sample, user):
                        conv = played.store.create_conversation("Question")
                        message = played.chat.send(conv.id, asked.text)
                        played.memory.remember_message(message)
                        played.memory.indexer.sync()
                        pool = played.recall.candidates(message)
                        if pool is None:
                            continue
                        turns = [played.turns_of([item.id]) for item in pool.items]
                        found.append((pool.base, pool.features, turns, asked.evidence))
                finally:
                    played.close()
            print(f"{sample.get('sample_id')} as {user}: {len(found)} pools so far", file=sys.stderr)
    return found


def fit(data: list[tuple[np.ndarray, np.ndarray, list[list[str]], list[str]]]) -> np.ndarray:
    """Gradient ascent (Adam) on sum over questions of log sum_{covering} softmax((base + φθ)/τ)."""
    labelled = []
    for base, phi, turns, evidence in data:
        covers = np.array([bool(set(evidence) & set(t)) for t in turns])
        if covers.any() and not covers.all():
            labelled.append((base, phi, covers))
    theta = np.zeros(len(NAMES))
    first, second = np.zeros_like(theta), np.zeros_like(theta)
    for step in range(1, STEPS + 1):
        grad = -2 * L2 * theta
        for base, phi, covers in labelled:
            s = (base + phi @ theta) / TEMPERATURE
            p = np.exp(s - s.max())
            p /= p.sum()
            q = np.where(covers, p, 0.0)
            q /= q.sum()
            grad += (q - p) @ phi / TEMPERATURE / len(labelled)
        first = 0.9 * first + 0.1 * grad
        second = 0.999 * second + 0.001 * grad * grad
        theta += RATE * (first / (1 - 0.9**step)) / (np.sqrt(second / (1 - 0.999**step)) + 1e-8)
    return theta


def recall5(
    data: list[tuple[np.ndarray, np.ndarray, list[list[str]], list[str]]], theta: np.ndarray
) -> float:
    scores = []
    for base, phi, turns, evidence in data:
        order = np.argsort(-(base + phi @ theta), kind="stable")
        scores.append(recall_at([t for i in order for t in turns[i]], evidence, 5))
    return round(float(np.mean(scores)), 4)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/bench/locomo_dev.json")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/reranker_prior.json")
    args = parser.parse_args()
    meta = report.provenance(args.data, "tune", "bench/fit_reranker_prior.py")
    samples = report.select(json.loads(args.data.read_text(encoding="utf-8")), "tune")
    data = pools(samples, embedders.default_embedder())
    theta = fit(data)
    result = {
        **meta,
        "questions": len(data),
        "temperature": TEMPERATURE,
        "l2": L2,
        "prior": {name: round(float(w), 4) for name, w in zip(NAMES, theta, strict=True)},
        # in-sample: these are the questions the weights were fitted on, not a result to quote
        "tune_recall@5_in_sample": {
            "retriever": recall5(data, np.zeros(len(NAMES))),
            "app_prior_when_run": recall5(data, np.array(PRIOR)),  # the weights this fit may replace
            "prior": recall5(data, theta),
        },
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result["prior"], indent=2))
    print(result["tune_recall@5_in_sample"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Choose the request selector's threshold and one-off weight (memory/reflection/requests.py).

Data: bench/data/answer_requests.jsonl, sentences written for Memoir and labelled (a standing request
about how to answer, or not), alternately tune and check. A labelled text counts as proposed when any
of its sentences scores at least the threshold. Each grid row also gives how many user turns of an
MSC episode of the split would yield a proposal (people chatting, who never ask an assistant for
anything: each is a false one; a turn with two such sentences counts once).

    python bench/tune_requests.py --split tune     # the grid: the best F1 with at most 0.15 of those
                                                   # per episode is chosen
    python bench/tune_requests.py --split check    # the chosen constants only, after the choice

Prints one JSON line per configuration; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.tune_retrieval import CachedEmbedder  # noqa: E402
from memory.evaluation import report  # noqa: E402
from memory.evaluation.profile import load  # noqa: E402
from memory.reflection import requests  # noqa: E402
from memory.reflection.disclosure import sentences  # noqa: E402

LABELLED = ROOT / "bench" / "data" / "answer_requests.jsonl"
MSC = ROOT.parent / "shared" / "bench" / "msc_profiles_dev.jsonl"


def best_scores(texts: list[str], selector: requests.RequestSelector) -> np.ndarray:
    """Each text's best sentence score (-inf when no sentence is long enough)."""
    out = []
    for text in texts:
        parts = [s for s in sentences(text) if requests.is_request_shaped(s)]
        out.append(selector.scores(parts)[0].max() if parts else -np.inf)
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", default="tune")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/memoir-profile-vectors.npz"))
    args = parser.parse_args()
    command = f"python bench/tune_requests.py --split {args.split}"
    print(json.dumps(report.provenance(LABELLED, args.split, command)))
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()[1:]]
    rows = [r for r in rows if r["split"] == args.split]
    episodes = load(MSC, args.split, None)
    chat = [t["text"] for e in episodes for s in e["sessions"] for t in s["turns"] if t["speaker"] == "user"]
    selector = requests.RequestSelector(CachedEmbedder(args.cache))  # type: ignore[arg-type]
    labels = np.array([r["request"] for r in rows])
    per_episode = len(chat) / len(episodes)  # user turns per episode
    weights = (0.0, 0.25, 0.5, 1.0) if args.split == "tune" else (requests.ONE_OFF_WEIGHT,)
    thresholds = np.round(np.arange(0.0, 0.55, 0.05), 2) if args.split == "tune" else (requests.THRESHOLD,)
    for weight in weights:
        requests.ONE_OFF_WEIGHT = weight  # the module's constant, as the app reads it
        labelled, msc = best_scores([r["text"] for r in rows], selector), best_scores(chat, selector)
        for threshold in thresholds:
            said = labelled >= threshold
            tp = int((said & labels).sum())
            precision = tp / said.sum() if said.sum() else 0.0
            recall = tp / labels.sum()
            f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
            print(
                json.dumps(
                    {
                        "weight": weight,
                        "threshold": float(threshold),
                        "split": args.split,
                        "texts": len(rows),
                        "precision": round(float(precision), 3),
                        "recall": round(float(recall), 3),
                        "f1": round(float(f1), 3),
                        "msc_proposals_per_episode": round(float((msc >= threshold).mean()) * per_episode, 2),
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()

"""Measure attribution thresholds on recorded evidence: which (words, closeness) limits agree best
with the oracle on the *tune* conversations of a `memoir bench loop` run.

    .venv/bin/python bench/calibrate_attribution.py bench/results/loop_tune.json

The score is the net reward signal per judged memory: +1 for a decision the oracle agrees with, -1
for one it does not, 0 for "not sure" (which teaches nothing). Prints the current thresholds' score
and the best few; choosing one is a change to memory/answering/attribution.py, made by hand and recorded.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

from memory.answering.attribution import THRESHOLDS, Thresholds, decide


def score(evidence: list[list[float | None]], limits: Thresholds) -> dict[str, float]:
    right = wrong = unsure = used = used_right = 0
    for words, closeness, oracle in evidence:
        if words is None:  # decided by citations
            continue
        decision = decide(float(words), ["w"] if words else [], closeness, limits).used
        if decision is None:
            unsure += 1
            continue
        right += decision == bool(oracle)
        wrong += decision != bool(oracle)
        used += bool(decision)
        used_right += bool(decision) and bool(oracle)
    judged = right + wrong + unsure
    return {
        "net": round((right - wrong) / judged, 4) if judged else 0.0,
        "not_sure": round(unsure / judged, 4) if judged else 0.0,
        "used_precision": round(used_right / used, 4) if used else 0.0,
    }


def main(paths: list[str]) -> int:
    evidence = [row for p in paths for row in json.loads(Path(p).read_text())["attribution_evidence"]]
    print(f"{len(evidence)} judged memories; current {THRESHOLDS}: {score(evidence, THRESHOLDS)}")
    grid = itertools.product(
        (1.0, 1.5, 2.0, 2.5, 3.0), (0.45, 0.5, 0.55, 0.6, 0.7), (0.2, 0.25, 0.3, 0.35, 0.4)
    )
    ranked = sorted(
        ((score(evidence, Thresholds(w, s, u)), Thresholds(w, s, u)) for w, s, u in grid if u < s),
        key=lambda r: -r[0]["net"],
    )
    for result, limits in ranked[:5]:
        print(f"{limits}: {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Measure profile levers on the MSC *tune* episodes with the self-disclosure selector alone (issue 17).

No chat model: each session's user turns go through the app's selector (memory/reflection/disclosure.py)
and a lever decides what becomes a memory; the memories are scored as ``memoir bench profile`` scores
them (memory/evaluation/profile.py). Levers:
- ``join``: a kept sentence joins the most similar memory already made from the user's words (MiniLM
  cosine of the sentence to that memory's text at least ``floor``, the joined text at most ``chars``
  long) instead of becoming a memory of its own, as a topic memory gathers what was said on one topic.
The chosen lever (``join`` at 0.35, memory/reflection/joining.py) is built into reflection and measured
with ``memoir bench profile --split check``; ``keep`` (the sentence only adds its source to the memory,
whose text stays) was tried beside it.
Prints one JSON line per configuration; asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.tune_retrieval import CachedEmbedder  # noqa: E402
from memory.evaluation import report  # noqa: E402
from memory.evaluation.profile import Score, load, score, summarise  # noqa: E402
from memory.reflection.disclosure import SMALL_TALK_WEIGHT, THRESHOLD, as_memory, examples, statements  # noqa: E402


def kept_by_session(episode: dict, embedder: CachedEmbedder) -> list[list[str]]:
    """The selector's memories of each session, in the order they were said."""
    good = embedder.embed(examples())
    small = embedder.embed(examples("small_talk.txt"))
    out = []
    for session in episode["sessions"]:
        found = [s for t in session["turns"] if t["speaker"] == "user" for s in statements(t["text"])]
        if not found:
            out.append([])
            continue
        vectors = embedder.embed(found)
        best = (vectors @ good.T).max(axis=1) - SMALL_TALK_WEIGHT * (vectors @ small.T).max(axis=1)
        out.append([as_memory(s) for s, b in zip(found, best, strict=True) if b >= THRESHOLD])
    return out


def join(
    sessions: list[list[str]], embedder: CachedEmbedder, floor: float, chars: int, keep: bool = False
) -> list[str]:
    """``keep``: the sentence only adds its source to the memory, whose text stays as it was."""
    memories: list[str] = []
    for kept in sessions:
        for sentence in kept:
            if any(sentence.casefold().rstrip(".") == m.casefold().rstrip(".") for m in memories):
                continue
            if memories and floor <= 1.0:
                sims = embedder.embed(memories) @ embedder.embed([sentence])[0]
                order = np.argsort(-sims)
                target = next(
                    (i for i in order if sims[i] >= floor and len(memories[i]) + 1 + len(sentence) <= chars),
                    None,
                )
                if target is not None:
                    memories[target] = memories[target] if keep else f"{memories[target]} {sentence}"
                    continue
            memories.append(sentence)
    return memories


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--split", default="tune")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/memoir-profile-vectors.npz"))
    args = parser.parse_args()
    command = f"python bench/tune_profile.py --split {args.split}"
    print(json.dumps(report.provenance(args.data, args.split, command)))
    embedder = CachedEmbedder(args.cache)
    episodes = load(args.data, args.split, None)
    sessions = [kept_by_session(e, embedder) for e in episodes]
    grid = itertools.product(("join", "keep"), (0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7), (200, 300))
    for lever, floor, chars in itertools.chain([("none", 2.0, 300)], grid):
        scores: list[Score] = []
        for episode, kept in zip(episodes, sessions, strict=True):
            items = join(kept, embedder, floor, chars, keep=lever == "keep")
            scores.append(score(items, episode["user_facts"], episode["partner_facts"], embedder))  # type: ignore[arg-type]
        row = {"lever": lever, "floor": floor, "chars": chars, "split": args.split, **summarise(scores)}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()

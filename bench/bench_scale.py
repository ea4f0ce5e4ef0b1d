"""Retrieval at scale: hybrid query latency (query embedding included) and memory use with 1k, 10k
and 100k stored items. Prints numbers; asserts nothing.

Items are pairs of real LoCoMo turns ("A … B"), so BM25 sees real vocabulary, in conversations of
TURNS_PER_CONVERSATION items, so the conversation stage and the neighbours have real work. Embedding
100k texts would take minutes, so each item's vector is the normalised sum of its two turns' real
MiniLM vectors: the same neighbourhood structure as real data, at a fraction of the cost. Queries are real
LoCoMo questions, embedded live on every query, through the app's own wiring (``open_memory``: the
vector index in its child process, as the app runs it).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dev_texts import turns_and_questions  # noqa: E402

from memory.evaluation.report import environment  # noqa: E402
from memory.index.vector_index import Index  # noqa: E402
from memory.retrieval.service import open_memory  # noqa: E402
from memory.store.database import Store  # noqa: E402
from memory.store.items import TURN, ItemStore  # noqa: E402


def rss_mb() -> float:
    """This process and its children (the index process holds Chroma's memory)."""
    pids = ["self", *(str(child.pid) for child in multiprocessing.active_children())]
    total = 0.0
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:  # no /proc (macOS): this process's peak only
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        total += sum(int(line.split()[1]) / 1024 for line in lines if line.startswith("VmRSS:"))
    return total


def corpus() -> tuple[list[str], list[str]]:
    return turns_and_questions()


TURNS_PER_CONVERSATION = 100


def fill(items: ItemStore, index: Index, n: int, turns: list[str], vectors: np.ndarray, seed: int) -> None:
    rng = random.Random(seed)
    done = items.count()
    while done < n:
        size = min(5000, n - done)
        pairs = [(rng.randrange(len(turns)), rng.randrange(len(turns))) for _ in range(size)]
        conversations = [
            items.store.create_conversation(f"Scale {done + start}").id
            for start in range(0, size, TURNS_PER_CONVERSATION)
        ]
        rows = [
            {
                "kind": TURN,
                "text": f"{turns[a]} … {turns[b]}",
                "conversation_id": conversations[n_pair // TURNS_PER_CONVERSATION],
            }
            for n_pair, (a, b) in enumerate(pairs)
        ]
        ids = items.add_many(rows)
        mixed = vectors[[a for a, _ in pairs]] + vectors[[b for _, b in pairs]]
        mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
        index.upsert(list(items.many(ids).values()), mixed)
        items.mark_indexed(list(items.many(ids).values()))
        done += size


def query_round(retriever: Any, queries: list[str]) -> tuple[float, float]:
    """p50 and p95 (ms) of one pass over ``queries``."""
    timings = []
    for q in queries:
        t = time.perf_counter()
        retriever.search(q, k=10)
        timings.append((time.perf_counter() - t) * 1000)
    timings.sort()
    return round(statistics.median(timings), 1), round(timings[int(0.95 * (len(timings) - 1))], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    # This machine's speed drifts for minutes at a time (one 100k run: p95 53 ms, the next 38), so
    # every query set is run several times and the round with the median p95 is reported.
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    args = parser.parse_args()
    rows = []
    turns, questions = corpus()
    queries = random.Random(1).sample(questions, args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "scale.db")
        memory = open_memory(Path(tmp), store)
        items, index, retriever = memory.items, memory.index, memory.retriever
        vectors = memory.embedder.embed(turns)
        print(f"{len(turns)} base turns embedded; {len(queries)} queries; RSS {rss_mb():.0f} MB")
        for size in (int(s) for s in args.sizes.split(",")):
            start = time.perf_counter()
            fill(items, index, size, turns, vectors, seed=size)
            ingest = time.perf_counter() - start
            for q in queries[:10]:  # warm caches
                retriever.search(q, k=10)
            rounds = [query_round(retriever, queries) for _ in range(args.rounds)]
            p50, p95 = sorted(rounds, key=lambda r: r[1])[len(rounds) // 2]  # the median round
            rows.append(
                {
                    "items": size,
                    "p50_ms": p50,
                    "p95_ms": p95,
                    "rounds": [{"p50_ms": a, "p95_ms": b} for a, b in rounds],
                    "fill_s": round(ingest, 1),
                    "rss_mb": round(rss_mb()),
                }
            )
            each = ", ".join(f"{a} / {b}" for a, b in rounds)
            print(
                f"{size:>7} items: hybrid query p50 {p50:6.1f} ms  p95 {p95:6.1f} ms (rounds: {each})"
                f"  (fill {ingest:5.1f} s)  RSS {rss_mb():6.0f} MB"
            )
        memory.close()
        store.close()
    if args.json:
        print(
            json.dumps({**environment("python bench/bench_scale.py"), "queries": len(queries), "sizes": rows})
        )


if __name__ == "__main__":
    main()

"""How much a LoCoMo figure moves between two builds of the same index, with the same code.

Chroma builds its HNSW graph differently each time (the same items, added in the same order), so
the nearest neighbours of a query can differ at the margin, and with them hybrid recall. Each
conversation of the split is ingested ``--builds`` times into fresh stores, exactly as
``memoir bench locomo`` ingests it; for each build: hybrid recall@k over the split, and how many
questions' dense top 60 and hybrid top 10 differ from the first build's. Prints numbers and writes
``bench/results/index_builds_<split>.json``; asserts nothing.

    .venv/bin/python bench/index_builds.py --data ../shared/bench/locomo_dev.json --split tune
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memory.embed.embedders import default_embedder  # noqa: E402
from memory.evaluation import report  # noqa: E402
from memory.evaluation.dataset import ingest  # noqa: E402
from memory.evaluation.turn_recall import evaluate, summarise  # noqa: E402

DENSE_DEPTH = 60  # what hybrid search asks the vector index for (Fusion.depth + 10)


def one_build(sample: dict[str, Any], embedder: Any) -> tuple[list[dict[str, Any]], list[tuple], list[tuple]]:
    """Recall rows, dense top-60 ids and hybrid top-10 ids per question, for one fresh build."""
    with tempfile.TemporaryDirectory(prefix="memoir-builds-") as tmp:
        ingested = ingest(sample, Path(tmp), embedder)
        rows: list[dict[str, Any]] = []
        evaluate(ingested, "hybrid", rows, [])
        retriever = ingested.retriever
        vectors = embedder.embed([q.text for q in ingested.questions])
        dense = [tuple(i for i, _ in retriever.index.query(v, DENSE_DEPTH)) for v in vectors]
        hybrid = [tuple(h.item.id for h in retriever.search(q.text, k=10)) for q in ingested.questions]
        retriever.index.close()
        ingested.store.close()
    return rows, dense, hybrid


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/bench/locomo_dev.json")
    parser.add_argument("--split", default="tune")
    parser.add_argument("--builds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    command = f"bench/index_builds.py --split {args.split} --builds {args.builds}"
    result = report.provenance(args.data, args.split, command)
    samples = report.select(json.loads(args.data.read_text(encoding="utf-8")), args.split)
    embedder = default_embedder()
    builds: list[dict[str, Any]] = [{"rows": [], "dense": [], "hybrid": []} for _ in range(args.builds)]
    for sample in samples:
        for build in builds:
            rows, dense, hybrid = one_build(sample, embedder)
            build["rows"] += rows
            build["dense"] += dense
            build["hybrid"] += hybrid
    first = builds[0]
    result["builds"] = [
        {
            "recall": summarise(b["rows"], [0.0])["overall"],
            "dense_top60_differs": sum(a != b for a, b in zip(first["dense"], b["dense"], strict=True)),
            "hybrid_top10_differs": sum(a != b for a, b in zip(first["hybrid"], b["hybrid"], strict=True)),
        }
        for b in builds
    ]
    result["questions"] = len(first["rows"])
    for number, build in enumerate(result["builds"], 1):
        print(f"build {number}: {build}")
    out = args.out or ROOT / "bench" / "results" / f"index_builds_{args.split}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

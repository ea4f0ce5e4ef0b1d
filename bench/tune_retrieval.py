"""Explore retrieval choices on a LoCoMo-format file: what text to index and how to fuse.

Exact cosine in numpy stands in for Chroma and an in-memory FTS5 table for the store, so hundreds of
configurations take minutes. The chosen configuration is then measured for real with
`memoir bench locomo`. Prints one line per configuration; asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memory.embed.minilm import MiniLMEmbedder  # noqa: E402
from memory.evaluation.dataset import KS, questions_of, recall, sessions_of  # noqa: E402
from memory.store.items import TurnText, turn_index_text  # noqa: E402
from memory.store.lexical import fts_query  # noqa: E402


class CachedEmbedder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.cache: dict[str, np.ndarray] = {}
        if path.exists():
            data = np.load(path, allow_pickle=False)
            self.cache = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
        self.model: MiniLMEmbedder | None = None

    def embed(self, texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if todo:
            self.model = self.model or MiniLMEmbedder()
            for text, vector in zip(todo, self.model.embed(todo), strict=True):
                self.cache[text] = vector
            keys = list(self.cache)
            np.savez(self.path, texts=np.array(keys), vectors=np.stack([self.cache[k] for k in keys]))
        return np.stack([self.cache[t] for t in texts])


def turns_of(sample: dict) -> list[dict]:
    rows = []
    for _n, when, turns in sessions_of(sample["conversation"]):
        previous = None
        following = [None, *turns[:-1]]
        for turn, prev in zip(turns, following, strict=True):
            previous = f"{prev['speaker']}: {prev['text']}" if prev else None
            rows.append({**turn, "when": when, "previous": previous})
    return rows


def bm25_scores(
    texts: list[str], queries: list[str], depth: int, match: Callable[[str], str] = fts_query
) -> list[list[tuple[int, float]]]:
    """FTS5 BM25 hits of each query (``match`` turns it into an FTS5 query; "" finds nothing)."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(t, tokenize='porter unicode61')")
    conn.executemany("INSERT INTO f(rowid, t) VALUES (?, ?)", list(enumerate(texts)))
    out = []
    for q in queries:
        fq = match(q)
        rows = (
            conn.execute(
                "SELECT rowid, -bm25(f) FROM f WHERE f MATCH ? ORDER BY bm25(f) LIMIT ?", (fq, depth)
            ).fetchall()
            if fq
            else []
        )
        out.append([(int(r), float(s)) for r, s in rows])
    return out


def fuse(dense: list[tuple[int, float]], lexical: list[tuple[int, float]], cfg: dict) -> list[int]:
    scores: dict[int, float] = {}
    if cfg["kind"] == "rrf":
        for w, ranked in ((cfg["wd"], dense), (cfg["wl"], lexical)):
            for rank, (i, _s) in enumerate(ranked):
                scores[i] = scores.get(i, 0.0) + w / (cfg["k"] + rank + 1)
    else:  # normalised score sum
        top_l = lexical[0][1] if lexical else 1.0
        for i, s in lexical:
            scores[i] = scores.get(i, 0.0) + cfg["wl"] * s / top_l
        for i, s in dense:
            scores[i] = scores.get(i, 0.0) + cfg["wd"] * max(0.0, s - cfg["floor"]) / (1 - cfg["floor"])
    return sorted(scores, key=lambda i: -scores[i])


def evaluate(
    data: list[dict],
    layout_lex: TurnText,
    layout_dense: TurnText,
    configs: list[dict],
    embedder: CachedEmbedder,
) -> list[tuple[dict, dict]]:
    per_cfg: list[list[dict]] = [[] for _ in configs]
    for sample in data:
        turns = turns_of(sample)

        def text(t: dict, layout: TurnText) -> str:
            return turn_index_text(
                t["text"],
                speaker=t["speaker"],
                when=t["when"],
                caption=t.get("blip_caption"),
                previous=t["previous"],
                layout=layout,
            )

        lex_texts = [text(t, layout_lex) for t in turns]
        dense_texts = [text(t, layout_dense) for t in turns]
        questions = questions_of(sample)
        vectors = embedder.embed(dense_texts)
        qv = embedder.embed([q.text for q in questions])
        sims = qv @ vectors.T
        lexical = bm25_scores(lex_texts, [q.text for q in questions], 50)
        for qi, q in enumerate(questions):
            order = np.argsort(-sims[qi])[:50]
            dense = [(int(i), float(sims[qi, i])) for i in order]
            for ci, cfg in enumerate(configs):
                ranked = fuse(dense, lexical[qi], cfg)[: max(KS)]
                got = [turns[i]["dia_id"] for i in ranked]
                per_cfg[ci].append({f"r@{k}": recall(got, q.evidence, k) for k in KS})
    return [
        (cfg, {k: round(float(np.mean([r[k] for r in rows])), 4) for k in rows[0]})
        for cfg, rows in zip(configs, per_cfg, strict=True)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/memoir-tune-embeddings.npz"))
    args = parser.parse_args()
    data = json.loads(args.data.read_text())
    embedder = CachedEmbedder(args.cache)
    configs = [{"kind": "rrf", "wd": 0.0, "wl": 1.0, "k": 60}, {"kind": "rrf", "wd": 1.0, "wl": 0.0, "k": 60}]
    configs += [
        {"kind": "rrf", "wd": wd, "wl": 1.0, "k": k}
        for wd, k in itertools.product([0.3, 0.5, 0.7, 1.0], [10, 30, 60])
    ]
    configs += [
        {"kind": "sum", "wd": wd, "wl": 1.0, "floor": fl}
        for wd, fl in itertools.product([0.3, 0.5, 0.8, 1.2, 2.0], [0.0, 0.2])
    ]
    layouts = {
        "plain": TurnText(),
        "date": TurnText(date=True),
        "prev": TurnText(previous=True),
        "nocap": TurnText(caption=False),
    }
    for (lex_name, lex), (dense_name, dense) in itertools.product(layouts.items(), layouts.items()):
        if lex_name not in ("plain", "prev") and dense_name != lex_name:
            continue
        for cfg, result in evaluate(data, lex, dense, configs, embedder):
            print(json.dumps({"lexical": lex_name, "dense": dense_name, **cfg, **result}), flush=True)


if __name__ == "__main__":
    main()

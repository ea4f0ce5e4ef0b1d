"""LoCoMo as Memoir's benchmarks read it: the data model, ingestion as Memoir ingests conversations,
and the turn-recall metric (../shared/bench/README.md). Every suite imports this; none imports another.

Each conversation is ingested into a fresh store the way Memoir ingests conversations (sessions in
order, with their dates). The dataset's own summaries and observations are never read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from memory.embed.minilm import Embedder
from memory.retrieval.hybrid import Retriever
from memory.retrieval.service import MemoryService
from memory.store.database import Store
from memory.store.items import (
    DENSE_TEXT,
    LEXICAL_TEXT,
    TURN,
    ItemStore,
    MemoryItem,
    TurnText,
    turn_index_text,
)

KS = (1, 5, 10, 25)
EVIDENCE = re.compile(r"^D\d+:\d+$")


@dataclass
class Question:
    text: str
    category: int
    evidence: list[str]
    answer: str = ""


@dataclass
class Ingested:
    store: Store
    retriever: Retriever
    turns_of: dict[int, list[str]]  # memory item id -> dia ids it covers
    questions: list[Question] = field(default_factory=list)
    dia_of_message: dict[int, str] = field(default_factory=dict)
    memory: Any = None
    conversations: list[int] = field(default_factory=list)
    user: str = ""  # the speaker who plays the user (the first), as the reranker's features see it


def session_date(raw: str) -> datetime:
    return datetime.strptime(raw.strip(), "%I:%M %p on %d %B, %Y")


def questions_of(sample: dict[str, Any]) -> list[Question]:
    found = []
    for qa in sample["qa"]:
        evidence = qa.get("evidence") or []
        if qa.get("category") in (1, 2, 3, 4) and evidence and all(EVIDENCE.match(e) for e in evidence):
            found.append(
                Question(qa["question"], int(qa["category"]), list(evidence), str(qa.get("answer", "")))
            )
    return found


def sessions_of(conversation: dict[str, Any]) -> list[tuple[int, datetime, list[dict[str, Any]]]]:
    numbers = sorted(
        int(k.split("_")[1]) for k in conversation if re.fullmatch(r"session_\d+", k) and conversation[k]
    )
    return [
        (n, session_date(conversation[f"session_{n}_date_time"]), conversation[f"session_{n}"])
        for n in numbers
    ]


def ingest(
    sample: dict[str, Any],
    workdir: Path,
    embedder: Embedder,
    layouts: tuple[TurnText, TurnText] = (LEXICAL_TEXT, DENSE_TEXT),
) -> Ingested:
    store = Store(workdir / "memoir.db")
    items = ItemStore(store)
    conversation = sample["conversation"]
    speaker_a = conversation.get("speaker_a")
    turns_of: dict[int, list[str]] = {}
    dia_of_message: dict[int, str] = {}
    conversations = []
    for number, when, turns in sessions_of(conversation):
        conv = store.create_conversation(f"Session {number}")
        conversations.append(conv.id)
        stamp = when.isoformat()
        previous = None
        for turn in turns:
            role = "user" if turn["speaker"] == speaker_a else "assistant"
            message = store.add_message(conv.id, role, turn["text"], created_at=stamp)
            dia_of_message[message.id] = turn["dia_id"]
            lexical, dense = (
                turn_index_text(
                    turn["text"],
                    speaker=turn["speaker"],
                    caption=turn.get("blip_caption"),
                    when=when,
                    previous=previous,
                    layout=layout,
                )
                for layout in layouts
            )
            item_id = items.add(
                TURN,
                turn["text"],
                index_text=lexical,
                embed_text=dense,
                conversation_id=conv.id,
                message_ids=[message.id],
                speaker=turn["speaker"],
                occurred_at=stamp,
            )
            turns_of[item_id] = [turn["dia_id"]]
            previous = f"{turn['speaker']}: {turn['text']}"
    memory = MemoryService(store, workdir / "index", embedder)
    memory.indexer.batch_size = 128
    memory.indexer.sync()
    return Ingested(
        store,
        memory.retriever,
        turns_of,
        questions_of(sample),
        dia_of_message,
        memory,
        conversations,
        speaker_a or "",
    )


def turns_for(ingested: Ingested, item: MemoryItem) -> list[str]:
    """A turn item is its own turn; a topic memory counts the turns it references."""
    if item.id in ingested.turns_of:
        return ingested.turns_of[item.id]
    return [ingested.dia_of_message[m] for m in item.message_ids if m in ingested.dia_of_message]


def recall(ranked_turns: list[str], evidence: list[str], k: int) -> float:
    """Share of evidence turns among the first k distinct turns."""
    distinct = list(dict.fromkeys(ranked_turns))[:k]
    return len(set(evidence) & set(distinct)) / len(set(evidence))

"""``memoir bench locomo --methods reranked``: does the learned reranker find evidence turns better?

Protocol: online progressive validation, one reranker per conversation (one user's memory, as in
the app). Questions come in a fixed shuffled order; each is scored in the retriever's order
("before") and in the reranker's deterministic order as it stands *before* the question's own reward
("overall"); then the reranker samples the shown memories by Gumbel-top-k as the app does while
learning, and learns from oracle rewards (a shown memory is "cited" when it covers an evidence turn).

The features see what the app sees: the speakers are the user (the conversation's first speaker)
and Memoir, and a question about the user is asked in the first person (memory.evaluation.voice); a
question about the other speaker gets no first-person match. A second reranker runs without the
"said by the person asked about" feature, to show what it adds.

``citations`` runs the real path instead for a sample of questions: the default model answers with
the memories in its prompt, and its ``[n]`` citations are parsed as the app parses them.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from memory.answering.candidates import pair_features, vectors_for
from memory.answering.recall_service import CANDIDATES, SHOWN, Recall
from memory.assistant.assistant import Assistant
from memory.evaluation.dataset import KS, Ingested, Question, recall, turns_for
from memory.evaluation.voice import first_person
from memory.llm.engine import ChatModel
from memory.retrieval.rerank_features import NAMES
from memory.retrieval.reranker import Example, Reranker

SEED = 0
ABOUT = NAMES.index("said by the person asked about")


@dataclass
class RerankRun:
    dimension: int
    without: tuple[int, ...] = ()  # feature columns held at zero
    rows: list[dict[str, Any]] = field(default_factory=list)
    trained: int = 0
    updates: int = 0


def candidates(
    ingested: Ingested, recall_: Recall, question: Question
) -> tuple[list[Any], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The K hybrid candidates: hits, query vector, their vectors, scores and reranker features,
    with speakers and the question as the app would have them (see the module docstring)."""
    text = first_person(question.text, ingested.user)
    hits = ingested.retriever.search(question.text, k=CANDIDATES)
    query, vectors = vectors_for(recall_.memory, text, [h.item.id for h in hits])
    base = np.array([h.score for h in hits])
    as_app = [
        replace(h.item, speaker="User" if h.item.speaker == ingested.user else "Assistant") for h in hits
    ]
    phi = pair_features(text, as_app, base, query, vectors)
    return hits, query, vectors, base, phi


def scores_at(turns: list[str], evidence: list[str]) -> dict[str, float]:
    return {f"recall@{k}": recall(turns, evidence, k) for k in KS}


def _assistant(ingested: Ingested) -> Assistant:
    """The app's one door to the core, over this conversation's memory; its own reranker does not
    learn here (each run's reranker does, below)."""
    assistant = Assistant(ingested.store)
    assistant.attach(ingested.memory)
    assert assistant.recall is not None
    assistant.recall.learning = False
    return assistant


def run_conversation(ingested: Ingested, runs: list[RerankRun], sample_id: str = "") -> None:
    recall_ = _assistant(ingested).recall
    assert recall_ is not None
    questions = list(ingested.questions)
    random.Random(f"{SEED}:{sample_id}").shuffle(questions)
    rerankers = [Reranker(run.dimension) for run in runs]
    rngs = [np.random.default_rng(SEED) for _ in runs]
    for question in questions:
        hits, query, vectors, base, phi = candidates(ingested, recall_, question)
        unranked = [t for h in hits for t in turns_for(ingested, h.item)]
        evidence = set(question.evidence)
        covers = [bool(evidence & set(turns_for(ingested, h.item))) for h in hits]
        for run, reranker, rng in zip(runs, rerankers, rngs, strict=True):
            features = phi.copy()
            features[:, list(run.without)] = 0.0
            order = reranker.select(query, vectors, base, len(hits), None, features) if hits else []
            reranked = [t for i in order for t in turns_for(ingested, hits[i].item)]
            run.rows.append(
                {
                    "category": question.category,
                    "before": scores_at(unranked, question.evidence),
                    "after": scores_at(reranked, question.evidence),
                }
            )
            if not hits:
                continue
            shown = reranker.select(query, vectors, base, SHOWN, rng, features)
            rewards = [1.0 if covers[i] else -1.0 for i in shown]
            reranker.learn(Example(query, vectors, base, shown, rewards, features=features))
            run.trained += 1
    for run, reranker in zip(runs, rerankers, strict=True):
        run.updates += reranker.updates


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return (
        {f"recall@{k}": round(statistics.mean(r[f"recall@{k}"] for r in rows), 4) for k in KS} if rows else {}
    )


def summary(state: RerankRun) -> dict[str, Any]:
    categories = sorted({r["category"] for r in state.rows})
    return {
        "overall": _mean([r["after"] for r in state.rows]),
        "before": _mean([r["before"] for r in state.rows]),
        "by_category": {
            str(c): {
                "before": _mean([r["before"] for r in state.rows if r["category"] == c]),
                "after": _mean([r["after"] for r in state.rows if r["category"] == c]),
                "questions": sum(r["category"] == c for r in state.rows),
            }
            for c in categories
        },
        "questions_measured": len(state.rows),
        "updates": state.updates,
        "candidates": CANDIDATES,
        "protocol": "online progressive validation, one reranker per conversation, shuffled order",
    }


@dataclass
class CitationRun:
    answers: int = 0
    parsed: int = 0
    citing: int = 0
    cited_evidence: int = 0  # citations pointing at a memory that covers an evidence turn
    citations: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)


def cite_sample(ingested: Ingested, model: ChatModel, state: CitationRun, per_conversation: int) -> None:
    """Ask the model some of the conversation's questions through the app's reply path."""
    from memory.runtime.settings import Settings

    assistant = _assistant(ingested)
    settings = Settings(max_tokens=96, temperature=0.0, memories_per_answer=5, learn_from_citations=False)
    step = max(1, len(ingested.questions) // per_conversation)
    for question in ingested.questions[::step][:per_conversation]:
        conv = ingested.store.create_conversation("Question")
        assistant.chat.send(conv.id, question.text)
        result = assistant.reply(conv.id, model, settings)
        state.answers += 1
        cited = [r for r in result.receipts if r.used]
        if result.receipts and result.receipts[0].used is not None:
            state.parsed += 1
            state.citing += bool(cited)
        evidence = set(question.evidence)
        for receipt in cited:
            state.citations += 1
            item = (
                ingested.memory.items.many([receipt.item_id]).get(receipt.item_id)
                if receipt.item_id
                else None
            )
            state.cited_evidence += bool(item and evidence & set(turns_for(ingested, item)))
        if len(state.examples) < 5:
            state.examples.append({"question": question.text, "answer": result.message.content[:300]})


def citation_summary(state: CitationRun) -> dict[str, Any]:
    return {
        "answers": state.answers,
        "parsed_share": round(state.parsed / state.answers, 4) if state.answers else None,
        "citing_share_of_parsed": round(state.citing / state.parsed, 4) if state.parsed else None,
        "citations_on_evidence": round(state.cited_evidence / state.citations, 4)
        if state.citations
        else None,
        "examples": state.examples,
    }

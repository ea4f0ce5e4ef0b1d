"""``memoir bench locomo --methods reranked``: does the learned reranker find evidence turns better?

Protocol (online, one reranker across the split): for each conversation in order, the first half of
its questions trains the reranker with oracle rewards (a shown memory is "cited" when it covers an
evidence turn), sampling the shown memories by Gumbel-top-k as the app does while learning; the
second half is then measured twice on the same K candidates: in the retriever's order ("before")
and in the reranker's deterministic order ("overall"). No question is measured after its own reward.

``citations`` runs the real path instead for a sample of questions: the default model answers with
the memories in its prompt, and its ``[n]`` citations are parsed as the app parses them.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memory.engine import ChatModel
from memory.evaluation.rerank_ceiling import Ceiling
from memory.evaluation.turn_recall import KS, Ingested, Question, recall, turns_for
from memory.recall import CANDIDATES, SHOWN, Recall, pair_features
from memory.reranker import Example, Reranker

SEED = 0


@dataclass
class RerankRun:
    reranker: Reranker
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(SEED))
    before: list[dict[str, float]] = field(default_factory=list)
    after: list[dict[str, float]] = field(default_factory=list)
    trained: int = 0
    ceiling: Ceiling = field(default_factory=Ceiling)


def candidates(
    ingested: Ingested, recall_: Recall, question: Question
) -> tuple[list[Any], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The K hybrid candidates: hits, query vector, their vectors, scores and reranker features."""
    hits = ingested.retriever.search(question.text, k=CANDIDATES)
    query, vectors = recall_._vectors(question.text, [h.item.id for h in hits])
    base = np.array([h.score for h in hits])
    phi = pair_features(question.text, [h.item for h in hits], base, query, vectors)
    return hits, query, vectors, base, phi


def scores_at(turns: list[str], evidence: list[str]) -> dict[str, float]:
    return {f"recall@{k}": recall(turns, evidence, k) for k in KS}


def run_conversation(ingested: Ingested, state: RerankRun) -> None:
    recall_ = Recall(ingested.memory, learning=False)
    questions = ingested.questions
    half = len(questions) // 2
    for question in questions[:half]:
        hits, query, vectors, base, phi = candidates(ingested, recall_, question)
        if not hits:
            continue
        shown = state.reranker.select(query, vectors, base, SHOWN, state.rng, phi)
        evidence = set(question.evidence)
        rewards = [1.0 if evidence & set(turns_for(ingested, hits[i].item)) else -1.0 for i in shown]
        state.reranker.learn(Example(query, vectors, base, shown, rewards, features=phi))
        state.trained += 1
        covers = [bool(evidence & set(turns_for(ingested, h.item))) for h in hits]
        state.ceiling.add_training(query, vectors, base, covers, phi)
    for question in questions[half:]:
        hits, query, vectors, base, phi = candidates(ingested, recall_, question)
        order = state.reranker.select(query, vectors, base, len(hits), None, phi) if hits else []
        unranked = [t for h in hits for t in turns_for(ingested, h.item)]
        reranked = [t for i in order for t in turns_for(ingested, hits[i].item)]
        state.before.append(scores_at(unranked, question.evidence))
        state.after.append(scores_at(reranked, question.evidence))
        if hits:
            turns = [turns_for(ingested, h.item) for h in hits]
            state.ceiling.add_test(query, vectors, base, turns, question.evidence, phi)


def summary(state: RerankRun) -> dict[str, Any]:
    def mean_of(rows: list[dict[str, float]]) -> dict[str, float]:
        return (
            {f"recall@{k}": round(statistics.mean(r[f"recall@{k}"] for r in rows), 4) for k in KS}
            if rows
            else {}
        )

    ceiling = [scores_at(turns, evidence) for turns, evidence in state.ceiling.orders()]
    return {
        "overall": mean_of(state.after),
        "before": mean_of(state.before),
        # every first-half candidate labelled, fitted offline: a bound on what learning can add here
        "supervised_ceiling": mean_of(ceiling),
        "questions_measured": len(state.after),
        "questions_trained": state.trained,
        "updates": state.reranker.updates,
        "candidates": CANDIDATES,
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
    from memory.chat import ChatService
    from memory.settings import Settings

    chat = ChatService(ingested.store)
    recall_ = Recall(ingested.memory, learning=False)
    settings = Settings(max_tokens=96, temperature=0.0)
    step = max(1, len(ingested.questions) // per_conversation)
    for question in ingested.questions[::step][:per_conversation]:
        conv = ingested.store.create_conversation("Question")
        chat.send(conv.id, question.text)
        result = chat.reply(conv.id, model, settings, recall=recall_)
        state.answers += 1
        cited = [r for r in result.receipts if r.cited]
        if result.receipts and result.receipts[0].cited is not None:
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

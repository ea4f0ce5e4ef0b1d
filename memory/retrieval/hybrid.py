"""Hybrid retrieval: dense (Chroma) and lexical (FTS5/BM25) candidates, fused by weighted rank."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memory.embed.minilm import Embedder
from memory.index.vector_index import Index, timestamp
from memory.store import conversation_text
from memory.store.items import TOPIC, TURN, ItemStore, MemoryItem


@dataclass(frozen=True)
class Fusion:
    """A weighted sum of normalised scores, chosen on LoCoMo dev over reciprocal-rank fusion.

    BM25 is divided by the query's best BM25 score; cosine similarity counts above ``dense_floor``,
    divided by the query's best such gain, so each side's best hit scores its full weight. (Dividing
    the dense side too was chosen on LoCoMo tune with bench/tune_levers_more.py: R@10 0.793 -> 0.809,
    R@1 0.369 -> 0.392, R@5 0.697 -> 0.694, R@10 up on each of the three conversations; before, a
    query whose nearest turn had cosine 0.5 gave the dense side 0.375 of its weight at most.)
    Equal-weight RRF lost to BM25 alone there (R@5 0.56 vs 0.59); this sum gains 4 points over it.
    """

    dense_weight: float = 0.8
    lexical_weight: float = 1.0
    dense_floor: float = 0.2
    # Topic memories' scores are multiplied by this. On LoCoMo conversation 1 with SmolLM2's topics
    # (self-disclosures included), 0.25 gave R@5 0.621 vs 0.620 for turns alone, R@10 equal, R@25 up,
    # R@1 0.7 points down; 0.5 lowered R@5 and R@10, 1.0 lowered everything (README).
    topic_weight: float = 0.25
    depth: int = 50  # candidates taken from each retriever
    # Three levers of "hybrid", chosen on LoCoMo tune (conv-26, -30, -41) with bench/tune_levers.py,
    # which together lifted R@5 0.645 -> 0.679 and R@10 0.738 -> 0.770 there:
    # the query vector moved towards the best first-round hits, then searched again (Rocchio);
    feedback: float = 0.3
    feedback_hits: int = 3
    # a turn gains this share of its better neighbour's score (answers sit beside their questions);
    neighbour_share: float = 0.3
    # and this much times its conversation's BM25 (over all its turns, divided by the best's).
    conversation_weight: float = 1.0
    # A topic memory's turns gain this share of its score (keys expanded with what reflection
    # extracted). Off: on LoCoMo tune with SmolLM2's topics, 0.25 / 0.5 / 1.0 lowered R@5 from 0.683
    # to 0.674 / 0.660 / 0.654 (bench/results/turn_recall_topics_tune.json); a better extractor may differ.
    topic_share: float = 0.0


@dataclass(frozen=True)
class Filters:
    kinds: tuple[str, ...] = ()
    conversation_id: int | None = None
    since: str | None = None  # ISO times, inclusive
    until: str | None = None

    @property
    def narrowing(self) -> bool:
        """True if anything beyond "active items" is asked for."""
        return bool(self.kinds or self.conversation_id is not None or self.since or self.until)

    def accepts(self, item: MemoryItem) -> bool:
        return (
            item.status == "active"
            and (not self.kinds or item.kind in self.kinds)
            and (self.conversation_id is None or item.conversation_id == self.conversation_id)
            and (not self.since or item.occurred_at >= self.since)
            and (not self.until or item.occurred_at <= self.until)
        )

    def chroma(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = [{"status": "active"}]
        if self.kinds:
            clauses.append({"kind": {"$in": list(self.kinds)}})
        if self.conversation_id is not None:
            clauses.append({"conversation_id": self.conversation_id})
        if self.since:
            clauses.append({"occurred": {"$gte": timestamp(self.since)}})
        if self.until:
            clauses.append({"occurred": {"$lte": timestamp(self.until)}})
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def sql(self) -> tuple[str, tuple[Any, ...]]:
        parts: list[str] = ["i.status = 'active'"]
        params: list[Any] = []
        if self.kinds:
            parts.append(f"i.kind IN ({','.join('?' * len(self.kinds))})")
            params += list(self.kinds)
        if self.conversation_id is not None:
            parts.append("i.conversation_id = ?")
            params.append(self.conversation_id)
        if self.since:
            parts.append("i.occurred_at >= ?")
            params.append(self.since)
        if self.until:
            parts.append("i.occurred_at <= ?")
            params.append(self.until)
        return " AND ".join(parts), tuple(params)


@dataclass
class Hit:
    item: MemoryItem
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
    timings: dict[str, float] = field(default_factory=dict)


class Retriever:
    def __init__(self, items: ItemStore, index: Index, embedder: Embedder, fusion: Fusion = Fusion()) -> None:
        self.items = items
        self.index = index
        self.embedder = embedder
        self.fusion = fusion
        self._beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="memoir-words")

    def dense(self, query: str, k: int, filters: Filters = Filters()) -> list[tuple[int, float]]:
        return self.dense_near(self.embedder.embed([query])[0], k, filters)

    def dense_near(
        self,
        vector: np.ndarray,
        k: int,
        filters: Filters = Filters(),
        found: dict[int, MemoryItem] | None = None,
    ) -> list[tuple[int, float]]:
        """Nearest items. Chroma's metadata filters are slow at scale (0.4 s at 100k items), so
        unfiltered neighbours are over-fetched and filtered here; Chroma filters only as a fallback.
        The rows read are added to ``found``, so one search reads each row once."""
        fetch = k * 4 if filters.narrowing else k + 10
        near = self.index.query(vector, fetch, None)
        items = self._fetch([i for i, _ in near], {} if found is None else found)
        kept = [(i, s) for i, s in near if i in items and filters.accepts(items[i])]
        if len(kept) < k and len(near) == fetch:
            return self.index.query(vector, k, filters.chroma())
        return kept[:k]

    def lexical(self, query: str, k: int, filters: Filters = Filters()) -> list[tuple[int, float]]:
        if not filters.narrowing:
            return self.items.search_bm25(query, k)  # inactive items are dropped after fusion
        where, params = filters.sql()
        return self.items.search_bm25(query, k, where, params)

    def search(
        self,
        query: str,
        k: int = 10,
        filters: Filters = Filters(),
        method: str = "hybrid",
        going_on: int | None = None,
    ) -> list[Hit]:
        """Top ``k`` items for ``query``; ``method`` is "hybrid", "dense" or "bm25". Never from
        inside a store transaction: the lexical side waits for the store on another thread.

        ``going_on``: the conversation the query is asked in. Its turns are no candidates, and they
        are left out before the scores are scaled: once indexed, the message itself would be every
        side's best hit and set the scale for all the others (so the ranking would hang on whether
        indexing or the reply came first)."""
        start = time.perf_counter()
        depth = max(k, self.fusion.depth)
        found: dict[int, MemoryItem] = {}
        # The lexical side (SQLite, which lets go of the GIL) runs beside the embedding and the
        # vector search: at 100,000 items that hides most of its ~12 ms (bench/bench_scale.py).
        words = self._beside.submit(self._words_side, query, depth, filters, method, going_on)
        vector = self.embedder.embed([query])[0] if method in ("hybrid", "dense") else None
        dense = self.dense_near(vector, depth, filters, found) if vector is not None else []
        lexical, conversations = words.result()
        self._fetch([i for i, _ in lexical], found)
        dense, lexical = _elsewhere(dense, found, going_on), _elsewhere(lexical, found, going_on)
        scores, ranks = self._fuse(dense, lexical, {i: item.kind for i, item in found.items()})
        if vector is not None and method == "hybrid" and self.fusion.feedback and dense:
            moved = self._feedback(vector, scores, depth, filters, found)
            dense = _elsewhere(moved, found, going_on) or dense
            scores, ranks = self._fuse(dense, lexical, {i: item.kind for i, item in found.items()})
        if method == "hybrid":
            self._in_context(conversations, scores, ranks, found)
        if self.fusion.topic_weight != 1.0:  # before any cut, so topics cannot crowd turns out of it
            for i in scores:
                if i in found and found[i].kind == TOPIC:
                    scores[i] *= self.fusion.topic_weight
        ordered = sorted(scores, key=lambda i: -scores[i])
        best = [i for i in ordered if i in found and filters.accepts(found[i])][:k]
        elapsed = time.perf_counter() - start
        return [Hit(found[i], scores[i], ranks[i][0], ranks[i][1], {"search_s": elapsed}) for i in best]

    def _fetch(self, ids: list[int], found: dict[int, MemoryItem]) -> dict[int, MemoryItem]:
        """``found`` with the rows of ``ids`` it lacked read in."""
        found |= self.items.many([i for i in ids if i not in found])
        return found

    def _feedback(
        self,
        vector: np.ndarray,
        scores: dict[int, float],
        depth: int,
        filters: Filters,
        found: dict[int, MemoryItem],
    ) -> list[tuple[int, float]]:
        """Dense neighbours of the query moved towards its best first-round hits."""
        top = sorted(scores, key=lambda i: -scores[i])[: self.fusion.feedback_hits]
        vectors = self.index.vectors(top)
        if not vectors:
            return []
        moved = vector + self.fusion.feedback * np.mean(list(vectors.values()), axis=0)
        return self.dense_near(moved / np.linalg.norm(moved), depth, filters, found)

    def _words_side(
        self, query: str, depth: int, filters: Filters, method: str, going_on: int | None
    ) -> tuple[list[tuple[int, float]], dict[int, float]]:
        """BM25 candidates and (for hybrid) the other conversations that match ``query`` best."""
        lexical = self.lexical(query, depth, filters) if method in ("hybrid", "bm25") else []
        if not (method == "hybrid" and self.fusion.conversation_weight):
            return lexical, {}
        return lexical, conversation_text.search(self.items.store, query, depth, leave_out=going_on)

    def _in_context(
        self,
        conversations: dict[int, float],
        scores: dict[int, float],
        ranks: dict[int, list[int | None]],
        found: dict[int, MemoryItem],
    ) -> None:
        """Turns gain from their neighbours and their conversation (``scores`` changed in place;
        neighbours that were no candidate join with what they gained)."""
        f = self.fusion
        if f.topic_share:
            self._join(scores, ranks, found, self._from_topics(scores, found))
        if f.neighbour_share:
            turns = [i for i in scores if i in found and found[i].kind == TURN]
            neighbours = conversation_text.turn_neighbours(self.items.store, turns)
            self._join(scores, ranks, found, spread(scores, neighbours, f.neighbour_share))
        if f.conversation_weight:
            for i, item in found.items():
                if item.kind == TURN and scores.get(i, 0.0) > 0 and item.conversation_id in conversations:
                    scores[i] += f.conversation_weight * conversations[item.conversation_id]

    def _from_topics(self, scores: dict[int, float], found: dict[int, MemoryItem]) -> dict[int, float]:
        """New scores of the turns that scored topic memories came from: each gains topic_share of
        its best such topic's score."""
        topics = {i: s for i, s in scores.items() if i in found and found[i].kind == TOPIC and s > 0}
        messages = [m for t in topics for m in found[t].message_ids]
        turn_of = conversation_text.turns_of_messages(self.items.store, messages)
        gain: dict[int, float] = {}
        for topic, score in topics.items():
            for turn in {turn_of[m] for m in found[topic].message_ids if m in turn_of}:
                gain[turn] = max(gain.get(turn, 0.0), self.fusion.topic_share * score)
        return {i: scores.get(i, 0.0) + g for i, g in gain.items()}

    def _join(
        self,
        scores: dict[int, float],
        ranks: dict[int, list[int | None]],
        found: dict[int, MemoryItem],
        gained: dict[int, float],
    ) -> None:
        """Take new scores in; items that were no candidate become one."""
        self._fetch(list(gained), found)
        for i in gained:
            ranks.setdefault(i, [None, None])
        scores.update(gained)

    def _fuse(
        self, dense: list[tuple[int, float]], lexical: list[tuple[int, float]], kinds: dict[int, str]
    ) -> tuple[dict[int, float], dict[int, list[int | None]]]:
        """BM25 is divided by the best BM25 of the same kind: a short topic sentence outscores long
        turns on BM25, and dividing turns by its score would reorder turns among themselves."""
        f = self.fusion
        scores: dict[int, float] = {}
        ranks: dict[int, list[int | None]] = {}
        tops: dict[str, float] = {}
        for item_id, score in lexical:
            kind = kinds.get(item_id, "")
            tops[kind] = max(tops.get(kind, 0.0), score)
        for rank, (item_id, score) in enumerate(lexical):
            top = tops.get(kinds.get(item_id, ""), 0.0) or 1.0
            scores[item_id] = f.lexical_weight * score / top
            ranks.setdefault(item_id, [None, None])[1] = rank
        gains = [max(0.0, similarity - f.dense_floor) for _, similarity in dense]
        best = max(gains, default=0.0) or 1.0  # dense, too, is divided by its best (see Fusion)
        for rank, ((item_id, _), gain) in enumerate(zip(dense, gains, strict=True)):
            scores[item_id] = scores.get(item_id, 0.0) + f.dense_weight * gain / best
            ranks.setdefault(item_id, [None, None])[0] = rank
        return scores, ranks


def _elsewhere(
    hits: list[tuple[int, float]], found: dict[int, MemoryItem], going_on: int | None
) -> list[tuple[int, float]]:
    """``hits`` without the turns of the conversation going on (see Retriever.search)."""
    if going_on is None:
        return hits
    return [
        (i, s)
        for i, s in hits
        if not (i in found and found[i].kind == TURN and found[i].conversation_id == going_on)
    ]


def spread(
    scores: dict[int, float], neighbours: dict[int, tuple[int | None, int | None]], share: float
) -> dict[int, float]:
    """Each turn's new score: its own plus ``share`` of its better neighbour's, for the turns in
    ``neighbours`` and their neighbours (which may have had no score: they gain one)."""
    if not share:
        return {}
    best_beside: dict[int, float] = {}
    for turn, around in neighbours.items():
        for other in around:
            if other is not None:  # the relation is symmetric: turn is beside other too
                best_beside[other] = max(best_beside.get(other, 0.0), scores.get(turn, 0.0))
    return {i: scores.get(i, 0.0) + share * gain for i, gain in best_beside.items() if gain > 0}

"""Answering with memories: retrieve, rerank, show the model numbered memories, keep receipts.

For each user message: K hybrid candidates (turns of the conversation at hand excluded, they are in
the prompt already; Memoir's own replies and the user's questions excluded, they are not facts about
the user — see ``memory/store/sources.py``), reranked, the top M numbered in a fenced block
(``memory/answering/memory_block.py``) shown with that user turn (as a system message just before
it; see ``memory/answering/chat.py``) while it is the newest. The block is stored, so a regenerated
reply sees the same notes byte for byte (and forgetting edits it there too).
After the reply, ``memory/answering/attribution.py`` decides which memories it used (its ``[n]`` citations, or
else its text); those decisions become receipts and rewards for the reranker.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from memory.answering import memory_block
from memory.answering.attribution import attribute
from memory.answering.candidates import Pool, pair_features, search_words, unrepeated, vectors_for
from memory.answering.memory_block import Note
from memory.answering.receipts import Receipt, read_receipts, sources_of
from memory.preferences.prompt_block import edit_block
from memory.retrieval.rerank_features import NAMES as FEATURE_NAMES
from memory.retrieval.reranker import PRIOR, Example, Reranker
from memory.retrieval.reranker_store import RerankerStore
from memory.retrieval.service import MemoryService
from memory.store import sources
from memory.store.database import Message, Store, now
from memory.store.forgetting import FORGOTTEN_TEXT
from memory.store.items import TOPIC, TURN, MemoryItem
from memory.store.lexical import content_words, stem_words

CANDIDATES = 20
NEW = 0  # the conversation a draft will open when sent (no conversation has id 0)
SHOWN = 5
USER_WEIGHT = 2.0  # the user's "helpful"/"not relevant" outweighs the model's citation
# Retrieved before questions and Memoir's replies are set aside, so enough facts remain.
SEARCH_DEPTH = CANDIDATES * 3


@dataclass
class Recollection:
    message_id: int
    query: str
    block: str
    candidates: list[tuple[int, float]]  # (item id, retriever score), retriever order
    shown: list[int]  # item ids, numbered from 1 in the block
    seconds: float = 0.0


class Recall:
    """Owns the reranker; used from the model lane (one reply at a time)."""

    def __init__(
        self,
        memory: MemoryService,
        learning: bool = True,
        seed: int | None = None,
        edits: Callable[[str], list[str]] | None = None,
    ) -> None:
        self.edits = edits  # preference phrases from the user's edits of replies to similar messages
        self.memory = memory
        self.store: Store = memory.store
        self.weights = RerankerStore(self.store)
        self.reranker: Reranker = self.weights.load(memory.embedder.dimension)
        self._rng = np.random.default_rng(seed)
        self.learning = learning
        self._preview: tuple[Message, int, Recollection] | None = None  # the draft's, see preview()

    @property
    def rng(self) -> np.random.Generator | None:
        """Exploration while learning (Gumbel-top-k); none otherwise, so the order is deterministic."""
        return self._rng if self.learning else None

    # Before the reply ----------------------------------------------------------------------

    def recollect(self, message: Message, shown: int = SHOWN) -> Recollection:
        """The memories for a user message: stored ones if it has them (a regenerated reply sees
        what the first one saw), else those previewed for its very text, else retrieved and
        reranked now; then stored."""
        stored = self.recollection(message.id)
        if stored is not None:
            return stored
        start = time.perf_counter()
        result = self._previewed(message, shown) or self._choose(message, shown)
        result.message_id = message.id
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO recollections VALUES (?, ?, ?, ?, ?, ?)",
                (
                    message.id,
                    message.content,
                    result.block,
                    json.dumps(result.candidates),
                    json.dumps(result.shown),
                    now(),
                ),
            )
        result.seconds = time.perf_counter() - start
        return result

    def preview(self, conversation_id: int, text: str, shown: int = SHOWN) -> Recollection:
        """The memories a message of ``text`` would get if it were sent now (``NEW``: as the first
        message of a new conversation); kept, not stored, so that sending exactly this text shows
        exactly these (and a prompt read ahead stays valid)."""
        draft = Message(0, conversation_id, "user", text, "draft", "", "")
        self._preview = (draft, shown, self._choose(draft, shown))
        return self._preview[2]

    def _previewed(self, message: Message, shown: int) -> Recollection | None:
        """The preview made for this message's words, if still true: none of its memories forgotten
        or archived since (the block is rendered again, so an edited memory reads as it is now)."""
        kept, self._preview = self._preview, None
        if kept is None or kept[1] != shown or not same_words(kept[0].content, message.content):
            return None
        if kept[0].conversation_id != message.conversation_id and not (
            kept[0].conversation_id == NEW and self._opens_its_conversation(message)
        ):
            return None
        previewed = kept[2]
        items = self.memory.items.many([i for i, _ in previewed.candidates])
        if any(i not in items or items[i].status != "active" for i in previewed.shown):
            return None
        block = self._with_edits(self.render(list(items.values()), previewed.shown, message.content), message)
        candidates = [(i, s) for i, s in previewed.candidates if i in items]
        return Recollection(message.id, message.content, block, candidates, previewed.shown)

    def _opens_its_conversation(self, message: Message) -> bool:
        first = self.store.query(
            "SELECT min(id) AS id FROM messages WHERE conversation_id = ?", (message.conversation_id,)
        )
        return bool(first) and first[0]["id"] == message.id

    def _choose(self, message: Message, shown: int) -> Recollection:
        pool = self.candidates(message) if shown > 0 else None
        chosen: list[int] = []
        if pool is not None:
            order = self.reranker.select(pool.query, pool.vectors, pool.base, shown, self.rng, pool.features)
            chosen = [pool.items[i].id for i in order]
        candidates = [(i.id, float(s)) for i, s in zip(pool.items, pool.base, strict=True)] if pool else []
        block = self._with_edits(self.render(pool.items if pool else [], chosen, message.content), message)
        return Recollection(message.id, message.content, block, candidates, chosen)

    def _with_edits(self, block: str, message: Message) -> str:
        learned = edit_block(self.edits(message.content)) if self.edits else ""
        return f"{block}\n\n{learned}" if block and learned else block or learned

    def candidates(self, message: Message) -> Pool | None:
        """The K candidates for a user message in retriever order, with what the reranker reads;
        None when nothing was found. Memoir's own replies count only when the user asks what Memoir
        said; questions never do."""
        words = search_words(self.store, message)
        hits = self.memory.retriever.search(words, k=SEARCH_DEPTH, going_on=message.conversation_id)
        allowed = set(sources.FACTS)
        if sources.asks_about_memoir(message.content):
            allowed.add(sources.ASSISTANT)
        items = unrepeated(
            [
                h
                for h in hits
                if h.item.source in allowed
                and not (h.item.kind == TURN and h.item.conversation_id == message.conversation_id)
            ]
        )[:CANDIDATES]
        if not items:
            return None
        query, vectors = vectors_for(self.memory, words, [h.item.id for h in items])
        base = np.array([float(h.score) for h in items])
        phi = pair_features(words, [h.item for h in items], base, query, vectors)
        return Pool([h.item for h in items], query, vectors, base, phi)

    def recollection(self, message_id: int) -> Recollection | None:
        rows = self.store.query("SELECT * FROM recollections WHERE message_id = ?", (message_id,))
        if not rows:
            return None
        row = rows[0]
        candidates = [(int(i), float(s)) for i, s in json.loads(row["candidates"])]
        return Recollection(message_id, row["query"], row["block"], candidates, json.loads(row["shown"]))

    def blocks(self, message_ids: list[int]) -> dict[int, str]:
        """Stored memory blocks of these user messages: the newest one's is shown again (a
        regenerated reply), and any at all keep the notes' guide in the system prompt."""
        found: dict[int, str] = {}
        for start in range(0, len(message_ids), 500):
            chunk = message_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.store.query(
                f"SELECT message_id, block FROM recollections WHERE message_id IN ({marks})", tuple(chunk)
            ):
                if row["block"]:
                    found[row["message_id"]] = row["block"]
        return found

    def render(self, items: list[MemoryItem], order: list[int], query: str = "") -> str:
        """The memories ``order`` names, as the block shown with ``query`` ("" when none)."""
        by_id = {i.id: i for i in items}
        shown = [by_id[i] for i in order]
        # a message shown as a note of its own is not quoted again under a topic
        turns = {m for i in shown if i.kind == TURN for m in i.message_ids}
        return memory_block.render([self._note(i, turns) for i in shown], query)

    def _note(self, item: MemoryItem, shown_turns: set[int]) -> Note:
        if item.source == sources.ASSISTANT:  # shown only when asked what Memoir said
            return Note(item.occurred_at, item.text, who="You (Memoir)")
        if item.kind == TURN:
            return Note(item.occurred_at, item.text, who=item.speaker or "")
        # a topic is the model's summary: the user's own words travel with it
        quotes = [s.content for s in self.sources(item) if s.role == "user" and s.id not in shown_turns]
        return Note(item.occurred_at, item.text, quote=quotes[0] if quotes else "")

    def sources(self, item: MemoryItem) -> list[Message]:
        return sources_of(self.store, item)

    # After the reply -----------------------------------------------------------------------

    def settle(self, reply: Message, recollection: Recollection) -> list[Receipt]:
        """Record which shown memories the reply used, and learn from what could be told."""
        if not recollection.shown:
            return []
        items = self.memory.items.many(recollection.shown)
        texts = [items[i].text if i in items else "" for i in recollection.shown]
        decisions = attribute(reply.content, recollection.query, texts, self._similarity)
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM receipts WHERE reply_id = ?", (reply.id,))
            for n, (item_id, decision) in enumerate(zip(recollection.shown, decisions, strict=True), 1):
                item = items.get(item_id)
                conn.execute(
                    "INSERT INTO receipts (reply_id, position, item_id, kind, text, cited, source, how)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        reply.id,
                        n,
                        item_id if item else None,
                        item.kind if item else TOPIC,
                        item.text if item else FORGOTTEN_TEXT,  # forgotten since it was shown
                        None if decision.used is None else int(decision.used),
                        item.source if item else None,
                        decision.how,
                    ),
                )
        decided = [
            (i, d.used) for i, d in zip(recollection.shown, decisions, strict=True) if d.used is not None
        ]
        if decided and reply.status == "complete":
            self._learn(recollection, [i for i, _ in decided], [1.0 if u else -1.0 for _, u in decided], 1.0)
        return self.receipts(reply.id)

    def _similarity(self, sentences: list[str], memories: list[str]) -> np.ndarray:
        vectors = np.asarray(self.memory.embedder.embed([*sentences, *memories]))
        return vectors[: len(sentences)] @ vectors[len(sentences) :].T

    def receipts(self, reply_id: int) -> list[Receipt]:
        return read_receipts(self.store, reply_id)

    def feedback(self, reply_id: int, position: int, value: int) -> None:
        """The user judged a shown memory: +1 helpful, -1 not relevant (0 takes it back)."""
        item_id = self.record_feedback(reply_id, position, value)
        if value and item_id is not None:
            self.learn_from_feedback(reply_id, item_id, value)

    def record_feedback(self, reply_id: int, position: int, value: int) -> int | None:
        """Store the judgement (any thread: it only writes SQLite); returns the memory's id."""
        if value not in (-1, 0, 1):
            raise ValueError("feedback is -1, 0 or 1")
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE receipts SET feedback = ? WHERE reply_id = ? AND position = ?",
                (value or None, reply_id, position),
            )
            row = conn.execute(
                "SELECT item_id FROM receipts WHERE reply_id = ? AND position = ?", (reply_id, position)
            ).fetchone()
        return row[0] if row else None

    def learn_from_feedback(self, reply_id: int, item_id: int, value: int) -> None:
        """Teach the reranker the judgement (the model lane: the reranker lives there)."""
        user_message = self._user_message_before(reply_id)
        recollection = self.recollection(user_message) if user_message else None
        if recollection is not None:
            self._learn(recollection, [item_id], [float(value)], USER_WEIGHT)

    def _user_message_before(self, reply_id: int) -> int | None:
        rows = self.store.query(
            "SELECT m.id FROM messages m JOIN messages r"
            " ON r.id = ? AND m.conversation_id = r.conversation_id"
            " WHERE m.role = 'user' AND m.id < r.id ORDER BY m.id DESC LIMIT 1",
            (reply_id,),
        )
        return rows[0]["id"] if rows else None

    def _learn(
        self, recollection: Recollection, item_ids: list[int], rewards: list[float], weight: float
    ) -> None:
        present = self.memory.items.many([i for i, _ in recollection.candidates])
        candidates = [(i, s) for i, s in recollection.candidates if i in present]
        positions = {item_id: n for n, (item_id, _) in enumerate(candidates)}
        shown = [(positions[i], r) for i, r in zip(item_ids, rewards, strict=True) if i in positions]
        if not shown:
            return
        asked = self.store.query("SELECT * FROM messages WHERE id = ?", (recollection.message_id,))
        words = search_words(self.store, Message(**asked[0])) if asked else recollection.query
        query, vectors = vectors_for(self.memory, words, [i for i, _ in candidates])
        base = np.array([s for _, s in candidates])
        items = [present[i] for i, _ in candidates]
        example = Example(
            query,
            vectors,
            base,
            [p for p, _ in shown],
            [r for _, r in shown],
            weight,
            pair_features(words, items, base, query, vectors),
        )
        if self.reranker.learn(example):
            self.weights.save(self.reranker)

    def reset(self) -> None:
        self.reranker.reset()
        self.weights.save(self.reranker)

    def learned(self) -> tuple[int, list[tuple[str, float]]]:
        """Learning steps taken, and how far this user's answers moved each feature's weight from
        where every reranker starts (``PRIOR``), largest first (for the user)."""
        moved = (self.reranker.theta - np.asarray(PRIOR)).tolist()
        weights = sorted(zip(FEATURE_NAMES, moved, strict=True), key=lambda w: -abs(w[1]))
        return self.reranker.updates, weights


def same_words(draft: str, sent: str) -> bool:
    """Whether a draft's preview holds for the message sent: the same content words in the same
    order (a "?" or a "the" added before Enter changes neither the search nor the notes' focus),
    asking about Memoir's own words or not alike."""
    if draft == sent:
        return True
    return stem_words(content_words(draft)) == stem_words(content_words(sent)) and (
        sources.asks_about_memoir(draft) == sources.asks_about_memoir(sent)
    )

"""A user message's candidate memories: the retriever's hits without repeats, and what the
reranker reads about each."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from memory.retrieval.hybrid import Hit
from memory.retrieval.rerank_features import features
from memory.retrieval.service import MemoryService
from memory.store.database import Message, Store
from memory.store.items import TURN, MemoryItem
from memory.store.lexical import content_words


@dataclass
class Pool:
    """A user message's candidates (retriever order) and the reranker's inputs for them."""

    items: list[MemoryItem]
    query: np.ndarray
    vectors: np.ndarray
    base: np.ndarray  # retriever scores
    features: np.ndarray


def pair_features(
    question: str, items: list[MemoryItem], base: np.ndarray, query: np.ndarray, vectors: np.ndarray
) -> np.ndarray:
    """The reranker's features for candidates in retriever order (memory.rerank_features)."""
    return features(question, [(item.text, item.speaker) for item in items], base, vectors @ query)


_WORD = re.compile(r"\w+")


def _words(text: str) -> str:
    """The words of ``text``, casefolded, space-padded: containment is then of whole words."""
    return " " + " ".join(_WORD.findall(text.casefold())) + " "


def unrepeated(hits: list[Hit]) -> list[Hit]:
    """``hits`` without the memories whose words a candidate turn already holds whole, nor a turn
    whose words a better-ranked turn holds exactly: a statement kept from a turn, or a summary that
    copied it, said the same thing a second and third time in one block (seen in the app: a turn,
    its summary and two of its sentences, 4 of 5 notes), and the reply's words then looked
    borrowed from none of them in particular."""
    turns = [_words(h.item.text) for h in hits if h.item.kind == TURN]
    kept: list[Hit] = []
    said: set[str] = set()
    for hit in hits:
        words = _words(hit.item.text)
        if hit.item.kind != TURN and any(words in turn for turn in turns):
            continue
        if hit.item.kind == TURN:
            # the same words in two messages (said again another day, pasted twice): one note, at
            # the better rank, so the block's five notes say five things
            if words in said:
                continue
            said.add(words)
        kept.append(hit)
    return kept


# Words that point back at something said before: a message with them and few words of its own is
# about the previous message's subject.
_POINTING = frozenset(
    {"he", "she", "it", "they", "him", "her", "them", "his", "hers", "its", "their", "theirs"}
    | {"that", "this", "these", "those", "there", "then"}
)
FOLLOW_UP_WORDS = 3  # a message with this many content words says what it is about


def is_follow_up(text: str) -> bool:
    """Whether ``text`` does not say what it is about: no content words ("Why?"), or few and a
    word pointing back ("And her sister?", "Where does he work now?")."""
    words = content_words(text)
    return not words or (
        len(words) < FOLLOW_UP_WORDS and bool(_POINTING & set(_WORD.findall(text.casefold())))
    )


def search_words(store: Store, message: Message) -> str:
    """What is searched for a user message: its words, and for a follow-up (``is_follow_up``) the
    user's message before it in the conversation too. Only the newest turn keeps its notes in the
    prompt, so "Where does he work now?" after "Tell me about my brother Tom" found nothing about
    Tom. Not stored: the words are found again from the messages (a forgotten one is not kept here)."""
    if not is_follow_up(message.content):
        return message.content
    before = message.id or 1 << 62  # a draft (id 0) comes after every message
    rows = store.query(
        "SELECT content FROM messages WHERE conversation_id = ? AND role = 'user' AND id < ?"
        " ORDER BY id DESC LIMIT 1",
        (message.conversation_id, before),
    )
    return f"{rows[0]['content']}\n{message.content}" if rows else message.content


def vectors_for(memory: MemoryService, query: str, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The query's embedding and the candidates' (from the index; embedded now if not yet indexed)."""
    stored = memory.index.vectors(ids)
    missing = [i for i in ids if i not in stored]
    texts = [query, *(memory.items.get(i).embed_text for i in missing)]
    fresh = np.asarray(memory.embedder.embed(texts))
    stored.update(zip(missing, fresh[1:], strict=True))
    return fresh[0], np.stack([stored[i] for i in ids])

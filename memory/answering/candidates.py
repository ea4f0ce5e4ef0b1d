"""A user message's candidate memories: the retriever's hits without repeats, and what the
reranker reads about each."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from memory.retrieval.hybrid import Hit
from memory.retrieval.rerank_features import features
from memory.store.items import TURN, MemoryItem


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

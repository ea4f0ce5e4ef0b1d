"""What the user says about themselves: first-person statements picked from their own turns.

A tiny model summarises poorly (loops, stubs, the assistant's life as the user's), but it cannot be
wrong about what the user wrote. So reflection also keeps the user's own sentences that look like
self-disclosure ("I have two dogs", "My wife is a nurse"): close, in MiniLM space, to generic examples
of such statements (``resources/reflection/self_disclosure.txt``) and far from first-person small talk
(``small_talk.txt``: "I hope you have a wonderful time"). Sentences that speak to "you" are left out:
they are about the other person or the exchange. Chosen on the MSC tune episodes with
``memoir bench profile --split tune --selector ...`` (README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from memory.embed.minilm import Embedder
from memory.runtime.resources import resource
from memory.store.database import Message

# The score: cosine to the nearest self-disclosure example minus SMALL_TALK_WEIGHT times cosine to the
# nearest small-talk example. Chosen on MSC tune (first 40 episodes): 0.15 and 0.5 gave F1 0.476,
# leakage 0.041, against 0.440 / 0.047 for the nearest self-disclosure example alone at its best (0.3).
THRESHOLD = 0.15
SMALL_TALK_WEIGHT = 0.5
MIN_WORDS = 2  # "I'm vegetarian" matters (3 words would score F1 0.006 higher on MSC dev)
MAX_CHARS = 300
_SENTENCE = re.compile(r"(?<=[.!?])\s+|,\s+(?=(?:and |but |so )?i\b)", re.IGNORECASE)
_ANAPHOR = re.compile(r"\b(them|it|that|this|these|those|they|there)\b", re.IGNORECASE)
_JOINER = re.compile(r"^(?:and|but|so)\s+", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'd|i'll|my|me|mine|myself)\b", re.IGNORECASE)
# Leaving these out lifted F1 on MSC tune by 1.3 points and lowered leakage 0.7 points.
_SECOND_PERSON = re.compile(r"\b(you|your|you're|you've|you'd|you'll|yours|yourself|u)\b", re.IGNORECASE)


def sentences(text: str) -> list[str]:
    """``text`` cut into sentences, and clauses starting with "I" ("…, I read them on my phone")."""
    return [part.strip() for part in _SENTENCE.split(" ".join(text.split())) if part.strip()]


def statements(text: str) -> list[str]:
    """First-person, non-question sentences (or clauses starting with "I") of ``text``."""
    out = []
    clauses = sentences(text)
    for n, sentence in enumerate(clauses):
        if n and _lost_referent(sentence, clauses[n - 1]):
            continue
        if (
            len(sentence.split()) >= MIN_WORDS
            and len(sentence) <= MAX_CHARS
            and not sentence.endswith("?")
            and _FIRST_PERSON.search(sentence)
            and not _SECOND_PERSON.search(sentence)
        ):
            out.append(sentence)
    return out


def _lost_referent(clause: str, before: str) -> bool:
    """A clause cut from a sentence spoken to "you" that points back into it ("Please keep your
    answers short, I read them on my phone."): alone it would not say what "them" is."""
    cut = not before.endswith((".", "!", "?"))
    return cut and _SECOND_PERSON.search(before) is not None and _ANAPHOR.search(clause) is not None


def speaks_to_someone(text: str) -> bool:
    """True if any sentence of ``text`` asks something or speaks to "you": about the other person or
    the exchange ("Good evening. How are you?"), not a statement about the user."""
    return any(part.endswith("?") or _SECOND_PERSON.search(part) for part in sentences(text))


def examples(name: str = "self_disclosure.txt") -> list[str]:
    text = resource("reflection", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@dataclass
class Statement:
    text: str
    message_id: int
    score: float


class DisclosureSelector:
    """Scores the user's first-person sentences by how much they look like self-disclosure."""

    def __init__(self, embedder: Embedder, threshold: float = THRESHOLD) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self._examples: np.ndarray | None = None
        self._small_talk: np.ndarray | None = None

    def select(self, messages: list[Message]) -> list[Statement]:
        found = [(s, m.id) for m in messages if m.role == "user" for s in statements(m.content)]
        if not found:
            return []
        if self._examples is None or self._small_talk is None:
            self._examples = np.asarray(self.embedder.embed(examples()))
            self._small_talk = np.asarray(self.embedder.embed(examples("small_talk.txt")))
        vectors = np.asarray(self.embedder.embed([s for s, _ in found]))
        best = (vectors @ self._examples.T).max(axis=1)
        best -= SMALL_TALK_WEIGHT * (vectors @ self._small_talk.T).max(axis=1)
        return [
            Statement(as_memory(text), message_id, float(score))
            for (text, message_id), score in zip(found, best, strict=True)
            if score >= self.threshold
        ]


def as_memory(clause: str) -> str:
    """A clause split off its sentence ("and I walk them daily.") as a memory reads on its own
    ("I walk them daily."); scored as it was written, so the choice of statements does not change."""
    text = _JOINER.sub("", clause, count=1)
    return text[:1].upper() + text[1:] if text else clause

"""Which shown memories a reply used, decided without the model's help when it gives none.

A model that cites (``[2]``) says what it used, and its citations decide. The packaged tiny model
never cites, so the reply's own text is the evidence: content words of the reply that occur in a
memory and not in the user's message (the answer took them from somewhere), and how close the
reply's sentences come to the memory in meaning. Weak or mixed evidence is "not sure", and "not
sure" teaches the reranker nothing: a wrong reward is worse than none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from memory.store.lexical import content_words, stem_words

NO_CITE = "[NO_CITE]"
_CITATION = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")

MIN_REPLY_WORDS = 3  # a shorter reply tells nothing


@dataclass(frozen=True)
class Thresholds:
    """When the text evidence says "used" or "not used"; between them it says "not sure".

    Chosen on tune (bench/calibrate_attribution.py over bench/results/loop_tune.json, recorded with
    the first values 2.0 / 0.55 / 0.35): the best net reward signal against the oracle, 0.43 vs 0.34.
    """

    used_words: float = 3.0  # weighted reply words found in the memory (and not in the user's message)
    used_similarity: float = 0.7  # a reply sentence this close (MiniLM cosine) counts with one word
    unused_similarity: float = 0.4  # below this, with no shared word, the memory was not used


THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Decision:
    used: bool | None  # None: not sure
    how: str  # in words, for the receipt
    words: float | None = None  # the text evidence behind it (None when citations decided)
    closeness: float | None = None


def parse_citations(text: str, shown: int) -> set[int] | None:
    """The memory numbers cited in ``text``; empty for "[NO_CITE]"; None when it can't be told."""
    if "<<<MEMORIES" in text or "MEMORIES>>>" in text:
        return None  # the model copied its notes: their numbers are not citations
    numbers = [int(n) for group in _CITATION.findall(text) for n in group.split(",")]
    if any(not 1 <= n <= shown for n in numbers):
        return None  # cites a memory that was never shown: the format was not understood
    if numbers:
        return set(numbers)
    return set() if NO_CITE.casefold() in text.casefold() else None


Similarity = Callable[[list[str], list[str]], np.ndarray]  # (sentences, memories) -> cosines


def attribute(
    reply: str, message: str, memories: list[str], similarity: Similarity | None = None
) -> list[Decision]:
    """One decision per memory (in the order shown) for ``reply`` to the user's ``message``."""
    if not memories:
        return []
    cited = parse_citations(reply, len(memories))
    if cited:
        return [
            Decision(True, f"cited as [{n}]") if n in cited else Decision(False, "not cited")
            for n in range(1, len(memories) + 1)
        ]
    if "<<<MEMORIES" in reply or "MEMORIES>>>" in reply:
        return [Decision(None, "the reply copied its notes")] * len(memories)
    if len(content_words(reply)) < MIN_REPLY_WORDS:
        return [Decision(None, "the reply was too short to tell")] * len(memories)
    weights, shared = _shared_words(reply, message, memories)
    closeness = _closeness(reply, memories, similarity)
    decisions = [decide(w, words, c) for w, words, c in zip(weights, shared, closeness, strict=True)]
    if cited is not None:  # "[NO_CITE]": believed where the text agrees, "not sure" where it does not
        return [
            Decision(None, "said it used none, but has its words", d.words, d.closeness) if d.used else d
            for d in decisions
        ]
    return decisions


def decide(
    weight: float, words: list[str], closeness: float | None, limits: Thresholds = THRESHOLDS
) -> Decision:
    """The decision for one memory from its text evidence."""
    quoted = ", ".join(f"“{w}”" for w in words[:3])
    close = closeness is not None and closeness >= limits.used_similarity
    if weight >= limits.used_words or (weight >= 1.0 and close):
        return Decision(True, f"the reply has its words ({quoted})", weight, closeness)
    if weight == 0 and (closeness is None or closeness < limits.unused_similarity):
        return Decision(False, "no word of the reply came from it", weight, closeness)
    how = f"some overlap ({quoted})" if words else "close in meaning, no shared words"
    return Decision(None, how, weight, closeness)


def _stems(text: str) -> dict[str, str]:
    """Stem -> the first word with that stem, for the content words of ``text``."""
    words = content_words(text)
    return dict(zip(stem_words(words), words, strict=True)) if words else {}


def _shared_words(reply: str, message: str, memories: list[str]) -> tuple[list[float], list[list[str]]]:
    """Per memory: the reply's new words it holds, each weighted 1/(memories holding it) — a word
    every memory has says nothing about which one was used."""
    new = {s: w for s, w in _stems(reply).items() if s not in _stems(message)}
    held = [set(_stems(m)) & set(new) for m in memories]
    counts = {s: sum(s in h for h in held) for s in new}
    weights = [sum(1.0 / counts[s] for s in h) for h in held]
    return weights, [[new[s] for s in sorted(h)] for h in held]


def _closeness(reply: str, memories: list[str], similarity: Similarity | None) -> list[float | None]:
    sentences = [s.strip() for s in _SENTENCE.split(reply) if len(content_words(s)) >= 2][:8]
    if similarity is None or not sentences:
        return [None] * len(memories)
    cosines = np.asarray(similarity(sentences, memories))
    return [float(v) for v in cosines.max(axis=0)]

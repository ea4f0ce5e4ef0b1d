"""What the reranker can weigh besides embeddings: cheap features of a (question, memory) pair.

RMM's adapted embeddings alone learn little on top of a hybrid retriever (README: +0.3 points of
R@5 on LoCoMo dev, and a supervised ceiling of +0.7). These features carry what the embeddings
miss — whether the memory shares the question's words, answers a "when" with a time, was said by
the person the question is about, says something rather than asks — and their weights start at
zero and are learned from citations and the user's marks like the rest of the reranker.
"""

from __future__ import annotations

import re

import numpy as np

NAMES = (
    "how well search matched it",
    "being lower in the search results",
    "closeness in meaning",
    "words shared with the question",
    "a date or time, when asked when",
    "mentioning a date or time",
    "said by the person asked about",
    "saying more",
    "being a question",
)
COUNT = len(NAMES)

_WORD = re.compile(r"[a-z0-9]+")
# fmt: off
_STOP = frozenset((
    "a", "about", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did",
    "do", "does", "for", "from", "had", "has", "have", "he", "her", "him", "his", "how", "i", "in",
    "is", "it", "its", "me", "my", "of", "on", "or", "our", "she", "so", "that", "the", "their",
    "them", "they", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who", "why",
    "will", "with", "would", "you", "your",
))
# fmt: on
_TIME = re.compile(
    r"\b(yesterday|today|tonight|tomorrow|last|next|ago|week|weekend|month|year|morning|evening|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|"
    r"june|july|august|september|october|november|december|\d{4}|\d{1,2}(st|nd|rd|th))\b",
    re.IGNORECASE,
)
_WHEN = re.compile(r"^\s*(when|what (year|month|day|date|time)|how long)\b", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"\b(i|me|my|mine|myself|i'm|i've|i'd)\b", re.IGNORECASE)
_USER_SPEAKERS = frozenset({"user"})


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower())) - _STOP


def features(
    question: str,
    memories: list[tuple[str, str | None]],
    base: np.ndarray,
    cosine: np.ndarray,
) -> np.ndarray:
    """One row of :data:`NAMES` per memory, given as (text, speaker) in candidate order."""
    asked = _words(question)
    lowered = question.lower()
    when = bool(_WHEN.search(question))
    first_person = bool(_FIRST_PERSON.search(question))
    rows = np.zeros((len(memories), COUNT))
    for i, (text, speaker) in enumerate(memories):
        said = _words(text)
        timed = 1.0 if _TIME.search(text) else 0.0
        name = (speaker or "").lower()
        about = bool(name) and (name in lowered or (first_person and name in _USER_SPEAKERS))
        rows[i] = (
            base[i],
            i / max(1, len(memories)),
            cosine[i],
            len(asked & said) / max(1, len(asked)),
            timed * when,
            timed,
            float(about),
            min(len(said), 40) / 40,
            float(text.rstrip().endswith("?")),
        )
    return rows

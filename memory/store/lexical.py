"""The words lexical search works on: stop words left out, content words, FTS5 queries, the stemmer
FTS5's porter tokenizer uses — shared by BM25 search, message search, reflection and attribution."""

from __future__ import annotations

import re
import threading
from typing import Any

# Function words carry no topic; leaving them out of the OR query keeps BM25 on content words.
STOP_WORDS = frozenset(
    (
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "ever",
    )
)
_WORD = re.compile(r"\w+", re.UNICODE)


def content_words(text: str) -> list[str]:
    words = [w.lower() for w in _WORD.findall(text)]
    return list(dict.fromkeys(w for w in words if w not in STOP_WORDS and (len(w) > 1 or w.isdigit())))


def fts_query(text: str, words: list[str] | None = None) -> str:
    """An FTS5 OR-query of the content words in ``text``, each quoted so no syntax can leak in."""
    return " OR ".join(f'"{w}"' for w in (content_words(text) if words is None else words))


def porter() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("porter")  # the same algorithm as FTS5's porter tokenizer


_local = threading.local()  # a stemmer keeps state while it works: one per thread (lanes differ)


def stem_words(words: list[str]) -> list[str]:
    """The Porter stem of each word, in order (this thread's stemmer)."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = porter()
    return list(stemmer.stemWords(words)) if words else []


def stems(text: str) -> set[str]:
    """The Porter stems of ``text``'s content words: what two texts are compared by, word for word."""
    return set(stem_words(content_words(text)))

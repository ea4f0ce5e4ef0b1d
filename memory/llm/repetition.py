"""Replies that loop: "EXTENDED-EXTENDED-EXTENDED-…" to the token limit, as tiny models write.

``runaway`` looks at the end of a reply as it streams: the same unit of 1–24 words said at least
``COPIES`` times in a row, at least ``MIN_WORDS`` words in all. Streaming stops there and ``trim``
keeps the first copy, so the user sees what the model meant once. ``degenerate`` judges a finished
reply for the benchmark (bench/bench_degenerate.py): a run like that anywhere, or a reply cut by the
token limit while repeating itself. ``stub_or_loop`` judges a short phrase a reflection or an edit
produced (a stub such as "The user", or a phrase that repeats itself).
"""

from __future__ import annotations

import re
from collections import Counter

COPIES = 4
MIN_WORDS = 8
MAX_UNIT = 24  # a sentence said over and over is a loop too (one of 12 words was seen)
_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> list[re.Match[str]]:
    return list(_WORD.finditer(text.casefold()))


def _run_at_end(words: list[str]) -> tuple[int, int] | None:
    """(unit length, copies) of the longest repeated run ending the word list, if it loops."""
    for unit in range(1, MAX_UNIT + 1):
        copies = 1
        while (copies + 1) * unit <= len(words) and words[-(copies + 1) * unit : -copies * unit] == words[
            -unit:
        ]:
            copies += 1
        if copies >= COPIES and copies * unit >= MIN_WORDS:
            return unit, copies
    return None


def runaway(text: str) -> bool:
    """True once the end of ``text`` is a loop (checked on its last few dozen words: cheap)."""
    words = [m.group() for m in _words(text[-1200:])]
    return _run_at_end(words) is not None


def trim(text: str) -> str:
    """``text`` with a looping end cut back to its first copy."""
    matches = _words(text)
    found = _run_at_end([m.group() for m in matches])
    if found is None:
        return text
    unit, copies = found
    first_copy_end = matches[len(matches) - (copies - 1) * unit - 1].end()
    return text[:first_copy_end].rstrip(" -,;")


def degenerate(text: str, truncated: bool) -> bool:
    """A loop anywhere in a finished reply, or a reply cut by the token limit while repeating."""
    words = [m.group() for m in _words(text)]
    if any(_run_at_end(words[:end]) for end in range(MIN_WORDS, len(words) + 1)):
        return True
    trigrams = Counter(zip(words, words[1:], words[2:], strict=False))
    return truncated and max(trigrams.values(), default=0) >= 3


def stub_or_loop(summary: str, min_words: int = 4) -> bool:
    """A stub ("The user") or a loop ("I love golf, I love golf, ..."), as tiny models write."""
    words = re.findall(r"\w+", summary.casefold())
    if len(words) < min_words:
        return True
    trigrams = Counter(zip(words, words[1:], words[2:], strict=False))
    return max(trigrams.values(), default=0) >= 3 or len(set(words)) < 0.5 * len(words)

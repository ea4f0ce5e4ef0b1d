"""A reply that begins with a speaker's name ("A: Sure, …", "Assistant: …"), as a small model
writes when it takes the conversation for a transcript to continue (SmolLM2-135M does, now and then).

The name is not part of the answer: it is dropped from what is shown and stored. While the reply
streams, its first characters are held back for as long as they could still become such a name
("A" may be "A:" or "A good question"), a few characters at most.
"""

from __future__ import annotations

import re

# The names a model gives the answering side when it writes a transcript; compared without case.
NAMES = ("a", "assistant", "memoir")  # not "AI": "AI: a field of …" may answer "What is AI?"
_LABEL = re.compile(r"\s*(?:" + "|".join(NAMES) + r")\s*:[ \t]*(?:\r?\n)?", re.IGNORECASE)


def _could_become_label(text: str) -> bool:
    """Whether more text could turn ``text`` into a name and a colon."""
    head = "".join(text.split()).casefold()
    return any(f"{name}:".startswith(head) for name in NAMES)


def shown(text: str) -> str:
    """The finished reply as the user sees it: ``text`` without a leading speaker name (kept as the
    model wrote it when there is nothing after the name)."""
    label = _LABEL.match(text)
    rest = text[label.end() :] if label is not None else text
    return rest if rest.strip() else text


def shown_so_far(text: str) -> str | None:
    """The streaming reply as the user sees it so far, or ``None`` while its start could still
    become a speaker name (or is one with nothing after it yet)."""
    label = _LABEL.match(text)
    if label is None and not _could_become_label(text):
        return text
    rest = text[label.end() :] if label is not None else ""
    return rest if rest.strip() else None

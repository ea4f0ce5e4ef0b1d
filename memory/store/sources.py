"""Whose words a memory holds: the user's, a reflection grounded in them, the user's edit, or Memoir's.

The user's words are the truth; Memoir's replies are history. A reply stays searchable as part of a
conversation, but it is never handed to the model as a fact about the user: one invented detail
("a golden retriever") would otherwise come back as evidence and be repeated. A user's question is
a recall cue, not a fact, so it is not shown as a memory either.
"""

from __future__ import annotations

import re

USER = "user"  # the user's own words (a turn, or a sentence of one kept by reflection)
QUESTION = "question"  # a user turn that asks rather than tells
REFLECTION = "reflection"  # the model's summary of the user's turns, checked against them
EDIT = "edit"  # written or corrected by the user in the memory browser
ASSISTANT = "assistant"  # what Memoir said
SOURCES = (USER, QUESTION, REFLECTION, EDIT, ASSISTANT)

# What may be shown to the model as a memory about the user.
FACTS = (USER, REFLECTION, EDIT)

LABELS = {
    USER: "your words",
    QUESTION: "your question",
    REFLECTION: "summary of your words",
    EDIT: "your edit",
    ASSISTANT: "what Memoir said",
}

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_ASKS = re.compile(
    r"^(what|who|whom|whose|when|where|why|how|which|is|are|am|was|were|do|does|did|can|could|"
    r"would|will|should|shall|may|might|have|has|had|tell me|remind me|any idea)\b",
    re.IGNORECASE,
)
# "…know that I…", "…remember my…", "…because I…": a question that also tells something.
_EMBEDDED_STATEMENT = re.compile(
    r"\b(that|know|knew|remember|since|because|now that)\s+(i|i'm|i've|my|we|our)\b", re.IGNORECASE
)
# "What did you tell me about…", "you said", "did you suggest…": the user asks about Memoir's own words.
_ABOUT_MEMOIR = re.compile(
    r"\b(did you|you) (say|said|tell|told|suggest|suggested|recommend|recommended|mention|mentioned|"
    r"answer|answered|reply|replied|write|wrote|call|called)\b|\byour (answer|reply|suggestion|advice)\b",
    re.IGNORECASE,
)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]


def is_question(text: str) -> bool:
    """True when every sentence asks (ends with "?" or opens like a question) and none carries a
    statement inside it ("Do you know that I have a beagle?" tells; "I moved. Where to eat?" tells)."""
    parts = sentences(text)
    if not parts:
        return False
    asks = all(part.endswith("?") or _ASKS.match(part) for part in parts)
    return asks and not any(_EMBEDDED_STATEMENT.search(part) for part in parts)


def of_turn(role: str, text: str) -> str:
    """The source of a message turn by who wrote it and what it does."""
    if role != "user":
        return ASSISTANT
    return QUESTION if is_question(text) else USER


def asks_about_memoir(text: str) -> bool:
    """The user asks what Memoir itself said, so Memoir's replies may be shown, labelled as such."""
    return bool(_ABOUT_MEMOIR.search(text))


def label(source: str) -> str:
    return LABELS.get(source, source)

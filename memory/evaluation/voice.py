"""A benchmark question about a named person, asked as that person would ask it about themselves.

"When did Caroline go to the LGBTQ support group?" becomes "When did I go to the LGBTQ support
group?": in the app the user asks about themselves, and the reranker's "said by the person asked
about" feature reads the first person exactly as it does there.
"""

from __future__ import annotations

import re

# Before these the name is still the subject ("did Caroline go" -> "did I go"); after any other
# lower-case word it is an object ("supports Caroline" -> "supports me").
_SUBJECT_AFTER = frozenset(
    [
        "when",
        "what",
        "where",
        "why",
        "how",
        "who",
        "whom",
        "which",
        "did",
        "does",
        "do",
        "would",
        "will",
        "could",
        "can",
        "is",
        "was",
        "has",
        "have",
        "had",
        "should",
        "might",
        "may",
        "are",
        "were",
        "and",
        "or",
        "but",
        "that",
        "if",
        "because",
    ]
)
_PRONOUNS = ((r"\b(she|he)\b", "I"), (r"\b(her|his)\b(?= \w)", "my"), (r"\b(him|her)\b", "me"))
# "I has" -> "I have" and friends, after the name became "I".
_AGREEMENT = (
    (r"\bI has\b", "I have"),
    (r"\bI is\b", "I am"),
    (r"\bI does\b", "I do"),
    (r"\bhas I\b", "have I"),
    (r"\bis I\b", "am I"),
    (r"\bdoes I\b", "do I"),
    (r"\bI's\b", "I'm"),
    (r"\bIs I\b", "Am I"),
    (r"\bHas I\b", "Have I"),
    (r"\bDoes I\b", "Do I"),
)
# A verb in the third person right after the name: "Caroline likes" -> "I like".
_THIRD_PERSON_VERB = re.compile(r"\bI (\w+?)(ies|es|s)\b")
_KEEP_S = frozenset({"was", "is", "has", "does", "always", "also", "sometimes", "us", "yes"})


def _verb(match: re.Match[str]) -> str:
    word = match.group(0)[2:]
    if word.lower() in _KEEP_S or len(word) <= 3:
        return match.group(0)
    stem, ending = match.group(1), match.group(2)
    if ending == "ies":
        return f"I {stem}y"
    if ending == "es" and stem.endswith(("sh", "ch", "ss", "x", "o")):
        return f"I {stem}"
    return f"I {stem}{ending[:-1]}"


def _object(match: re.Match[str]) -> str:
    word = match.group(1)
    return match.group(0) if word in _SUBJECT_AFTER else f"{word} me"


def first_person(question: str, name: str) -> str:
    """``question`` with ``name`` (and "name's") turned into "I", "me" and "my"."""
    if not name or name not in question:
        return question
    escaped = re.escape(name)
    text = re.sub(rf"\b{escaped}'s\b", "my", question)
    text = re.sub(rf"\b([a-z]+) {escaped}\b", _object, text)
    text = re.sub(rf"\b{escaped}\b", "I", text)
    others = [w for w in re.findall(r"\b[A-Z][a-z]+\b", text[1:]) if w not in ("I", "My", "LGBTQ")]
    if not others:  # only the user is named, so "she" and "her" are the user too
        for pattern, replacement in _PRONOUNS:
            text = re.sub(pattern, replacement, text)
    for pattern, replacement in _AGREEMENT:
        text = re.sub(pattern, replacement, text)
    text = _THIRD_PERSON_VERB.sub(_verb, text)
    return re.sub(r"^my\b", "My", text)

"""What the model's answers must pass before Memoir keeps them: the model invents, so a summary or a
preference is kept only when the user's own turns, the ones it cites, hold its words.

These checks read text only; prospective.py asks the model and applies them.
"""

from __future__ import annotations

import re
from typing import Any

from memory.llm.repetition import stub_or_loop
from memory.store.database import Message
from memory.store.lexical import stems

# "(\"keep it short\")": the examples a prompt gives in quotes within parentheses
_EXAMPLE = re.compile(r'\("([^"]+)"\)')


def grounding(summary: str, texts: list[str]) -> float:
    """Share of the summary's content words (Porter stems) found in ``texts``."""
    words = stems(summary) - {"user"}
    if not words:
        return 0.0
    seen = set().union(*(stems(text) for text in texts))
    return len(words & seen) / len(words)


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def copies_instructions(phrase: str, instructions: str, cited: list[str]) -> bool:
    """Whether ``phrase`` is one of the instructions' own examples that no cited turn says in full.

    SmolLM2 answers "keep it short" or "I'm vegetarian" for conversations that never said so: those
    are our words, not the user's, even when their few content words occur somewhere in the turns.
    """
    said = words(phrase)
    if not said or not any(words(example) == said for example in _EXAMPLE.findall(instructions)):
        return False
    return not any(grounding(phrase, [text]) == 1.0 for text in cited)  # one turn said all of it


def stated_preferences(
    answer: Any, window: list[Message], instructions: str
) -> list[tuple[str, str, list[int]]]:
    """The preferences in the model's ``answer`` that the user's cited turns hold, as (text, category,
    the ids of those turns). ``instructions`` is the prompt the model was given."""
    raw = answer.get("preferences", []) if isinstance(answer, dict) else []
    found = []
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict):
            continue
        phrase = " ".join(str(entry.get("text", "")).split())
        refs = [r for r in entry.get("references", []) if isinstance(r, int) and 1 <= r <= len(window)]
        cited = [window[r - 1] for r in refs if window[r - 1].role == "user"]
        texts = [m.content for m in cited]
        # grounded in the turns it cites, not anywhere in the window: the model cites turns that
        # never said what it wrote, and the cited turns are what the user is shown as its evidence
        if (
            not cited
            or stub_or_loop(phrase, min_words=2)
            or grounding(phrase, texts) < 0.5
            or copies_instructions(phrase, instructions, texts)
        ):
            continue
        found.append((phrase, str(entry.get("category", "other")), [m.id for m in cited]))
    return found

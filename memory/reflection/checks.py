"""What the model's answers must pass before Memoir keeps them: the model invents, so a summary or a
preference is kept only when the user's own turns, the ones it cites, hold its words.

These checks read text only; prospective.py asks the model and applies them (``validate`` for the
model's summaries, ``stated_preferences`` for its proposals).
"""

from __future__ import annotations

import re
from typing import Any

from memory.llm.repetition import stub_or_loop
from memory.reflection.disclosure import sentences, speaks_to_someone
from memory.reflection.plan import Extracted, Stats
from memory.reflection.requests import is_request_shaped
from memory.store.database import Message
from memory.store.lexical import stems
from memory.store.sources import REFLECTION, USER, is_question

MAX_SUMMARY = 300
# "(\"keep it short\")": the examples a prompt gives in quotes within parentheses
_EXAMPLE = re.compile(r'\("([^"]+)"\)')


def grounding(summary: str, texts: list[str]) -> float:
    """Share of the summary's content words (Porter stems) found in ``texts``."""
    words = stems(summary) - {"user"}
    if not words:
        return 0.0
    seen = set().union(*(stems(text) for text in texts))
    return len(words & seen) / len(words)


def borrowed(text: str, users: list[str], others: list[str]) -> bool:
    """Whether ``text`` has a content word that the other speaker's turns say and no user turn does:
    the reply's words, where a tiny model's inventions are ("Your dog is a Greyhound."), written
    into what Memoir believes about the user."""
    said = set().union(*(stems(t) for t in users))
    heard = set().union(*(stems(t) for t in others))
    return bool((stems(text) - {"user"} - said) & heard)


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


def asks(phrase: str) -> bool:
    """Whether ``phrase`` asks something other than a polite request ("Could you stop adding
    emojis?" is one): a preference is an instruction or a fact, never a question. SmolLM2 proposed
    a user's whole turn, "… Do you think you will get their fudge?", as their preference (MSC check)."""
    return any(part.endswith("?") and not is_request_shaped(part) for part in sentences(phrase))


def tells(message: Message) -> bool:
    """A user turn that can be a preference's evidence: it tells something, or asks for something
    of the answers ("Could you stop adding emojis?"); a plain question is a recall cue, never a fact
    (seen in the app: "What is my dog called?" cited for "My dog is a Greyhound.", the reply's
    invention)."""
    if not is_question(message.content):
        return True
    return any(is_request_shaped(part) for part in sentences(message.content))


def _holds(phrase: str, cited: list[str], window: list[Message], instructions: str) -> bool:
    """Whether the cited user turns hold ``phrase``: most of its words, none of them the reply's
    alone, and not merely one of the prompt's own examples."""
    users = [m.content for m in window if m.role == "user"]
    others = [m.content for m in window if m.role != "user"]
    return (
        grounding(phrase, cited) >= 0.5
        and not borrowed(phrase, users, others)
        and not copies_instructions(phrase, instructions, cited)
    )


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
        cited = [window[r - 1] for r in refs if window[r - 1].role == "user" and tells(window[r - 1])]
        # grounded in the turns it cites, not anywhere in the window: the model cites turns that
        # never said what it wrote, and the cited turns are what the user is shown as its evidence
        if (
            not cited
            or stub_or_loop(phrase, min_words=2)
            or asks(phrase)
            or not _holds(phrase, [m.content for m in cited], window, instructions)
        ):
            continue
        found.append((phrase, str(entry.get("category", "other")), [m.id for m in cited]))
    return found


def merge_holds(merged: str, target: str, window: list[Message]) -> bool:
    """Whether a merged text is held to what a summary is held to: most of its words from the
    user's turns (and the memory merged into), none of them the reply's alone, no stub, no
    question. The model invents while merging too ("a golden retriever")."""
    users = [m.content for m in window if m.role == "user"] + [target]
    others = [m.content for m in window if m.role != "user"]
    return not (
        grounding(merged, users) < 0.5
        or borrowed(merged, users, others)
        or stub_or_loop(merged)
        or is_question(merged)
    )


def recombines(summary: str, said: list[str]) -> bool:
    """Whether every word of a summary comes from the user's kept sentences only taken together:
    it stitches words of several sentences into one claim, which SmolLM2 gets wrong ("My sister Ana
    is a nurse there." and "I live in Lyon." became "I am a nurse, I live in Lyon.", in the app).
    The sentences themselves are kept, in the user's words; a summary of one of them stays."""
    return grounding(summary, said) == 1.0 and all(grounding(summary, [s]) < 1.0 for s in said)


def validate(
    answer: Any, messages: list[Message], seen: set[str], stats: Stats, fallback: bool = True
) -> list[Extracted]:
    """Keep memories that are about the user, grounded in their turns, and new.

    Parsing is not being right: references must name real turns, at least one of them a user's turn
    that tells rather than only asks; a summary must not ask anything or speak to "you" (it would be
    about the other person or the exchange), nor be a stub or a loop, and most of
    its words must come from the user's own turns (more than from the assistant's). When the summary
    fails but its user turns are real, the user's own words become the memory (if ``fallback``): the
    model chose the turns, nothing invented is stored. Without ``fallback`` such a memory is dropped
    (the selector keeps the user's words).
    """
    found = []
    raw = answer.get("memories", []) if isinstance(answer, dict) else []
    other_texts = [m.content for m in messages if m.role != "user"]
    user_texts = [m.content for m in messages if m.role == "user"]
    for entry in raw if isinstance(raw, list) else []:
        summary = " ".join(str(entry.get("summary", "")).split()) if isinstance(entry, dict) else ""
        refs = entry.get("references", []) if isinstance(entry, dict) else []
        turns = sorted({r for r in refs if isinstance(r, int) and 1 <= r <= len(messages)})
        # what the user told, not what they asked: a question is a recall cue, never a fact (seen in
        # the app: "Is my greyhound scared of stairs?" kept as a summary of the user's words)
        own = [
            t for t in turns if messages[t - 1].role == "user" and not is_question(messages[t - 1].content)
        ]
        if not own:
            stats.rejected += 1
            continue
        # grounded in the turns it cites: they are the sources the user is shown for it
        user_share = grounding(summary, [messages[t - 1].content for t in own])
        if (
            is_question(summary)
            or speaks_to_someone(summary)  # held to the selector's rule for the user's sentences
            or stub_or_loop(summary)
            or len(summary) > MAX_SUMMARY
            or user_share < 0.5
            or grounding(summary, other_texts) > user_share
            or borrowed(summary, user_texts, other_texts)
        ):
            if not fallback:
                stats.rejected += 1
                continue
            summary = " ".join(" ".join(messages[t - 1].content.split()) for t in own)[:MAX_SUMMARY]
            stats.fallbacks += 1
            source = USER
        else:
            source = REFLECTION
        key = summary.casefold().rstrip(".")
        if not summary or key in seen:
            stats.rejected += 1
            continue
        seen.add(key)
        stats.valid += 1
        found.append(Extracted(summary, [messages[t - 1].id for t in turns], source))
    return found

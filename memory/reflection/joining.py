"""The user's own sentences gathered into topic memories, still in the user's words.

A sentence the selector keeps (memory/reflection/disclosure.py) joins the memory of the user's words
nearest to it, when it is near enough and the joined text still fits, instead of standing alone: "I've
a lab mix and a collie mix." and "They've been together for about 3 years now." become one memory
about the dogs, as a topic memory in RMM gathers what was said on one topic. The join is made here,
never by the model, so the text stays the user's words (source USER) and nothing invented enters it.
"""

from __future__ import annotations

import numpy as np

from memory.reflection.plan import Extracted, Plan
from memory.retrieval.hybrid import Filters, Retriever
from memory.store.items import TOPIC
from memory.store.sources import USER

# MiniLM cosine of the sentence to a memory's whole text. Chosen on MSC tune (first 40 episodes) with
# bench/tune_profile.py, the selector alone: F1 0.477 -> 0.504, leakage 0.041 -> 0.031, 9.8 -> 6.0
# memories per episode (0.3: 0.499; 0.4: 0.490; 0.6: 0.456, below not joining at all).
JOIN_FLOOR = 0.35
NEAREST = 10  # stored topics looked at; the model's summaries among them are never joined


def join(
    memory: Extracted, plan: Plan, retriever: Retriever, max_chars: int, floor: float = JOIN_FLOOR
) -> bool:
    """Join ``memory`` (a sentence of the user's) into the nearest memory of the user's words, stored
    or added earlier in this job, whose joined text fits ``max_chars``. False when there is none
    ``floor`` alike: the caller adds it as a memory of its own."""
    targets = [
        (key, text)
        for key, text in _users_words(memory.summary, plan, retriever)
        if len(text) + 1 + len(memory.summary) <= max_chars
    ]
    if not targets:
        return False
    vectors = np.asarray(retriever.embedder.embed([memory.summary, *(text for _, text in targets)]))
    sims = vectors[1:] @ vectors[0]
    best = int(np.argmax(sims))
    if sims[best] < floor:
        return False
    key, text = targets[best]
    plan.merge(key, Extracted(f"{text} {memory.summary}", [], USER), memory)
    plan.stats.joined += 1
    return True


def _users_words(text: str, plan: Plan, retriever: Retriever) -> list[tuple[int | str, str]]:
    """Memories that will hold only the user's own words once ``plan`` is applied, with that text:
    the stored topics nearest ``text`` and this job's adds. The user's edits are not joined to."""
    near = retriever.dense(text, NEAREST, Filters(kinds=(TOPIC,)))
    stored = retriever.items.many([i for i, _ in near])
    found: list[tuple[int | str, str]] = []
    for item_id, _ in near:
        item = stored.get(item_id)
        if item is None or item.user_edited:
            continue
        planned = plan.merges.get(item_id)
        source = planned.source if planned is not None else item.source
        if source == USER:
            found.append((item_id, plan.text_of(item_id, item.text)))
    found += [(str(n), add.summary) for n, add in enumerate(plan.adds) if add.source == USER]
    return found

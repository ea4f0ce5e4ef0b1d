"""The user's own sentences gathered into topic memories, still in the user's words.

A sentence the selector keeps (memory/reflection/disclosure.py) joins the memory of the user's words
nearest to it, when it is near enough and the joined text still fits, instead of standing alone: "I've
a lab mix and a collie mix." and "They've been together for about 3 years now." become one memory
about the dogs, as a topic memory in RMM gathers what was said on one topic. The join is made here,
never by the model, so the text stays the user's words (source USER) and nothing invented enters it.
"""

from __future__ import annotations

import numpy as np

from memory.embed.minilm import Embedder
from memory.reflection.plan import Extracted, Plan
from memory.retrieval.hybrid import Filters, Retriever
from memory.store.items import TOPIC
from memory.store.sources import USER

# MiniLM cosine of the sentence to a memory's whole text. Chosen on MSC tune (first 40 episodes) with
# bench/tune_profile.py, the selector alone: F1 0.477 -> 0.504, leakage 0.041 -> 0.031, 9.8 -> 6.0
# memories per episode (0.3: 0.499; 0.4: 0.490; 0.6: 0.456, below not joining at all).
JOIN_FLOOR = 0.35
NEAREST = 10  # stored topics looked at; the model's summaries among them are never joined


def nearby(
    text: str, plan: Plan, retriever: Retriever, edited: bool = False
) -> list[tuple[int | str, str, str]]:
    """The memories ``text`` may repeat or join, as ``plan`` would leave them: (key, text, source)
    of the stored topics nearest it and of this job's adds. The user's edits are left out unless
    ``edited``: they are never merged over."""
    near = retriever.dense(text, NEAREST, Filters(kinds=(TOPIC,)))
    stored = retriever.items.many([i for i, _ in near])
    found: list[tuple[int | str, str, str]] = []
    for item_id, _ in near:
        item = stored.get(item_id)
        if item is None or (item.user_edited and not edited):
            continue
        planned = plan.merges.get(item_id)
        source = planned.source if planned is not None else item.source
        found.append((item_id, plan.text_of(item_id, item.text), source))
    return found + [(str(n), add.summary, add.source) for n, add in enumerate(plan.adds)]


def join(
    memory: Extracted,
    near: list[tuple[int | str, str, str]],
    plan: Plan,
    embedder: Embedder,
    max_chars: int,
    floor: float = JOIN_FLOOR,
) -> bool:
    """Join ``memory`` (a sentence of the user's) into the most alike of the ``near`` memories that
    hold only the user's words and still fit ``max_chars`` once joined. False when none is ``floor``
    alike: the caller adds it as a memory of its own."""
    targets = [
        (key, text)
        for key, text, source in near
        if source == USER and len(text) + 1 + len(memory.summary) <= max_chars
    ]
    if not targets:
        return False
    vectors = np.asarray(embedder.embed([memory.summary, *(text for _, text in targets)]))
    sims = vectors[1:] @ vectors[0]
    best = int(np.argmax(sims))
    if sims[best] < floor:
        return False
    key, text = targets[best]
    plan.merge(key, Extracted(f"{text} {memory.summary}", [], USER), memory)
    plan.stats.joined += 1
    return True

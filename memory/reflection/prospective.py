"""Prospective reflection (RMM): a finished session becomes topic memories, added or merged.

The model reads numbered turns and answers in JSON constrained by a schema, so even a tiny model's
output parses; then everything is validated here, because parsing is not the same as being right.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from memory.llm.engine import ChatModel
from memory.reflection.checks import (
    MAX_SUMMARY,
    merge_holds,
    recombines,
    stated_preferences,
    validate,
)
from memory.reflection.disclosure import DisclosureSelector, sentences
from memory.reflection.joining import JOIN_FLOOR, join, nearby
from memory.reflection.plan import Extracted, Plan
from memory.reflection.requests import Request, RequestSelector, as_preference
from memory.reflection.schemas import EXTRACT_SCHEMA, PREFERENCE_SCHEMA, UPDATE_SCHEMA
from memory.retrieval.hybrid import Filters, Retriever
from memory.runtime.resources import prompt
from memory.runtime.text import fence_safe, fill
from memory.store.database import Message
from memory.store.items import TOPIC
from memory.store.sources import USER

CANDIDATES = 5
# Only memories at least this similar (MiniLM cosine) are shown to the model as merge candidates; the
# profile benchmark treats 0.6 as "the same fact". Below it the answer is Add, without asking.
MERGE_FLOOR = 0.6


def numbered(messages: list[Message], speakers: dict[str, str]) -> str:
    return "\n".join(
        f"{n}. {speakers.get(m.role, m.role)}: {fence_safe(' '.join(m.content.split()))}"
        for n, m in enumerate(messages, 1)
    )


def _same(a: str, b: str) -> bool:
    """The same words, ignoring case and punctuation."""
    return re.findall(r"\w+", a.casefold()) == re.findall(r"\w+", b.casefold())


class Reflector:
    """Runs extraction and update with a model; knows nothing about jobs or transactions.

    With a ``selector``, the user's own self-disclosing sentences become memories next to the model's
    validated summaries (and a summary that fails validation is dropped rather than replaced); a
    sentence near a memory of the user's words joins it (``join_floor``, memory/reflection/joining.py).
    With ``requests``, what the user asked of every answer is proposed as a preference in their words
    next to the model's proposals (memory/reflection/requests.py).
    """

    def __init__(
        self,
        model: ChatModel,
        retriever: Retriever,
        speakers: dict[str, str] | None = None,
        max_tokens: int = 600,  # room for the longest answer the schema allows
        selector: DisclosureSelector | None = None,
        merge_floor: float = MERGE_FLOOR,
        learn_preferences: bool = False,
        join_floor: float | None = JOIN_FLOOR,
        requests: RequestSelector | None = None,
    ) -> None:
        self.model = model
        self.retriever = retriever
        self.speakers = speakers or {"user": "User", "assistant": "Assistant"}
        self.max_tokens = max_tokens
        self.selector = selector
        self.merge_floor = merge_floor
        self.learn_preferences = learn_preferences
        self.join_floor = join_floor  # None: each kept sentence of the user's is a memory of its own
        self.requests = requests  # the user's standing requests, proposed in their words

    def windows(self, messages: list[Message]) -> list[list[Message]]:
        """Consecutive slices whose prompt leaves room for the answer in the model's context."""
        budget = self.model.n_ctx - self.max_tokens - 400  # 400: the instructions around the turns
        out: list[list[Message]] = []
        current: list[Message] = []
        used = 0
        for message in messages:
            cost = self.model.count_tokens(message.content) + 8
            if current and used + cost > budget:
                out.append(current)
                current, used = [], 0
            current.append(message)
            used += min(cost, budget)
        return [*out, current] if current else out

    def plan(self, messages: list[Message], should_stop: Callable[[], bool] = lambda: False) -> Plan:
        result = Plan()
        seen: set[str] = set()
        for window in self.windows(messages):
            result.stats.windows += 1
            text = fill(prompt("extract"), turns=numbered(window, self.speakers))
            answer = self.model.complete_json(
                [{"role": "user", "content": text}],
                EXTRACT_SCHEMA,
                max_tokens=self.max_tokens,
                should_stop=should_stop,
            )
            result.stats.extractions += 1
            statements = self.selector.select(window) if self.selector else []
            said = [s.text for s in statements]
            asked = self.requests.select(window) if self.requests and self.learn_preferences else []
            found = validate(answer, window, seen, result.stats, fallback=self.selector is None)
            for memory in found:  # the model's summaries: added, or merged where the model says so
                if recombines(memory.summary, said):
                    result.stats.covered += 1
                    continue
                self._decide(memory, result, should_stop, window)
            for statement in statements:
                if any(_same(statement.text, as_preference(r.text)) for r in asked):
                    continue  # a request of the user's is a preference, not a fact about them
                key = statement.text.casefold().rstrip(".")
                if key not in seen:
                    seen.add(key)
                    result.stats.statements += 1
                # a repeat too: its turn becomes a source, and a summary that copied it is theirs
                self._gather(Extracted(statement.text, [statement.message_id], USER), result)
            if self.learn_preferences:
                self._preferences(window, result, should_stop, asked)
        return result

    def _preferences(
        self, window: list[Message], plan: Plan, should_stop: Callable[[], bool], asked: list[Request]
    ) -> None:
        """Preferences stated in the window: grounded in the user's own turns, like memories."""
        instructions = prompt("preferences")
        text = fill(instructions, turns=numbered(window, self.speakers))
        answer = self.model.complete_json(
            [{"role": "user", "content": text}], PREFERENCE_SCHEMA, max_tokens=400, should_stop=should_stop
        )
        # a fact a memory already holds is not asked about again as a preference (one fact, one place)
        found = [f for f in stated_preferences(answer, window, instructions) if not self._held(f[0], plan)]
        for request in asked:
            found.append((as_preference(request.text), request.category, [request.message_id]))
        plan.preferences += found
        plan.stats.preferences += len(found)

    def _held(self, text: str, plan: Plan) -> bool:
        """Whether a memory (stored, or this job's) has a sentence that says the same (MiniLM cosine
        at least MERGE_FLOOR, the profile benchmark's "same fact")."""
        near = nearby(text, plan, self.retriever, edited=True)  # a memory the user wrote holds it too
        held = [s for _, memory, _ in near for s in sentences(memory)]
        if not held:
            return False
        vectors = np.asarray(self.retriever.embedder.embed([text, *held]))
        return bool((vectors[1:] @ vectors[0]).max() >= self.merge_floor)

    def _gather(self, statement: Extracted, plan: Plan) -> None:
        """The user's own sentence: a repeat only adds its source; otherwise it joins the nearest
        memory of the user's words (memory/reflection/joining.py) or stands as a memory of its own.
        The model is never asked to rewrite the user's words."""
        near = nearby(statement.summary, plan, self.retriever)  # one search for both questions
        same = next(((key, text) for key, text, _ in near if _same(text, statement.summary)), None)
        if same is not None:
            plan.merge(same[0], Extracted(same[1], [], USER), statement)
        elif self.join_floor is None or not join(
            statement, near, plan, self.retriever.embedder, MAX_SUMMARY, self.join_floor
        ):
            plan.adds.append(statement)
            plan.stats.added += 1

    def _decide(
        self, memory: Extracted, plan: Plan, should_stop: Callable[[], bool], window: list[Message]
    ) -> None:
        candidates = self._candidates(memory, plan)
        if not candidates:
            plan.adds.append(memory)
            plan.stats.added += 1
            return
        same = next(((key, text) for key, text in candidates if _same(text, memory.summary)), None)
        if same is not None:  # already known, word for word: only its sources grow, no question asked
            plan.merge(same[0], Extracted(same[1], [], memory.source), memory)
            return
        listing = "\n".join(f"{n}. {fence_safe(text)}" for n, (_, text) in enumerate(candidates, 1))
        text = fill(prompt("update"), candidates=listing, memory=fence_safe(memory.summary))
        answer = self.model.complete_json(
            [{"role": "user", "content": text}], UPDATE_SCHEMA, max_tokens=160, should_stop=should_stop
        )
        index = answer.get("index") if isinstance(answer, dict) else None
        merged = " ".join(str(answer.get("merged_summary", "")).split()) if isinstance(answer, dict) else ""
        valid_merge = (
            isinstance(answer, dict)
            and answer.get("action") == "Merge"
            and isinstance(index, int)
            and 1 <= index <= len(candidates)
            and 0 < len(merged) <= MAX_SUMMARY
        )
        if not valid_merge:  # a merge into nothing, or with no text, is an add: nothing is lost
            plan.adds.append(memory)
            plan.stats.added += 1
            return
        assert isinstance(index, int)
        key, target = candidates[index - 1]
        if not merge_holds(merged, target, window):
            plan.adds.append(memory)
            plan.stats.added += 1
            plan.stats.unmerged += 1
            return
        plan.merge(key, Extracted(merged, []), memory)

    def _candidates(self, memory: Extracted, plan: Plan) -> list[tuple[int | str, str]]:
        """The most similar topic memories (as this job would leave them, its own adds included),
        most similar first, at least ``merge_floor`` alike: nothing alike means a plain Add."""
        near = self.retriever.dense(memory.summary, CANDIDATES, Filters(kinds=(TOPIC,)))
        existing = self.retriever.items.many([i for i, _ in near])
        scored: list[tuple[float, int | str, str]] = [
            (sim, i, plan.merges[i].summary if i in plan.merges else existing[i].text)
            for i, sim in near
            if i in existing and not existing[i].user_edited  # the user's own text is not merged over
        ]
        if plan.adds:
            vectors = np.asarray(
                self.retriever.embedder.embed([memory.summary, *(a.summary for a in plan.adds)])
            )
            sims = vectors[1:] @ vectors[0]
            scored += [
                (float(sim), str(n), add.summary)
                for n, (sim, add) in enumerate(zip(sims, plan.adds, strict=True))
            ]
        scored.sort(key=lambda c: -c[0])
        return [(key, text) for sim, key, text in scored if sim >= self.merge_floor][:CANDIDATES]


def reflector(
    model: ChatModel, retriever: Retriever, speakers: dict[str, str] | None = None, preferences: bool = True
) -> Reflector:
    """The reflector the app uses: the model's summaries, the user's own self-disclosures, and
    (``preferences``) the preferences the user stated."""
    return Reflector(
        model,
        retriever,
        speakers,
        selector=DisclosureSelector(retriever.embedder),
        learn_preferences=preferences,
        requests=RequestSelector(retriever.embedder),
    )

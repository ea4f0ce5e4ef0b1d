"""What a reflection job will write: memories to add, merges into stored ones, proposed preferences.

Built by the reflector (memory/reflection/prospective.py) and applied in one transaction by the jobs
(memory/reflection/jobs.py), so a crash applies none of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from memory.store.sources import REFLECTION, USER


@dataclass
class Extracted:
    summary: str
    message_ids: list[int]
    source: str = REFLECTION  # USER when the text is the user's own words (a fallback or a statement)
    # of a merge into a stored memory: the memories merged in, each as it was. They are added alone
    # instead if the user forgets the stored memory before the job is applied, so that none of its
    # words come back inside a merged text.
    parts: list[Extracted] = field(default_factory=list)


@dataclass
class Stats:
    windows: int = 0
    extractions: int = 0  # model answers
    valid: int = 0  # memories that passed validation
    rejected: int = 0
    fallbacks: int = 0  # summaries replaced by the user's own words (see validate)
    statements: int = 0  # the user's own self-disclosures kept (see memory/reflection/disclosure.py)
    joined: int = 0  # of those, joined to a memory of the user's words (memory/reflection/joining.py)
    unmerged: int = 0  # model merges refused as not grounded in the user's words (added instead)
    covered: int = 0  # summaries dropped: they stitched several of the user's kept sentences together
    preferences: int = 0  # preferences proposed (validated)
    added: int = 0
    merged: int = 0


@dataclass
class Plan:
    """What a job will write, applied in one transaction (so a crash applies none of it)."""

    adds: list[Extracted] = field(default_factory=list)
    merges: dict[int, Extracted] = field(default_factory=dict)  # target item id -> merged memory
    preferences: list[tuple[str, str, list[int]]] = field(default_factory=list)  # text, category, messages
    stats: Stats = field(default_factory=Stats)

    def text_of(self, key: int | str, stored: str) -> str:
        """The text a memory will have once this plan is applied (``stored``: its text now)."""
        if isinstance(key, str):
            return self.adds[int(key)].summary
        return self.merges[key].summary if key in self.merges else stored

    def merge(self, key: int | str, merged: Extracted, original: Extracted) -> None:
        """Merge ``original`` into a stored item (``key`` its id) or into an add planned earlier in
        this job (``key`` its index as a string); ``merged`` holds the text they make together and
        whose words it is."""
        self.stats.merged += 1
        if isinstance(key, str):
            target = self.adds[int(key)]
            if target.summary != merged.summary or merged.source == USER:
                target.source = merged.source  # new words, or the same words found in the user's turn
            target.summary = merged.summary
            target.message_ids = sorted({*target.message_ids, *original.message_ids})
            return
        previous = self.merges.get(key)  # two merges into one target: the second builds on the first
        refs = {*original.message_ids, *(previous.message_ids if previous else [])}
        # a repeat of text merged earlier in this job keeps whose words that text is
        same = previous is not None and previous.summary == merged.summary
        source = previous.source if previous is not None and same and merged.source != USER else merged.source
        parts = [*(previous.parts if previous else []), original]
        self.merges[key] = Extracted(merged.summary, sorted(refs), source, parts)

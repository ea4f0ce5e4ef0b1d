"""The answer coverage that chooses the memory notes' length."""

from __future__ import annotations

from memory.evaluation.block_size import coverage


def test_coverage_counts_the_answers_stemmed_content_words() -> None:
    assert coverage("a parrot", ["I adopted parrots."]) == 1.0
    assert coverage("the radio news", ["It whistles the radio tune."]) == 0.5
    assert coverage("the", ["anything"]) is None  # nothing to find: left out, not counted as 0

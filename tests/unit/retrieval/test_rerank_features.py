"""The reranker's question-memory features say what they claim."""

from __future__ import annotations

import numpy as np

from memory.retrieval.rerank_features import COUNT, NAMES, features


def row(question: str, text: str, speaker: str | None = None) -> dict[str, float]:
    got = features(question, [(text, speaker)], np.array([0.7]), np.array([0.4]))
    assert got.shape == (1, COUNT)
    return dict(zip(NAMES, got[0], strict=True))


def test_a_when_question_favours_memories_with_a_time() -> None:
    timed = row("When did Caroline go to the support group?", "I went to the group yesterday.")
    untimed = row("When did Caroline go to the support group?", "The group was lovely.")
    not_when = row("Why did Caroline go to the support group?", "I went to the group yesterday.")
    assert (
        timed["a date or time, when asked when"] == 1.0 and untimed["a date or time, when asked when"] == 0.0
    )
    assert not_when["a date or time, when asked when"] == 0.0 and not_when["mentioning a date or time"] == 1.0


def test_speaker_asked_about_by_name_or_in_the_first_person() -> None:
    assert (
        row("What does Melanie paint?", "Sunsets, mostly.", "Melanie")["said by the person asked about"] == 1
    )
    assert (
        row("What does Melanie paint?", "Sunsets, mostly.", "Caroline")["said by the person asked about"] == 0
    )
    assert (
        row("What is my dog called?", "She is called Biscuit.", "User")["said by the person asked about"] == 1
    )
    assert row("What is my dog called?", "Biscuit!", "Assistant")["said by the person asked about"] == 0


def test_shared_words_ignore_function_words_and_case() -> None:
    got = row("What did the kids paint at the Lake?", "The KIDS painted the lake")
    assert (
        got["words shared with the question"] == 2 / 3
    )  # kids and lake of {kids, paint, lake}; "painted" is another word
    assert row("Where is it?", "It is there?")["being a question"] == 1.0


def test_carries_the_retrievers_score_cosine_and_position() -> None:
    got = features("q", [("a", None), ("b", None)], np.array([0.9, 0.5]), np.array([0.3, 0.2]))
    assert list(got[:, 0]) == [0.9, 0.5] and list(got[:, 2]) == [0.3, 0.2]
    assert list(got[:, 1]) == [0.0, 0.5]

"""The user's own self-disclosures: sentence picking (rules) and scoring (real MiniLM)."""

from __future__ import annotations

import re

import pytest

from memory.embed.embedders import default_embedder
from memory.reflection.disclosure import THRESHOLD, DisclosureSelector, as_memory, examples, statements
from memory.store.database import Message
from tests.conftest import shared_file


def test_statements_are_first_person_non_questions() -> None:
    text = (
        "Hi! Do you like dogs? I have two greyhounds, and I walk them daily. That sounds fun. My wife knits."
    )
    assert statements(text) == ["I have two greyhounds", "and I walk them daily.", "My wife knits."]


@pytest.mark.parametrize("text", ["", "   ", "Ok.", "Are you sure I can?", "Sounds great to them."])
def test_no_statement_in_small_talk(text: str) -> None:
    assert statements(text) == []


def message(n: int, role: str, text: str) -> Message:
    return Message(
        id=n, conversation_id=1, role=role, content=text, status="done", created_at="", updated_at=""
    )


def test_selector_keeps_self_disclosure_from_the_user_only() -> None:
    selector = DisclosureSelector(default_embedder())
    picked = selector.select(
        [
            message(1, "user", "I work night shifts at the hospital. I guess it is what it is."),
            message(2, "assistant", "I have a cat named Tom."),  # the assistant's life is not the user's
            message(3, "user", "My daughter just started playing the violin."),
        ]
    )
    texts = {s.text: s.message_id for s in picked}
    assert texts.get("I work night shifts at the hospital.") == 1
    assert texts.get("My daughter just started playing the violin.") == 3
    assert "I have a cat named Tom." not in texts
    assert "I guess it is what it is." not in texts


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


@pytest.mark.parametrize("name", ["self_disclosure.txt", "small_talk.txt"])
def test_no_example_comes_from_the_benchmark_data(name: str) -> None:
    """The examples are Memoir's own: none occurs, even inside a longer line, in LoCoMo or MSC."""
    data = " ".join(
        _words(shared_file(f"bench/{file}").read_text(encoding="utf-8"))
        for file in ("locomo_dev.json", "msc_profiles_dev.jsonl")
    )
    lines = examples(name)
    assert len(lines) >= 20
    assert [line for line in lines if f" {_words(line)} " in f" {data} "] == []


def test_a_sentence_to_you_is_no_self_disclosure() -> None:
    assert statements("I love your garden. I grow roses myself. I hope you like it.") == [
        "I grow roses myself."
    ]


def test_small_talk_scores_below_a_statement_about_oneself() -> None:
    selector = DisclosureSelector(default_embedder(), threshold=float("-inf"))
    picked = selector.select(
        [message(1, "user", "I am sure it will be fine. I work as a welder in a shipyard.")]
    )
    scores = {s.text: s.score for s in picked}
    assert scores["I work as a welder in a shipyard."] > THRESHOLD > scores["I am sure it will be fine."]


def test_a_clause_is_kept_as_a_memory_that_reads_on_its_own() -> None:
    assert as_memory("and I walk them daily.") == "I walk them daily."
    assert as_memory("But my sister lives in Lisbon.") == "My sister lives in Lisbon."
    assert as_memory("Sometimes I bake bread.") == "Sometimes I bake bread."  # only a joining word goes


def test_a_clause_that_points_back_into_a_sentence_to_you_is_not_kept_alone() -> None:
    text = "Please keep your answers short, I read them on my phone. Your tips were great, I grow basil now."
    assert statements(text) == ["I grow basil now."]
    assert statements("I love this book, I read it twice.") == ["I love this book", "I read it twice."]

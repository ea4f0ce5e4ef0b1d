"""The user's own self-disclosures: sentence picking (rules) and scoring (real MiniLM)."""

from __future__ import annotations

import pytest

from memory.embed.embedders import default_embedder
from memory.reflection.disclosure import DisclosureSelector, statements
from memory.store.database import Message


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

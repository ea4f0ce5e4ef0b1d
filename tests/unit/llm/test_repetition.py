"""Replies that loop are stopped and trimmed; ordinary replies, even repetitive ones, are not."""

from __future__ import annotations

import pytest

from memory.answering.chat import ChatService
from memory.llm.repetition import degenerate, runaway, trim
from memory.runtime.settings import Settings
from memory.store.database import Store
from tests.fake_model import FakeChatModel

LOOP = "Octopuses have three hearts. EXTENDED-EXTENDED-EXTENDED-EXTENDED-EXTENDED-EXTENDED-EXTENDED-EXTENDED-"


@pytest.mark.parametrize(
    ("text", "loops"),
    [
        (LOOP, True),
        ("I love golf, I love golf, I love golf, I love golf", True),
        ("This is a reminder that there's always something you can do.\n\n" * 4, True),  # 12 words
        ("Boil the water, add the egg, wait nine minutes, then cool it. Very very good.", False),
        ("Monday, Tuesday, Wednesday, Thursday, Friday, Saturday and Sunday.", False),
        ("ha ha ha", False),  # too short to call a loop
        ("Tea. " * 3, False),
    ],
)
def test_runaway(text: str, loops: bool) -> None:
    assert runaway(text) is loops


def test_trim_keeps_the_first_copy() -> None:
    assert trim(LOOP) == "Octopuses have three hearts. EXTENDED"
    assert trim("I love golf, I love golf, I love golf, I love golf") == "I love golf"
    assert trim("Nothing loops here.") == "Nothing loops here."


def test_degenerate_judges_finished_replies() -> None:
    assert degenerate(LOOP + " And then it ended.", truncated=False)  # a loop in the middle
    cut = "the cat sat on the mat and the cat sat on the mat and then the cat sat on the mat"
    assert degenerate(cut, truncated=True) and not degenerate(cut, truncated=False)
    assert not degenerate("A short, plain answer about boiling eggs.", truncated=True)


def test_a_looping_reply_is_stopped_trimmed_and_kept_as_complete(store: Store) -> None:
    chat = ChatService(store)
    conv = store.create_conversation()
    chat.send(conv.id, "Tell me a fun fact.")
    words = "Octopuses have three hearts. " + "EXTENDED " * 200
    result = chat.reply(conv.id, FakeChatModel([words]), Settings(max_tokens=400))
    assert result.message.content == "Octopuses have three hearts. EXTENDED"
    assert result.message.status == "complete"
    assert result.stats.looped and not result.stats.stopped
    assert result.stats.completion_tokens < 20  # stopped at the loop, not at the token limit

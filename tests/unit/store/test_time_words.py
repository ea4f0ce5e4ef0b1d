"""Time expressions resolved against the day a message was written."""

from __future__ import annotations

from datetime import date

import pytest

from memory.retrieval.service import MemoryService
from memory.store.database import Store
from memory.store.time_words import day_name, resolved
from tests.fakes import FakeEmbedder

MONDAY = date(2023, 5, 8)  # 8 May 2023 was a Monday


@pytest.mark.parametrize(
    ("text", "written", "expected"),
    [
        ("We went camping yesterday!", MONDAY, "(on 7 May 2023)"),
        ("Last weekend we painted a sunset", MONDAY, "(on 1 May 2023)"),
        ("I saw it last week", date(2023, 3, 3), "(on 24 February 2023)"),
        ("last Friday was my first class", MONDAY, "(on 5 May 2023)"),
        ("last Monday too", MONDAY, "(on 1 May 2023)"),  # a week back, never the day itself
        ("three days ago I started", MONDAY, "(on 5 May 2023)"),
        ("It arrived 2 days ago", date(2024, 1, 1), "(on 30 December 2023)"),
        ("Last month I moved", date(2023, 3, 15), "(on 28 February 2023)"),
        ("This morning I ran 5k", MONDAY, "(on 8 May 2023)"),
        ("Yesterday and today", MONDAY, "(on 7 May 2023) (on 8 May 2023)"),
        ("I love Sundays and days off", MONDAY, ""),  # no day named
        ("ten days ago, or so", MONDAY, ""),  # vague spans are left alone
        ("the yesterdays of my youth", MONDAY, "(on 7 May 2023)"),  # a substring rule, measured so
    ],
)
def test_phrases_resolve_to_the_days_they_name(text: str, written: date, expected: str) -> None:
    assert resolved(text, written) == expected


def test_day_names_have_no_leading_zero() -> None:
    assert day_name(date(2023, 6, 3)) == "3 June 2023"


def test_a_turn_is_indexed_under_the_day_its_words_name(store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    memory = MemoryService(store, tmp_path / "index", FakeEmbedder())
    conv = store.create_conversation()
    message = store.add_message(
        conv.id, "user", "We went camping yesterday", created_at="2023-05-08T14:00:00"
    )
    item_id = memory.remember_message(message)
    assert item_id is not None
    assert memory.items.get(item_id).index_text.endswith("(on 7 May 2023)")
    assert memory.items.get(item_id).embed_text == "User: We went camping yesterday"  # vectors unchanged
    hits = memory.items.search_bm25("camping in May 2023", 5)
    assert [i for i, _ in hits] == [item_id]


def test_the_day_is_the_users_not_utcs(store: Store, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import time

    monkeypatch.setenv("TZ", "Europe/Lisbon")  # UTC+1 in summer
    time.tzset()
    try:
        memory = MemoryService(store, tmp_path / "index", FakeEmbedder())
        conv = store.create_conversation()
        # 23:30 UTC on 8 May is 00:30 on 9 May in Lisbon: "yesterday" is the 8th
        late = store.add_message(conv.id, "user", "I ran yesterday", created_at="2023-05-08T23:30:00+00:00")
        item_id = memory.remember_message(late)
        assert item_id is not None
        assert memory.items.get(item_id).index_text.endswith("(on 8 May 2023)")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()

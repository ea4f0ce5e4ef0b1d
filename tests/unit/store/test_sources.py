"""Whose words a memory holds: told on the way in, through migration, reflection, export and import."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from memory.reflection.jobs import ReflectionJobs
from memory.reflection.prospective import Reflector
from memory.retrieval.service import MemoryService
from memory.store import migrations, sources
from memory.store.database import Store
from memory.store.items import TOPIC, TURN
from tests.fake_model import FakeChatModel
from tests.fakes import FakeEmbedder


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("What is my dog called?", True),
        ("where do I work", True),
        ("Can you remind me what I said about Porto?", True),
        ("I have a beagle called Biscuit.", False),
        ("I moved to Lisbon. Where should I eat?", False),
        ("Do you know that I have a beagle?", False),
        ("Tell me a fun fact.", True),
        ("Biscuit loves the beach!", False),
        ("", False),
    ],
)
def test_questions_are_told_from_statements(text: str, question: bool) -> None:
    assert sources.is_question(text) is question


def test_asking_what_memoir_said_is_recognised() -> None:
    assert sources.asks_about_memoir("What did you tell me about my dog?")
    assert sources.asks_about_memoir("you said something about Porto, what was it?")
    assert not sources.asks_about_memoir("What is my dog called?")


def test_every_turn_gets_the_source_of_who_said_it(store: Store, tmp_path: Path) -> None:
    memory = MemoryService(store, tmp_path / "index", FakeEmbedder())
    conv = store.create_conversation()
    said = {
        "user": store.add_message(conv.id, "user", "I have a beagle called Biscuit."),
        "assistant": store.add_message(conv.id, "assistant", "He's a golden retriever with a fluffy coat."),
        "question": store.add_message(conv.id, "user", "What is my dog called?"),
    }
    for expected, message in said.items():
        item_id = memory.remember_message(message)
        assert item_id is not None and memory.items.get(item_id).source == expected
    memory.close()


def _old_store(path: Path) -> sqlite3.Connection:
    """A database as it stood before sources were kept (migrations 001-008), with data."""
    conn = sqlite3.connect(path, isolation_level=None)
    migrations.apply(conn, migrations.MIGRATIONS[:8])
    stamp = "2026-01-01T00:00:00"
    conn.execute(
        "INSERT INTO conversations (title, created_at, updated_at) VALUES ('c', ?, ?)", (stamp, stamp)
    )
    rows = [("user", "I have a beagle."), ("assistant", "Lovely dog!"), ("user", "What is my dog called?")]
    for n, (role, text) in enumerate(rows, 1):
        conn.execute(
            "INSERT INTO messages (conversation_id, role, content, created_at, updated_at)"
            " VALUES (1, ?, ?, ?, ?)",
            (role, text, stamp, stamp),
        )
        conn.execute(
            "INSERT INTO memory_items (kind, text, index_text, embed_text, conversation_id, message_ids,"
            " speaker, occurred_at, created_at, updated_at) VALUES ('turn', ?, ?, ?, 1, ?, ?, ?, ?, ?)",
            (text, text, text, json.dumps([n]), role.title(), stamp, stamp, stamp),
        )
        conn.execute("INSERT INTO memory_item_messages VALUES (?, ?)", (n, n))
    for text, edited in (("The user has a beagle.", 0), ("My dog is a beagle called Biscuit.", 1)):
        conn.execute(
            "INSERT INTO memory_items (kind, text, index_text, embed_text, message_ids, occurred_at,"
            " created_at, updated_at, user_edited) VALUES ('topic', ?, ?, ?, '[1]', ?, ?, ?, ?)",
            (text, text, text, stamp, stamp, stamp, edited),
        )
    conn.execute(
        "INSERT INTO receipts (reply_id, position, item_id, kind, text, cited)"
        " VALUES (2, 1, 1, 'turn', 'x', 1)"
    )
    return conn


def test_the_migration_tells_existing_items_apart(tmp_path: Path) -> None:
    _old_store(tmp_path / "old.db").close()
    store = Store(tmp_path / "old.db")
    found = {r["text"]: r["source"] for r in store.query("SELECT text, source FROM memory_items")}
    assert found == {
        "I have a beagle.": sources.USER,
        "Lovely dog!": sources.ASSISTANT,
        "What is my dog called?": sources.QUESTION,
        "The user has a beagle.": sources.REFLECTION,
        "My dog is a beagle called Biscuit.": sources.EDIT,
    }
    receipt = store.query("SELECT source, how FROM receipts")[0]
    assert receipt == {"source": sources.USER, "how": "cited by the reply"}
    store.close()


def test_reflection_marks_the_users_own_words_and_its_own_summaries(store: Store, tmp_path: Path) -> None:
    memory = MemoryService(store, tmp_path / "index", FakeEmbedder())
    conv = store.create_conversation()
    for role, text in (
        ("user", "I work night shifts as a nurse and I have a beagle called Biscuit"),
        ("assistant", "Night shifts sound tiring! Biscuit must keep you company."),
    ):
        memory.remember_message(store.add_message(conv.id, role, text))
    memory.indexer.sync()
    model = FakeChatModel()
    model.default_json = {
        "memories": [
            {"summary": "The user works night shifts as a nurse", "references": [1]},
            {"summary": "Biscuit keeps the user company at night", "references": [2]},  # Memoir's words
        ]
    }
    jobs = ReflectionJobs(store, memory.items)
    job = jobs.enqueue(conv.id)
    assert job is not None
    jobs.run(job, Reflector(model, memory.retriever))
    topics = {
        r["text"]: r["source"]
        for r in store.query("SELECT text, source FROM memory_items WHERE kind = ?", (TOPIC,))
    }
    assert topics["The user works night shifts as a nurse"] == sources.REFLECTION
    assert "Biscuit keeps the user company at night" not in topics  # grounded in Memoir's reply only
    memory.close()


def test_export_and_import_keep_sources_and_infer_them_for_old_exports(store: Store, tmp_path: Path) -> None:
    from memory.store.export import snapshot
    from memory.store.importer import apply

    memory = MemoryService(store, tmp_path / "index", FakeEmbedder())
    conv = store.create_conversation()
    for role, text in (("user", "I have a beagle."), ("assistant", "Lovely dog!"), ("user", "Is it sunny?")):
        memory.remember_message(store.add_message(conv.id, role, text))
    memory.close()
    data = snapshot(store)
    expected = [sources.ASSISTANT, sources.QUESTION, sources.USER]
    for name, exported in (("same.db", data), ("old.db", _without_sources(data))):
        fresh = Store(tmp_path / name)
        apply(fresh, json.loads(json.dumps(exported)))
        found = fresh.query("SELECT source FROM memory_items WHERE kind = ?", (TURN,))
        assert sorted(r["source"] for r in found) == expected, name
        fresh.close()


def _without_sources(data: dict) -> dict:  # type: ignore[type-arg]
    """An export written before sources were kept."""
    old = json.loads(json.dumps(data))
    for memory in old["memories"]:
        del memory["source"]
    return old

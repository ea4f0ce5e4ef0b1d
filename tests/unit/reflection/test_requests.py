"""What the user asks of every answer becomes a proposed preference in their words (real MiniLM)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from memory.embed.embedders import default_embedder
from memory.preferences.preference_store import PreferenceStore
from memory.reflection.disclosure import DisclosureSelector, examples
from memory.reflection.prospective import Reflector
from memory.reflection.requests import RequestSelector, as_preference, is_request_shaped, requests_examples
from memory.retrieval.service import MemoryService
from memory.store.database import Message, Store
from tests.conftest import shared_file
from tests.fake_model import FakeChatModel
from tests.fakes import FakeEmbedder
from tests.reflecting import reflect_on

LABELLED = Path(__file__).resolve().parents[3] / "bench" / "data" / "answer_requests.jsonl"


def message(n: int, role: str, text: str) -> Message:
    return Message(
        id=n, conversation_id=1, role=role, content=text, status="done", created_at="", updated_at=""
    )


@pytest.mark.parametrize(
    ("sentence", "shaped"),
    [
        ("Please keep your answers short", True),
        ("When you recommend books, stick to non-fiction.", True),
        ("I'd like you to answer in French from now on.", True),
        ("Could you stop adding emojis to everything?", True),
        ("I grow tomatoes on my balcony.", False),
        ("How are you today?", False),
        ("Stop", False),  # one word
        ("No es cargo for you then hey?", False),  # a question, and not a polite request
    ],
)
def test_a_request_is_said_as_one(sentence: str, shaped: bool) -> None:
    assert is_request_shaped(sentence) is shaped


def test_standing_requests_of_the_user_are_picked_with_a_category() -> None:
    picked = RequestSelector(default_embedder()).select(
        [
            message(1, "user", "Please keep your answers short, I read them on my phone."),
            message(2, "assistant", "Please keep your answers short too!"),  # never the assistant's
            message(3, "user", "Tell me a joke about cats. I grow tomatoes on my balcony."),
            message(4, "user", "From now on, call me Sam."),
        ]
    )
    assert [(r.text, r.message_id) for r in picked] == [
        ("Please keep your answers short", 1),
        ("From now on, call me Sam.", 4),
    ]
    assert picked[0].category == "style"


def test_a_proposal_reads_as_a_sentence() -> None:
    assert as_preference("please keep your answers short") == "Please keep your answers short."
    assert as_preference("Could you stop adding emojis?") == "Could you stop adding emojis?"
    assert as_preference("no emojis please,") == "No emojis please."  # not "please,."


def test_reflection_proposes_the_users_request_in_their_words(store: Store, tmp_path: Path) -> None:
    """SmolLM2 answers the prompt's own example; the user's sentence is proposed instead."""
    memory = MemoryService(store, tmp_path / "index", FakeEmbedder())
    conv = store.create_conversation()
    said = store.add_message(conv.id, "user", "Please keep your answers short, I read them on my phone.").id
    store.add_message(conv.id, "assistant", "Sure!")
    model = FakeChatModel()
    model.json_replies = [
        {"memories": []},
        {"preferences": [{"text": "I'm vegetarian", "category": "style", "references": [1]}]},
    ]
    reflector = Reflector(
        model, memory.retriever, learn_preferences=True, requests=RequestSelector(default_embedder())
    )
    reflect_on(memory, conv.id, reflector)
    [pref] = PreferenceStore(store).all()
    assert (pref.text, pref.category, pref.status, pref.evidence) == (
        "Please keep your answers short.",
        "style",
        "proposed",
        (said,),
    )


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def test_the_examples_are_memoirs_own_and_not_the_labelled_sentences() -> None:
    """None occurs in LoCoMo or MSC, and none is a sentence the constants were chosen or checked on."""
    lines = [text for _, text in requests_examples()] + examples("one_off.txt")
    data = " ".join(
        _words(shared_file(f"bench/{file}").read_text(encoding="utf-8"))
        for file in ("locomo_dev.json", "msc_profiles_dev.jsonl")
    )
    assert len(lines) >= 30
    assert [line for line in lines if f" {_words(line)} " in f" {data} "] == []
    labelled = {_words(json.loads(row).get("text", "")) for row in LABELLED.read_text().splitlines()}
    assert [line for line in lines if _words(line) in labelled] == []
    assert all(category != "other" or "call me" in text.lower() for category, text in requests_examples())


def test_a_request_is_a_preference_and_not_a_memory(store: Store, tmp_path: Path) -> None:
    """Seen in the app: "Please use metric units with me" was also kept as a fact about the user."""
    memory = MemoryService(store, tmp_path / "index", default_embedder())
    conv = store.create_conversation()
    store.add_message(conv.id, "user", "Please use metric units with me, I live in Lyon.")
    store.add_message(conv.id, "assistant", "Sure!")
    model = FakeChatModel()
    model.json_replies = [{"memories": []}, {"preferences": []}]
    embedder = memory.retriever.embedder
    reflector = Reflector(
        model,
        memory.retriever,
        selector=DisclosureSelector(embedder),
        learn_preferences=True,
        requests=RequestSelector(embedder),
    )
    reflect_on(memory, conv.id, reflector)
    rows = store.query("SELECT text FROM memory_items WHERE kind = 'topic'")
    assert [r["text"] for r in rows] == ["I live in Lyon."]
    assert [p.text for p in PreferenceStore(store).all()] == ["Please use metric units with me."]

"""Which shown memories a reply used: citations when the model gives them, its own words otherwise."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from memory.answering.attribution import Decision, attribute
from memory.answering.chat import ChatService
from memory.answering.recall_service import Recall
from memory.retrieval.service import MemoryService
from memory.runtime.settings import Settings
from memory.store.database import Store
from tests.fake_model import FakeChatModel
from tests.fakes import FakeEmbedder

MEMORIES = [
    "I have a beagle called Biscuit and she loves the beach.",
    "I work night shifts as a nurse at the city hospital.",
    "My sister lives in Porto and teaches piano.",
]
QUESTION = "What is my dog called?"


def bag_similarity(sentences: list[str], memories: list[str]) -> np.ndarray:
    embed = FakeEmbedder().embed
    return np.asarray(embed(sentences)) @ np.asarray(embed(memories)).T


def used(decisions: list[Decision]) -> list[bool | None]:
    return [d.used for d in decisions]


def test_a_reply_that_quotes_a_memory_used_it_and_not_the_others() -> None:
    reply = "Your beagle is called Biscuit, and she loves the beach."
    decisions = attribute(reply, QUESTION, MEMORIES, bag_similarity)
    assert used(decisions) == [True, False, False]
    assert "Biscuit" in decisions[0].how or "biscuit" in decisions[0].how


def test_a_paraphrase_is_used_or_not_sure_never_not_used() -> None:
    reply = "That would be Biscuit, your little hound."
    decisions = attribute(reply, QUESTION, MEMORIES, bag_similarity)
    assert decisions[0].used in (True, None)
    assert decisions[1].used is False and decisions[2].used is False


def test_an_unrelated_reply_used_nothing() -> None:
    reply = "Paris is the capital of France and has many museums."
    assert used(attribute(reply, QUESTION, MEMORIES, bag_similarity)) == [False, False, False]


def test_words_the_user_said_first_are_no_evidence() -> None:
    # "beach" came from the question itself, so it proves nothing about the memory
    reply = "The beach is lovely in summer, yes."
    decisions = attribute(reply, "Do you like the beach?", MEMORIES, bag_similarity)
    assert decisions[0].used is not True


def test_citations_decide_over_the_text() -> None:
    reply = "Your beagle is called Biscuit and loves the beach [3]."
    decisions = attribute(reply, QUESTION, MEMORIES, bag_similarity)
    assert used(decisions) == [False, False, True]
    assert decisions[2].how == "cited as [3]"


def test_junk_teaches_nothing() -> None:
    for reply in ("", "ok", "<<<MEMORIES\n[1] copy\nMEMORIES>>>", "[9] [12]"):
        assert set(used(attribute(reply, QUESTION, MEMORIES, bag_similarity))) <= {None, False}
    assert used(attribute("ok", QUESTION, MEMORIES, bag_similarity)) == [None, None, None]


def test_no_cite_is_doubted_when_the_reply_has_a_memorys_words() -> None:
    reply = "Your beagle Biscuit loves the beach. [NO_CITE]"
    decisions = attribute(reply, QUESTION, MEMORIES, bag_similarity)
    assert decisions[0].used is None and decisions[1].used is False


def _answered(store: Store, tmp_path: Path, reply: str) -> tuple[Recall, list]:  # type: ignore[type-arg]
    memory = MemoryService(store, tmp_path / "index", FakeEmbedder())
    earlier = store.create_conversation()
    for text in MEMORIES:
        memory.remember_message(store.add_message(earlier.id, "user", text))
    memory.indexer.sync()
    recall = Recall(memory, learning=False)
    chat = ChatService(store)
    conv = store.create_conversation()
    chat.send(conv.id, "Tell me about Biscuit the beagle and the beach")
    result = chat.reply(conv.id, FakeChatModel([reply]), Settings(), recall=recall)
    return recall, result.receipts


def test_receipts_record_the_decision_and_how_and_the_reranker_learns(store: Store, tmp_path: Path) -> None:
    recall, receipts = _answered(store, tmp_path, "Biscuit is a happy beagle who loves the beach near home.")
    by_text = {r.text: r for r in receipts}
    biscuit = by_text[MEMORIES[0]]
    assert biscuit.used is True and biscuit.how.startswith("the reply has its words")
    assert biscuit.source == "user"
    assert recall.reranker._pending or recall.reranker.updates  # a decided answer is a training example
    assert recall.receipts(receipts[0].reply_id) == receipts  # stored as shown


def test_a_junk_reply_queues_no_training(store: Store, tmp_path: Path) -> None:
    recall, receipts = _answered(store, tmp_path, "ok")
    assert receipts and all(r.used is None for r in receipts)
    assert not recall.reranker._pending and recall.reranker.updates == 0

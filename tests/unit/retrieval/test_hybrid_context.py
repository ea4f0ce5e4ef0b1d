"""Hybrid retrieval in context: neighbours share their scores, conversations count as documents,
and the query moves towards its best first-round hits."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from memory.retrieval.hybrid import Fusion, spread
from memory.retrieval.service import MemoryService
from memory.store.database import Store
from tests.fakes import FakeEmbedder

OFF = Fusion(feedback=0.0, neighbour_share=0.0, conversation_weight=0.0)


def test_spread_gives_each_turn_a_share_of_its_better_neighbour() -> None:
    scores = {1: 1.0, 3: 0.4}
    neighbours = {1: (None, 2), 3: (2, 4)}  # turns 1, 2, 3, 4 in a row; 2 and 4 had no score
    assert spread(scores, neighbours, 0.5) == {2: 0.5, 4: 0.2}
    # a scored turn beside another scored turn gains too
    assert spread({1: 1.0, 2: 0.4}, {1: (None, 2), 2: (1, None)}, 0.5) == {1: 1.2, 2: 0.9}
    assert spread(scores, neighbours, 0.0) == {}


@pytest.fixture
def memory(store: Store, tmp_path: Path) -> MemoryService:
    service = MemoryService(store, tmp_path / "index", FakeEmbedder())
    trip = store.create_conversation("Trip").id
    for role, text in [
        ("user", "Which glacier did we hike in Iceland?"),
        ("assistant", "Sólheimajökull, on the south coast."),
        ("user", "The ice was blue and the guide had crampons for everyone"),
    ]:
        service.remember_message(store.add_message(trip, role, text))
    other = store.create_conversation("Garden").id
    for text in ["The tomatoes need staking", "A hike up the hill behind the garden"]:
        service.remember_message(store.add_message(other, "user", text))
    service.indexer.sync()
    return service


def texts(memory: MemoryService, query: str, k: int = 5) -> list[str]:
    return [hit.item.text for hit in memory.search(query, k=k)]


def scores(memory: MemoryService, query: str) -> dict[str, float]:
    return {hit.item.text: hit.score for hit in memory.search(query, k=10)}


ANSWER = "Sólheimajökull, on the south coast."
QUESTION = "Which glacier did we hike in Iceland?"


def test_an_answer_gains_a_share_of_the_question_beside_it(memory: MemoryService) -> None:
    memory.retriever.fusion = OFF
    alone = scores(memory, "glacier iceland")
    memory.retriever.fusion = replace(OFF, neighbour_share=0.3)
    shared = scores(memory, "glacier iceland")
    assert shared[ANSWER] == pytest.approx(alone[ANSWER] + 0.3 * alone[QUESTION])
    # the first garden turn's neighbour is the garden's other turn, never the trip's last one
    tomatoes, hill = "The tomatoes need staking", "A hike up the hill behind the garden"
    assert shared[tomatoes] == pytest.approx(alone.get(tomatoes, 0.0) + 0.3 * alone[hill])


def test_a_turn_gains_its_conversations_score(memory: MemoryService) -> None:
    # both conversations mention a hike; the trip's is also about Iceland, glaciers and crampons
    query = "hike glacier iceland crampons"
    memory.retriever.fusion = OFF
    alone = scores(memory, query)
    memory.retriever.fusion = replace(OFF, conversation_weight=1.0)
    boosted = scores(memory, query)
    ice, hill = (
        "The ice was blue and the guide had crampons for everyone",
        "A hike up the hill behind the garden",
    )
    assert boosted[ice] == pytest.approx(alone[ice] + 1.0)  # the best conversation scores 1
    assert 0.0 < boosted[hill] - alone[hill] < 1.0
    assert boosted[ice] - alone[ice] > boosted[hill] - alone[hill]


def test_the_levers_never_bring_in_what_the_filters_exclude(memory: MemoryService, store: Store) -> None:
    from memory.retrieval.hybrid import Filters

    garden = store.query("SELECT id FROM conversations WHERE title = 'Garden'")[0]["id"]
    hits = memory.search("glacier iceland hike", k=10, filters=Filters(conversation_id=garden))
    assert hits and all(hit.item.conversation_id == garden for hit in hits)


def test_feedback_searches_again_with_the_moved_query(memory: MemoryService) -> None:
    calls = []
    query = memory.retriever.index.query

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return query(*args, **kwargs)

    memory.retriever.index.query = counting  # type: ignore[method-assign]
    memory.retriever.fusion = replace(OFF, feedback=0.3)
    memory.search("glacier", k=3)
    assert len(calls) == 2
    calls.clear()
    memory.retriever.fusion = OFF
    memory.search("glacier", k=3)
    assert len(calls) == 1


def test_a_topic_memorys_turns_gain_a_share_of_its_score(memory: MemoryService, store: Store) -> None:
    trip = store.query("SELECT id FROM conversations WHERE title = 'Trip'")[0]["id"]
    answer = next(m for m in store.messages(trip) if m.content == ANSWER)
    memory.items.add(
        "topic", "The user hiked a glacier on the Icelandic south coast", message_ids=[answer.id]
    )
    memory.items.add("topic", "Sólheimajökull is a glacier", message_ids=[answer.id])  # the same source
    memory.indexer.sync()
    memory.retriever.fusion = replace(OFF, topic_weight=1.0)
    alone = scores(memory, "glacier south coast")
    memory.retriever.fusion = replace(OFF, topic_weight=1.0, topic_share=0.5)
    shared = scores(memory, "glacier south coast")
    topic = "The user hiked a glacier on the Icelandic south coast"
    assert shared[ANSWER] == pytest.approx(alone.get(ANSWER, 0.0) + 0.5 * alone[topic])
    assert shared[QUESTION] == pytest.approx(alone[QUESTION])  # not among the topic's sources


def test_the_dense_side_is_divided_by_its_best_as_bm25_is(memory: MemoryService) -> None:
    """Each side's best hit scores its full weight, however near the nearest memory is."""
    memory.retriever.fusion = replace(OFF, lexical_weight=0.0)
    query = "hike glacier iceland"
    near = dict(memory.retriever.dense(query, 10))
    floor, weight = OFF.dense_floor, OFF.dense_weight
    best = max(similarity - floor for similarity in near.values())
    assert 0.0 < best < 1.0 - floor, "the nearest memory is no perfect match"
    hits = memory.search(query, k=10)
    for hit in hits:
        expected = weight * max(0.0, near.get(hit.item.id, floor) - floor) / best
        assert hit.score == pytest.approx(expected)
    assert max(hit.score for hit in hits) == pytest.approx(weight)


def test_the_conversation_going_on_is_no_candidate_and_sets_no_scale(memory: MemoryService) -> None:
    """Its turns (the message itself, once indexed) would be each side's best and scale the rest."""
    trip = memory.store.query("SELECT id FROM conversations WHERE title = 'Trip'")[0]["id"]
    hill = "A hike up the hill behind the garden"
    query = "Which glacier did we hike in Iceland?"  # the trip's own first message, word for word
    memory.retriever.fusion = replace(OFF, conversation_weight=1.0)
    everywhere = {hit.item.text: hit.score for hit in memory.retriever.search(query, k=10)}
    assert max(everywhere, key=everywhere.__getitem__) == query
    elsewhere = {hit.item.text: hit.score for hit in memory.retriever.search(query, k=10, going_on=trip)}
    assert set(elsewhere) <= {hill, "The tomatoes need staking"}
    # the garden's hike is now the best hit on both sides (the words the two conversations share
    # carry no weight at the conversation stage, so the garden gains nothing there)
    assert elsewhere[hill] == pytest.approx(OFF.dense_weight + OFF.lexical_weight)
    assert everywhere[hill] < elsewhere[hill]

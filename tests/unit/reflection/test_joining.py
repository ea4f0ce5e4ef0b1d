"""The user's own sentences joined into topic memories in their words, never rewritten by the model;
and what a merge may hold: only the user's words, nothing of a memory or conversation that is gone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memory.reflection.disclosure import DisclosureSelector
from memory.reflection.jobs import ReflectionJobs
from memory.reflection.prospective import MAX_SUMMARY, Reflector
from memory.retrieval.book import MemoryBook
from memory.retrieval.service import MemoryService
from memory.store.database import Store
from memory.store.items import TOPIC
from memory.store.sources import REFLECTION, USER
from tests.fake_model import FakeChatModel
from tests.fakes import FakeEmbedder

NAPS = "My greyhound Biscuit naps on the sofa all day."
RAIN = "My greyhound Biscuit hates the rain on the sofa."  # near NAPS in the bag-of-words embedder
CHEMISTRY = "I teach chemistry at a secondary school."  # shares no word with them


@pytest.fixture
def memory(store: Store, tmp_path: Path) -> MemoryService:
    return MemoryService(store, tmp_path / "index", FakeEmbedder())


def told(store: Store, *texts: str) -> int:
    conv = store.create_conversation()
    for text in texts:
        store.add_message(conv.id, "user", text)
        store.add_message(conv.id, "assistant", "I see.")
    return conv.id


def reflector(memory: MemoryService, model: FakeChatModel, **options: object) -> Reflector:
    selector = DisclosureSelector(FakeEmbedder(), threshold=float("-inf"))  # every statement is kept
    return Reflector(model, memory.retriever, selector=selector, **options)  # type: ignore[arg-type]


def quiet_model() -> FakeChatModel:
    """A model whose extractions find nothing: every memory is one of the user's sentences."""
    model = FakeChatModel()
    model.default_json = {"memories": []}
    return model


def reflect(memory: MemoryService, conv: int, model: FakeChatModel, **options: object) -> ReflectionJobs:
    jobs = ReflectionJobs(memory.store, memory.items)
    job = jobs.enqueue(conv)
    assert job is not None
    jobs.run(job, reflector(memory, model, **options))
    memory.indexer.sync()
    return jobs


def topics(store: Store) -> list[dict[str, object]]:
    return store.query("SELECT id, text, message_ids, source FROM memory_items WHERE kind = ?", (TOPIC,))


def test_a_sentence_near_one_of_the_users_memories_joins_it_in_their_words(
    store: Store, memory: MemoryService
) -> None:
    conv = told(store, NAPS, RAIN, CHEMISTRY)
    model = quiet_model()
    reflect(memory, conv, model)
    rows = topics(store)
    assert [r["text"] for r in rows] == [f"{NAPS} {RAIN}", CHEMISTRY]
    assert {r["source"] for r in rows} == {USER}
    users = [m.id for m in store.messages(conv) if m.role == "user"]
    assert rows[0]["message_ids"] == f"[{users[0]}, {users[1]}]"
    assert len(model.json_prompts) == 1  # the extraction only: the model was not asked to merge


def test_without_a_join_floor_each_sentence_is_a_memory_of_its_own(
    store: Store, memory: MemoryService
) -> None:
    reflect(memory, told(store, NAPS, RAIN), quiet_model(), join_floor=None)
    assert [r["text"] for r in topics(store)] == [NAPS, RAIN]


def test_a_later_conversation_joins_a_stored_memory_and_keeps_the_old_text(
    store: Store, memory: MemoryService
) -> None:
    reflect(memory, told(store, NAPS), quiet_model())
    jobs = reflect(memory, told(store, RAIN), quiet_model())
    [row] = topics(store)
    assert row["text"] == f"{NAPS} {RAIN}" and row["source"] == USER
    [version] = jobs.versions(int(row["id"]))  # type: ignore[call-overload]
    assert version["text"] == NAPS and version["reason"] == "joined with more of your words"


def test_the_models_summaries_and_the_users_edits_are_never_joined(
    store: Store, memory: MemoryService
) -> None:
    model = FakeChatModel()
    model.json_replies = [{"memories": [{"summary": NAPS.replace("My", "The user's"), "references": [1]}]}]
    model.default_json = {"memories": []}
    reflect(memory, told(store, "The user's greyhound Biscuit naps on the sofa all day"), model)
    reflect(memory, told(store, "My greyhound Biscuit naps"), quiet_model())
    edited = next(int(r["id"]) for r in topics(store) if r["text"] == "My greyhound Biscuit naps")
    MemoryBook(memory).edit(edited, "My greyhound Biscuit naps on the sofa")
    memory.indexer.sync()
    reflect(memory, told(store, RAIN), quiet_model())
    texts = {str(r["text"]): r["source"] for r in topics(store)}
    assert texts["The user's greyhound Biscuit naps on the sofa all day."] == REFLECTION
    assert "My greyhound Biscuit naps on the sofa" in texts
    assert texts[RAIN] == USER  # stood alone: its near memories were the model's and the user's edit


def test_a_joined_memory_never_grows_past_the_longest_summary(store: Store, memory: MemoryService) -> None:
    long = f"My greyhound Biscuit naps on the sofa {'and then naps more ' * 13}."
    assert len(long) + 1 + len(RAIN) > MAX_SUMMARY >= len(long)
    reflect(memory, told(store, long, RAIN), quiet_model())
    assert [len(str(r["text"])) <= MAX_SUMMARY for r in topics(store)] == [True, True]


def test_deleting_a_conversation_deletes_the_memories_that_took_in_its_words(
    store: Store, memory: MemoryService
) -> None:
    reflect(memory, told(store, NAPS), quiet_model())
    second = told(store, RAIN)
    jobs = reflect(memory, second, quiet_model())
    [joined] = topics(store)
    store.delete_conversation(second)
    memory.compact()
    assert topics(store) == []
    assert jobs.versions(int(joined["id"])) == []  # type: ignore[call-overload]
    assert RAIN.encode() not in (Path(store.path)).read_bytes()


def test_a_sentence_joined_to_a_memory_forgotten_meanwhile_is_added_alone(
    store: Store, memory: MemoryService
) -> None:
    reflect(memory, told(store, NAPS), quiet_model())
    [stored] = topics(store)
    conv = told(store, RAIN)
    jobs = ReflectionJobs(store, memory.items)
    job = jobs.enqueue(conv)
    assert job is not None
    plan = reflector(memory, quiet_model()).plan(jobs.messages_for(job))
    assert plan.merges[int(stored["id"])].summary == f"{NAPS} {RAIN}"  # type: ignore[call-overload]
    MemoryBook(memory).forget(int(stored["id"]))  # type: ignore[call-overload]
    jobs.apply(job, plan)
    texts = {r["text"]: r["source"] for r in topics(store)}
    assert texts == {NAPS: "user", RAIN: USER}  # the forgotten one (status forgotten) and the sentence
    active = store.query("SELECT text FROM memory_items WHERE kind = ? AND status = 'active'", (TOPIC,))
    assert [r["text"] for r in active] == [RAIN]


def test_a_model_merge_that_is_not_in_the_users_words_is_added_instead(
    store: Store, memory: MemoryService
) -> None:
    first = told(store, "I just adopted a greyhound called Biscuit")
    model = FakeChatModel()
    model.json_replies = [
        {"memories": [{"summary": "The user adopted a greyhound called Biscuit.", "references": [1]}]}
    ]
    model.default_json = {"memories": []}
    reflect(memory, first, model, merge_floor=-1.0)
    second = told(store, "Biscuit is scared of the stairs")
    model.json_replies = [
        {"memories": [{"summary": "The user's Biscuit is scared of stairs.", "references": [1]}]},
        {  # "golden retriever", "Lisbon" and "swims" are nowhere in the user's words
            "action": "Merge",
            "index": 1,
            "merged_summary": "The user's golden retriever Biscuit swims daily in Lisbon.",
        },
    ]
    plan = reflector(memory, model, merge_floor=-1.0)
    jobs = ReflectionJobs(store, memory.items)
    job = jobs.enqueue(second)
    assert job is not None
    stats = jobs.run(job, plan)
    assert stats is not None and stats.unmerged == 1
    texts = [r["text"] for r in topics(store)]
    assert "The user's Biscuit is scared of stairs." in texts
    assert not any("golden retriever" in str(t) for t in texts)


@pytest.mark.parametrize(
    "summary",
    [
        "Good evening. How are you?",  # a greeting copied from the user's turn
        "I love ice cream! Do you think you will get their fudge?",
        "Oh I know you are a bit of a foodie.",  # about the other person
    ],
)
def test_a_summary_that_asks_or_speaks_to_you_is_not_a_memory(
    store: Store, memory: MemoryService, summary: str
) -> None:
    conv = told(store, summary)
    model = FakeChatModel()
    model.json_replies = [{"memories": [{"summary": summary, "references": [1]}]}]
    model.default_json = {"memories": []}
    jobs = ReflectionJobs(store, memory.items)
    job = jobs.enqueue(conv)
    assert job is not None
    nothing_kept = DisclosureSelector(FakeEmbedder(), threshold=float("inf"))  # only the summary counts
    stats = jobs.run(job, Reflector(model, memory.retriever, selector=nothing_kept))
    assert stats is not None and stats.valid == 0 and stats.rejected == 1
    assert topics(store) == []


def test_the_other_conversation_is_reflected_on_again_and_gets_its_own_words_back(
    store: Store, memory: MemoryService
) -> None:
    from memory.assistant.assistant import Assistant

    first = told(store, NAPS)
    reflect(memory, first, quiet_model())
    second = told(store, RAIN)
    reflect(memory, second, quiet_model())
    assistant = Assistant(store)
    assistant.attach(memory)
    assert assistant.delete_conversation(second) == [first]
    memory.indexer.sync()
    jobs = ReflectionJobs(store, memory.items)
    job = jobs.next_pending()
    assert job is not None and job.conversation_id == first
    jobs.run(job, reflector(memory, quiet_model()))
    assert [(r["text"], r["source"]) for r in topics(store)] == [(NAPS, USER)]


def test_a_summary_that_copied_the_users_sentence_is_their_words_and_can_be_joined(
    store: Store, memory: MemoryService
) -> None:
    model = FakeChatModel()
    model.json_replies = [{"memories": [{"summary": NAPS, "references": [1]}]}]  # copied word for word
    model.default_json = {"memories": []}
    reflect(memory, told(store, NAPS), model)
    assert [(r["text"], r["source"]) for r in topics(store)] == [(NAPS, USER)]
    reflect(memory, told(store, RAIN), quiet_model())
    assert [(r["text"], r["source"]) for r in topics(store)] == [(f"{NAPS} {RAIN}", USER)]


def test_a_stored_summary_the_user_later_says_word_for_word_becomes_their_words(
    store: Store, memory: MemoryService
) -> None:
    model = FakeChatModel()
    model.json_replies = [{"memories": [{"summary": NAPS, "references": [1]}]}]
    model.default_json = {"memories": []}
    jobs = ReflectionJobs(store, memory.items)
    job = jobs.enqueue(told(store, "My greyhound Biscuit naps on the sofa all day long"))
    assert job is not None
    jobs.run(job, Reflector(model, memory.retriever))  # no selector: the summary alone
    memory.indexer.sync()
    assert [(r["text"], r["source"]) for r in topics(store)] == [(NAPS, REFLECTION)]
    reflect(memory, told(store, NAPS), quiet_model())
    [row] = topics(store)
    assert (row["text"], row["source"], len(json.loads(str(row["message_ids"])))) == (NAPS, USER, 2)

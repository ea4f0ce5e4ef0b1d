"""The Assistant, the core's one door: what it wires, what answering and reflecting through it do,
and the Changes its operations report."""

from __future__ import annotations

from pathlib import Path

from memory.assistant.assistant import Assistant, Changes
from memory.retrieval.service import MemoryService
from memory.runtime.settings import Settings
from memory.store.database import Store
from tests.fake_model import FakeChatModel
from tests.fakes import FakeEmbedder


def opened(store: Store) -> tuple[Assistant, MemoryService]:
    memory = MemoryService(store, Path(store.path).parent / "index", FakeEmbedder())
    earlier = store.create_conversation()
    memory.remember_message(store.add_message(earlier.id, "user", "My greyhound Biscuit fears stairs"))
    memory.indexer.sync()
    assistant = Assistant(store, seed=1)
    assistant.attach(memory)
    return assistant, memory


def test_sending_stores_the_message_and_says_what_changed(store: Store) -> None:
    assistant = Assistant(store)
    conversation, message, changes = assistant.send(None, "Hello there")
    assert store.messages(conversation.id) == [message]
    assert changes == Changes(conversations=True, messages=frozenset({conversation.id}))
    again, _message, more = assistant.send(conversation.id, "And again")
    assert again.id == conversation.id and len(store.messages(conversation.id)) == 2
    assert (changes | Changes(memories=True)).memories and not changes.memories
    assert (changes | more).messages == frozenset({conversation.id})


def test_answering_uses_memories_and_preferences_as_the_settings_say(store: Store) -> None:
    assistant, memory = opened(store)
    assert assistant.recall is not None and assistant.cipher is not None
    assert assistant.pref_prompt.embedder is memory.embedder
    assistant.preferences.accept(assistant.preferences.add("Answer in one sentence."))
    model = FakeChatModel(["Stairs.", "Stairs again."])
    conversation, _message, _changes = assistant.send(None, "What does Biscuit fear?")
    result = assistant.reply(
        conversation.id, model, Settings(memories_per_answer=5, learn_from_citations=False)
    )
    assert [r.text for r in result.receipts] == ["My greyhound Biscuit fears stairs"]
    assert not assistant.recall.learning  # the setting reached the reranker
    prompt = "".join(model.prompts[-1])
    assert "<<<MEMORIES" in prompt and "Answer in one sentence." in prompt
    assistant.send(conversation.id, "And what else?")
    plain = assistant.reply(conversation.id, model, Settings(memories_per_answer=0))
    assert plain.receipts == [] and "Answer in one sentence." in "".join(model.prompts[-1])
    memory.close()


def test_detached_it_answers_without_memories(store: Store) -> None:
    assistant, memory = opened(store)
    assert assistant.detach() is memory and assistant.recall is None
    conversation, _message, _changes = assistant.send(None, "What does Biscuit fear?")
    result = assistant.reply(conversation.id, FakeChatModel(["No idea."]), Settings(memories_per_answer=5))
    assert result.receipts == [] and result.message.content == "No idea."
    memory.close()


def test_a_reflection_pass_runs_the_queue_and_reports_failures_it_gave_up_on(store: Store) -> None:
    assistant, memory = opened(store)
    conversation, _message, _changes = assistant.send(None, "My sister Ana lives in Berlin")
    assistant.reply(conversation.id, FakeChatModel(["Noted."]), Settings())
    assert assistant.jobs().enqueue(conversation.id) is not None
    model = FakeChatModel([])
    model.default_json = {"memories": []}
    steps: list[tuple[int, int]] = []
    synced: list[int] = []
    done = assistant.reflect_pending(
        model, Settings(), on_progress=lambda *s: steps.append(s), after_job=lambda: synced.append(1)
    )
    assert (done.done, done.parked, steps, synced) == (1, [], [(1, 1)], [1])
    assert done.changes == Changes(memories=True, preferences=True)
    assistant.send(conversation.id, "She teaches music")
    assistant.jobs().enqueue(conversation.id)
    broken = FakeChatModel([])
    broken.json_replies = [ValueError("garbage JSON")] * 10
    failed = assistant.reflect_pending(broken, Settings())
    assert failed.done == 0 and len(failed.parked) == 1 and "garbage JSON" in failed.parked[0]
    assert failed.changes == Changes()
    assistant.send(conversation.id, "She plays the cello")
    assert assistant.jobs().enqueue(conversation.id) is not None
    stopped = assistant.reflect_pending(
        model, Settings(), should_stop=lambda: True
    )  # the user needs the model
    assert stopped.done == 0 and not stopped.parked and assistant.jobs().pending_count() == 1
    memory.close()

"""End-to-end paths with the real packaged SmolLM2 model through llama.cpp."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.controller import ChatController, ModelState
from app.window import MainWindow
from memory.answering.chat import ChatService
from memory.llm.engine import LlamaChatModel, ModelError
from memory.runtime.settings import Settings, SettingsStore
from memory.store.database import Store

pytestmark = pytest.mark.real_model


def open_window(qtbot: QtBot, home: Path) -> MainWindow:
    home.mkdir(parents=True, exist_ok=True)
    settings = SettingsStore(home / "settings.json")
    settings.save(Settings(n_ctx=2048, max_tokens=200, temperature=0.0))
    controller = ChatController(Store(home / "memoir.db"), settings)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    window.show()
    controller.load_model()
    qtbot.waitUntil(lambda: controller.state == ModelState.READY, timeout=30000)
    return window


def test_type_send_stream_stop_and_find_it_all_after_restart(qtbot: QtBot, memoir_home: Path) -> None:
    window = open_window(qtbot, memoir_home)
    assert "SmolLM2" in window.model_label.text()
    updates: list[str] = []
    window.controller.reply_text_changed.connect(lambda _id, text: updates.append(text))
    window.composer.setPlainText("What is the capital of France?")
    with qtbot.waitSignal(window.controller.reply_finished, timeout=60000) as first:
        qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    answer = first.args[0].message
    assert answer.status == "complete" and answer.content
    assert window.transcript_model.messages()[-1].content == answer.content
    assert len(updates) >= 2, "the reply should arrive in several streamed updates"

    updates.clear()
    window.composer.setPlainText("Count from 1 to 300, one number per line.")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(updates) >= 3, timeout=30000)
    with qtbot.waitSignal(
        window.controller.reply_finished, timeout=15000
    ) as stopped:  # not a speed check: benches measure that
        qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    partial = stopped.args[0].message
    assert partial.status == "stopped" and partial.content
    assert partial.tokens is not None and partial.tokens < 200
    conversation_id = window.current_id
    window.close()
    window.controller.shutdown()

    again = open_window(qtbot, memoir_home)
    qtbot.waitUntil(lambda: again.transcript_model.rowCount() == 4, timeout=5000)
    assert again.current_id == conversation_id
    contents = [(m.role, m.status) for m in again.transcript_model.messages()]
    assert contents == [
        ("user", "complete"),
        ("assistant", "complete"),
        ("user", "complete"),
        ("assistant", "stopped"),
    ]
    assert again.transcript_model.messages()[3].content == partial.content
    again.controller.shutdown()


def test_prefix_is_reused_from_turn_to_turn(smollm2: Path, store: Store) -> None:
    model = LlamaChatModel.load(smollm2, n_ctx=2048)
    chat = ChatService(store)
    conv = store.create_conversation()
    results = []
    for question in ("Hello, who are you?", "Name a color.", "Name a fruit."):
        chat.send(conv.id, question)
        results.append(chat.reply(conv.id, model, Settings(max_tokens=40, temperature=0.0)).stats)
    model.close()
    for stats in results[1:]:
        assert stats.reused_tokens > 0.5 * stats.prompt_tokens
        assert stats.evaluated_tokens < 40


@pytest.mark.parametrize("damage", ["truncated", "garbage", "missing", "folder"])
def test_bad_model_files_give_clear_errors(smollm2: Path, tmp_path: Path, damage: str) -> None:
    bad = tmp_path / "bad.gguf"
    if damage == "truncated":
        bad.write_bytes(smollm2.read_bytes()[: smollm2.stat().st_size // 2])
    elif damage == "garbage":
        bad.write_bytes(b"GGUF" + b"\x13" * 4096)
    elif damage == "folder":
        bad.mkdir()
    with pytest.raises(ModelError) as info:
        LlamaChatModel.load(bad, n_ctx=512)
    assert "bad.gguf" in str(info.value)


def test_non_gguf_file_is_named_as_such(tmp_path: Path) -> None:
    text = tmp_path / "notes.gguf"
    text.write_text("just some text, not a model" * 100)
    with pytest.raises(ModelError, match="not a GGUF model file"):
        LlamaChatModel.load(text)


def test_self_test_command_prints_json_and_exits_zero(smollm2: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.main", "--self-test"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["ok"] is True and summary["reply"] and summary["streamed_updates"] > 1
    assert any(r["text"].startswith("My dog is called Biscuit") for r in summary["receipts"])
    assert summary["preference"].endswith("in plain words.") and summary["rebuilt_items"] == 2
    assert set(summary["resources"]["examples"]) == {
        "self_disclosure.txt",
        "small_talk.txt",
        "answer_requests.txt",
        "one_off.txt",
    }


def test_self_test_names_a_missing_bundled_model(tmp_path: Path) -> None:
    from memory.assistant.selftest import run_self_test

    ok, summary = run_self_test(tmp_path / "gone.gguf")
    assert not ok and "gone.gguf" in summary["error"]


def test_self_test_fails_cleanly_on_a_broken_model(smollm2: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    shutil.copyfile(smollm2, broken)
    with broken.open("r+b") as handle:
        handle.truncate(5000)
    result = subprocess.run(
        [sys.executable, "-m", "app.main", "--self-test", "--model", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 1
    assert "broken.gguf" in json.loads(result.stdout)["error"]


def test_a_gguf_model_can_serve_as_the_embedder(smollm2: Path, store: Store, tmp_path: Path) -> None:
    """The Embedder protocol through llama.cpp (SmolLM2 stands in for a GGUF embedding model)."""
    from memory.embed.gguf_embedder import LlamaEmbedder
    from memory.retrieval.service import MemoryService

    embedder = LlamaEmbedder(smollm2, n_ctx=256)
    vectors = embedder.embed(["I adopted a puppy", "The puppy chews shoes", ""])
    assert vectors.shape == (3, embedder.dimension) and embedder.dimension > 100
    assert abs(float(vectors[0] @ vectors[0]) - 1.0) < 1e-4
    memory = MemoryService(store, tmp_path / "index", embedder)
    conv = store.create_conversation()
    memory.remember_message(store.add_message(conv.id, "user", "My sister Ana lives in Porto"))
    memory.start_up()
    assert memory.index.count() == 1
    assert (
        memory.search("Where does Ana live?", k=1, method="dense")[0].item.text
        == "My sister Ana lives in Porto"
    )
    memory.close()
    embedder.close()


def test_reflection_with_the_real_model_always_gives_valid_memories(
    smollm2: Path, store: Store, tmp_path: Path
) -> None:
    """SmolLM2 under the JSON-schema grammar: the job finishes, and every memory it keeps is
    non-empty and references turns of this session (quality is as the tiny model allows)."""
    from memory.reflection.jobs import ReflectionJobs
    from memory.reflection.prospective import Reflector
    from memory.retrieval.service import MemoryService
    from tests.fakes import FakeEmbedder

    memory = MemoryService(store, tmp_path / "index", FakeEmbedder())
    conv = store.create_conversation()
    for role, text in [
        ("user", "Hi! I just moved to Lisbon for a new job as a nurse."),
        ("assistant", "Welcome to Lisbon! How do you like it?"),
        (
            "user",
            "I love it, but I miss my sister Ana in Berlin. I'm vegetarian, so I explore a lot of food.",
        ),
        ("assistant", "Lisbon has great vegetarian places!"),
    ]:
        store.add_message(conv.id, role, text)
    model = LlamaChatModel.load(smollm2, n_ctx=4096)
    jobs = ReflectionJobs(store, memory.items)
    job = jobs.enqueue(conv.id)
    assert job is not None
    stats = jobs.run(job, Reflector(model, memory.retriever))
    model.close()
    assert stats is not None and stats.extractions == 1
    assert jobs.next_pending() is None and jobs.reflected_upto(conv.id) == store.messages(conv.id)[-1].id
    session = {m.id for m in store.messages(conv.id)}
    for row in store.query("SELECT text, message_ids FROM memory_items WHERE kind = 'topic'"):
        assert row["text"].strip() and set(json.loads(row["message_ids"])) <= session
    memory.close()


def test_the_app_reflector_proposes_the_users_request_and_nothing_from_the_prompt(
    smollm2: Path, store: Store, tmp_path: Path
) -> None:
    """SmolLM2, asked for preferences, hands back the prompt's own examples ("I'm vegetarian", "keep
    it short"); the app's reflector refuses those and proposes the user's request in their words."""
    from memory.embed.embedders import default_embedder
    from memory.preferences.preference_store import PreferenceStore
    from memory.reflection.prospective import reflector
    from memory.retrieval.service import MemoryService
    from tests.reflecting import reflect_on

    memory = MemoryService(store, tmp_path / "index", default_embedder())
    conv = store.create_conversation()
    for role, text in [
        ("user", "Please don't use bullet points, I find them hard to read."),
        ("assistant", "Understood."),
        ("user", "I keep a small vegetable garden and I walk my dog every morning."),
        ("assistant", "Lovely!"),
    ]:
        store.add_message(conv.id, role, text)
    model = LlamaChatModel.load(smollm2, n_ctx=4096)
    reflect_on(memory, conv.id, reflector(model, memory.retriever))
    model.close()
    said = store.messages(conv.id)[0].id
    proposed = {p.text: p.evidence for p in PreferenceStore(store).all()}
    assert proposed.get("Please don't use bullet points.") == (said,)
    assert not {"I'm vegetarian", "I'm vegetarian.", "I am a vegetarian.", "keep it short"} & set(proposed)
    memory.close()


def test_an_answer_with_memories_gets_receipts_and_keeps_the_prefix(
    smollm2: Path, store: Store, tmp_path: Path
) -> None:
    """SmolLM2 answers with retrieved memories in its prompt: receipts are stored for every shown
    memory (cited or not, or unclear), and after the read that follows a reply (as the app does),
    the next turn evaluates only its own notes and words."""
    from memory.answering.recall_service import Recall
    from memory.embed.embedders import default_embedder
    from memory.retrieval.service import MemoryService

    memory = MemoryService(store, tmp_path / "index", default_embedder())
    earlier = store.create_conversation("Pets")
    for role, text in [
        ("user", "My greyhound is called Biscuit and he is scared of stairs."),
        ("assistant", "Poor Biscuit! Try treats on each step."),
    ]:
        memory.remember_message(store.add_message(earlier.id, role, text))
    memory.indexer.sync()
    model = LlamaChatModel.load(smollm2, n_ctx=2048)
    chat, recall = ChatService(store), Recall(memory, learning=False)
    conv = store.create_conversation()
    settings = Settings(max_tokens=48, temperature=0.0)
    results, read = [], []
    for question in ("What is my dog called?", "What is he scared of?"):
        chat.send(conv.id, question)
        results.append(chat.reply(conv.id, model, settings, recall=recall))
        read.append(chat.read_ahead(conv.id, "", model, settings, recall=recall))  # no draft yet
    model.close()
    first, second = results
    assert first.message.status == "complete" and first.message.content
    assert [r.text for r in first.receipts][:1] == [
        "My greyhound is called Biscuit and he is scared of stairs."
    ]
    assert all(r.used in (True, False, None) for r in first.receipts)
    assert recall.receipts(first.message.id) == first.receipts
    assert store.messages(conv.id)[0].content == "What is my dog called?"  # the block is not the message
    assert read[0] > 0
    assert second.stats.reused_tokens == read[0]  # all of it reused: only the new notes and words left
    memory.close()


def test_the_biscuit_scenario_shows_no_reply_of_memoirs_as_a_memory(
    smollm2: Path, store: Store, tmp_path: Path
) -> None:
    """Tried as a new user would: tell Memoir about the dog, let it reflect, ask in a new
    conversation. Whatever SmolLM2 answered the first time (it invented a golden retriever), none of
    its replies, and none of the user's questions, is shown as a memory; each receipt says whose
    words it holds and whether the answer used it."""
    from memory.assistant.assistant import Assistant
    from memory.embed.embedders import default_embedder
    from memory.retrieval.service import MemoryService

    memory = MemoryService(store, tmp_path / "index", default_embedder())
    assistant = Assistant(store)  # the app's one door to the core
    assistant.attach(memory)
    model = LlamaChatModel.load(smollm2, n_ctx=2048)
    settings = Settings(max_tokens=64, temperature=0.0)
    first = None
    for text in ("My name is Dana.", "I work night shifts as a nurse and I have a beagle called Biscuit."):
        first, message, _changes = assistant.send(first.id if first else None, text)
        memory.remember_message(message)
        memory.remember_message(assistant.reply(first.id, model, settings).message)
    assert first is not None
    memory.indexer.sync()
    assert assistant.jobs().enqueue(first.id) is not None
    assert assistant.reflect_pending(model, settings).done == 1  # as the app reflects when it ends
    memory.indexer.sync()
    second, message, _changes = assistant.send(None, "What is my dog's name?")
    memory.remember_message(message)
    result = assistant.reply(second.id, model, settings)
    model.close()
    assert result.receipts, "the earlier conversation was recalled"
    assert {r.source for r in result.receipts} <= {"user", "reflection"}
    assert any("Biscuit" in r.text for r in result.receipts)
    assert all(r.how for r in result.receipts)  # every decision says how it was made
    memory.close()


DAMAGE_WHILE_LOADED = """
import os, sys, pathlib
from memory.llm.engine import LlamaChatModel
path = pathlib.Path(sys.argv[1])
model = LlamaChatModel.load(path, n_ctx=512)
if sys.argv[2] == "truncated":
    os.truncate(path, 5000)
elif sys.argv[2] == "garbage":
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.write(b"\\x13" * size)
else:
    path.unlink()
prompt = model.format_prompt([{"role": "user", "content": "Name three colors."}])
text = "".join(model.generate(prompt, max_tokens=12, temperature=0.0, should_stop=lambda: False))
print(text)
"""


@pytest.mark.parametrize("damage", ["truncated", "garbage", "deleted"])
def test_a_model_file_damaged_while_loaded_changes_nothing(
    smollm2: Path, tmp_path: Path, damage: str
) -> None:
    """A mapped model truncated under a running app killed it with SIGBUS; Memoir reads it instead."""
    copy = tmp_path / "model.gguf"
    shutil.copyfile(smollm2, copy)
    result = subprocess.run(
        [sys.executable, "-c", DAMAGE_WHILE_LOADED, str(copy), damage],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-500:]}"
    assert result.stdout.strip(), "the model should still answer from the copy it read"

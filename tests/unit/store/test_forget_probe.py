"""Forget means forget: after Forget (and after Delete Everything) no byte of the data folder holds
the text or the vector of what went — on a folder that went through chat, reflection, an index
rebuild after damage, export and import."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from memory.answering.chat import ChatService
from memory.answering.recall_service import Recall
from memory.reflection.jobs import ReflectionJobs
from memory.reflection.prospective import Reflector
from memory.retrieval.book import MemoryBook
from memory.retrieval.service import MemoryService
from memory.runtime.settings import Settings
from memory.store.database import Store
from memory.store.export import export_all
from memory.store.forgetting import FORGOTTEN_TEXT
from memory.store.import_preview import read_export
from memory.store.importer import apply
from tests.fake_model import FakeChatModel
from tests.fakes import FakeEmbedder

TOLD = "I keep a pet axolotl called Quetzal in a tank on my kitchen counter"
SUMMARY = "The user keeps a pet axolotl called Quetzal on the kitchen counter"
EDITED = "My axolotl Quetzal glows faintly purple under the ultraviolet lamp"  # the user's correction


def occurrences(home: Path, needles: dict[str, bytes]) -> list[str]:
    """Every (needle, file) pair where a needle's bytes occur anywhere in a file under ``home``."""
    found = []
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{name} in {path.relative_to(home)}" for name, needle in needles.items() if needle in data]
    return found


def vector_bytes(text: str) -> bytes:
    return np.asarray(FakeEmbedder().embed([text])[0], dtype=np.float32).tobytes()


def lived_in(home: Path, exports: Path) -> tuple[Store, MemoryService, int]:
    """A data folder after chat, reflection, a memory shown with a reply, an edit, a damaged index
    rebuilt, an export and its import; returns the edited memory's id."""
    store = Store(home / "memoir.db")
    memory = MemoryService(store, home / "index", FakeEmbedder())
    chat, recall = ChatService(store), Recall(memory, learning=False)
    first = store.create_conversation()
    for text in (TOLD, "We also have a cat."):
        memory.remember_message(chat.send(first.id, text))
        memory.remember_message(chat.reply(first.id, FakeChatModel(["How lovely!"]), Settings()).message)
    memory.indexer.sync()
    model = FakeChatModel()
    model.default_json = {"memories": [{"summary": SUMMARY, "references": [1]}]}
    jobs = ReflectionJobs(store, memory.items)
    job = jobs.enqueue(first.id)
    assert job is not None
    jobs.run(job, Reflector(model, memory.retriever))
    topic = next(r["id"] for r in store.query("SELECT id FROM memory_items WHERE text = ?", (SUMMARY,)))
    MemoryBook(memory).edit(topic, EDITED)
    memory.indexer.sync()
    second = store.create_conversation()
    chat.send(second.id, "What glows purple under the ultraviolet lamp in my kitchen?")
    result = chat.reply(second.id, FakeChatModel(["Quetzal."]), Settings(), recall=recall)
    assert any(r.item_id == topic for r in result.receipts), "the memory was shown with a reply"
    memory.close()
    (home / "index" / "chroma.sqlite3").write_bytes(b"damaged" * 1000)
    memory = MemoryService(store, home / "index", FakeEmbedder())  # moved aside, made anew
    assert memory.index_problem
    memory.indexer.rebuild()
    export_all(store, exports / "before.zip")
    apply(store, read_export(exports / "before.zip"))  # the same file again: adds nothing
    return store, memory, topic


def test_a_forgotten_memory_leaves_no_text_or_vector_anywhere(tmp_path: Path) -> None:
    home, exports = tmp_path / "home", tmp_path / "exports"
    home.mkdir()
    store, memory, topic = lived_in(home, exports)
    needles = {
        "text": EDITED.encode(),
        "earlier version": SUMMARY.encode(),
        "vector": vector_bytes(EDITED),
    }
    assert occurrences(home, needles), "the probe finds them before forgetting"
    book = MemoryBook(memory)
    book.forget(topic)
    memory.indexer.sync()
    assert book.purge_forgotten() == 1
    memory.compact()
    assert occurrences(home, needles) == []  # while the app runs, the WAL included
    receipt_texts = {r["text"] for r in store.query("SELECT text FROM receipts")}
    assert FORGOTTEN_TEXT in receipt_texts
    assert any(FORGOTTEN_TEXT in r["block"] for r in store.query("SELECT block FROM recollections"))
    export_all(store, exports / "after.zip")
    with zipfile.ZipFile(exports / "after.zip") as archive:
        exported = b"".join(archive.read(name) for name in archive.namelist())
    assert EDITED.encode() not in exported and SUMMARY.encode() not in exported
    memory.close()
    store.close()
    assert occurrences(home, needles) == []
    assert TOLD.encode() in (home / "memoir.db").read_bytes()  # the conversation itself stays


def test_delete_everything_leaves_a_folder_like_a_fresh_start(tmp_path: Path) -> None:
    home, exports = tmp_path / "home", tmp_path / "exports"
    home.mkdir()
    store, memory, _ = lived_in(home, exports)
    texts = [r["content"] for r in store.query("SELECT content FROM messages")]
    texts += [r["text"] for r in store.query("SELECT text FROM memory_items")]
    needles = {f"text {n}": t.encode() for n, t in enumerate(set(texts))}
    needles |= {f"vector {n}": vector_bytes(t) for n, t in enumerate({TOLD, EDITED})}
    memory.wipe()
    memory.close()
    store.close()
    assert occurrences(home, needles) == []
    assert sorted(p.name for p in home.iterdir() if not p.name.startswith("memoir.db")) == ["index"]


def test_a_deleted_conversation_leaves_no_text_or_vector_anywhere(tmp_path: Path) -> None:
    from memory.preferences.cipher import Cipher
    from memory.preferences.preference_store import PreferenceStore

    home, exports = tmp_path / "home", tmp_path / "exports"
    home.mkdir()
    store, memory, _ = lived_in(home, exports)
    first = store.query("SELECT id FROM conversations ORDER BY id LIMIT 1")[0]["id"]
    reply = next(m for m in store.messages(first) if m.role == "assistant")
    model = FakeChatModel()
    model.default_json = {"phrase": "answer with the pet's name first"}
    Cipher(store, memory.embedder, PreferenceStore(store)).learn(  # the user edited a reply there
        reply.id, TOLD, reply.content, "Quetzal the axolotl, lovely!", model
    )
    gone = [m.content for m in store.messages(first)] + ["Quetzal the axolotl, lovely!"]
    needles = {f"text {n}": t.encode() for n, t in enumerate(gone)} | {"vector": vector_bytes(TOLD)}
    assert occurrences(home, needles)
    store.delete_conversation(first)
    memory.compact()
    assert occurrences(home, needles) == []  # while the app runs
    memory.close()
    store.close()
    assert occurrences(home, needles) == []

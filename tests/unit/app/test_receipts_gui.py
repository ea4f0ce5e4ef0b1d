"""Memory receipts in the window: shown under a reply, expanded, opened, judged, followed to the source."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel, QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from app.controller import ModelState
from app.memory_dialog import MemoryDialog
from app.window import MainWindow
from memory.runtime.settings import Settings, SettingsStore
from tests.fake_model import FakeChatModel
from tests.gui import make_window, type_and_send


def start(qtbot: QtBot, home: Path, model: FakeChatModel) -> MainWindow:
    """A window whose memories come in the retriever's order (no exploration: deterministic)."""
    home.mkdir(parents=True, exist_ok=True)
    SettingsStore(home / "settings.json").save(Settings(learn_from_citations=False))
    w = make_window(qtbot, home, model)
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY and w.controller.memory is not None)
    return w


def click(qtbot: QtBot, window: MainWindow, row: int, point_of) -> None:  # type: ignore[no-untyped-def]
    """Click inside a transcript row at the point ``point_of(layout)`` gives (viewport coordinates)."""
    view = window.transcript
    index = window.transcript_model.index(row)
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    option.rect = view.visualRect(index)
    message = index.data(Qt.ItemDataRole.UserRole + 1)
    receipts, expanded = window.transcript_model.data(index, Qt.ItemDataRole.UserRole + 2)
    layout = view.delegate._receipt_layout(option, message, receipts, expanded)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point_of(layout))


def test_a_reply_lists_the_memories_it_was_given(qtbot: QtBot, memoir_home: Path) -> None:
    model = FakeChatModel(["Noted.", "Mochi loves cardboard boxes [1]."])
    model.default_json = {"memories": []}
    w = start(qtbot, memoir_home, model)
    _, reply_id = _answered_with_memory(qtbot, w)
    first_conversation = min(c.id for c in w.controller.store.conversations())  # where it was told
    source_id = w.controller.store.messages(first_conversation)[0].id
    reply = w.controller.store.message(reply_id)
    receipts = w.transcript_model.receipts(reply.id)
    assert receipts[0].text == "My cat Mochi loves cardboard boxes" and receipts[0].used
    row = w.transcript_model.row_of(reply.id)
    w.transcript.resize(900, 700)
    w.transcript.scrollToBottom()
    qtbot.wait(50)

    click(qtbot, w, row, lambda layout: layout.header().center())
    assert w.transcript_model.data(w.transcript_model.index(row), Qt.ItemDataRole.UserRole + 2)[1] is True
    qtbot.wait(50)
    with qtbot.waitSignal(w.controller.conversations.receipts_changed, timeout=5000):
        click(qtbot, w, row, lambda layout: layout.buttons(0)[0].center())  # Helpful on [1]
    assert w.transcript_model.receipts(reply.id)[0].feedback == 1
    assert w.controller.recall is not None
    assert w.controller.recall.receipts(reply.id)[0].feedback == 1  # stored, not only shown

    click(qtbot, w, row, lambda layout: layout.row(0).topLeft() + QPoint(40, 10))
    dialog = w.findChildren(MemoryDialog)[-1]
    assert "Mochi loves cardboard boxes" in dialog.findChild(QLabel, "memoryText").text()
    assert dialog.go_button is not None
    with qtbot.waitSignal(w.controller.conversations.messages_loaded, timeout=5000):
        dialog.go_button.click()
    assert w.current_id == first_conversation
    assert w.transcript.currentIndex().data(Qt.ItemDataRole.UserRole + 1).id == source_id
    w.controller.shutdown()


def test_citation_links_open_the_memory(qtbot: QtBot, memoir_home: Path) -> None:
    model = FakeChatModel(["Noted.", "Boxes [1]."])
    model.default_json = {"memories": []}
    w = start(qtbot, memoir_home, model)
    _, reply_id = _answered_with_memory(qtbot, w, "Mochi cardboard?")
    reply = w.controller.store.message(reply_id)
    w.transcript.scrollToBottom()
    qtbot.wait(50)
    row = w.transcript_model.row_of(reply.id)
    rect = w.transcript.visualRect(w.transcript_model.index(row))
    opened: list[tuple[int, int]] = []
    w.transcript.delegate.memory_opened.connect(lambda r, p: opened.append((r, p)))
    # "Boxes [1]." — the link sits right after the first word, on the text's first line
    for x in range(rect.left() + 20, rect.left() + 140, 4):
        qtbot.mouseClick(
            w.transcript.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, rect.top() + 6 + 10 + 20 + 6)
        )
        if opened:
            break
    assert opened == [(reply.id, 1)]
    w.controller.shutdown()


def test_reset_ranking_shows_what_was_learned_then_forgets_it(
    qtbot: QtBot, memoir_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import dialogs
    from memory.retrieval.rerank_features import NAMES
    from memory.retrieval.reranker import PRIOR

    w = start(qtbot, memoir_home, FakeChatModel(["Noted."]))
    recall = w.controller.recall
    assert recall is not None
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "confirm", lambda _p, _t, text, _a: asked.append(text) or False)
    w.reset_ranking()
    qtbot.waitUntil(lambda: len(asked) == 1)
    assert "has not learned from your answers yet" in asked[0]

    recall.reranker.theta[NAMES.index("words shared with the question")] += 0.8
    recall.reranker.theta[NAMES.index("being a question")] -= 0.3
    recall.reranker.updates = 12
    monkeypatch.setattr(dialogs, "confirm", lambda _p, _t, text, _a: asked.append(text) or True)
    w.reset_ranking()
    qtbot.waitUntil(lambda: len(asked) == 2)
    lines = asked[1].splitlines()
    assert "12 steps" in asked[1]
    shared = next(
        n for n, line in enumerate(lines) if "more weight for: words shared with the question (+0.80)" in line
    )
    question = next(n for n, line in enumerate(lines) if "less weight for: being a question (-0.30)" in line)
    assert shared < question  # strongest first
    qtbot.waitUntil(lambda: list(recall.reranker.theta) == list(PRIOR) and recall.reranker.updates == 0)
    w.controller.shutdown()


def _answered_with_memory(
    qtbot: QtBot, w: MainWindow, question: str = "What does Mochi love?"
) -> tuple[int, int]:
    """A fact told in one conversation, then asked about in another: (conversation, reply) ids."""
    with qtbot.waitSignal(w.controller.reply_finished, timeout=5000):
        type_and_send(qtbot, w, "My cat Mochi loves cardboard boxes")
    memory = w.controller.memory
    assert memory is not None
    qtbot.waitUntil(lambda: memory.items.pending_index() == [] and memory.items.count() == 2)
    with qtbot.waitSignal(w.controller.conversations.listed):
        w.new_conversation()
    with qtbot.waitSignal(w.controller.reply_finished, timeout=5000) as finished:
        type_and_send(qtbot, w, question)
    reply = finished.args[0].message
    assert w.transcript_model.receipts(reply.id)
    return reply.conversation_id, reply.id


def test_receipts_come_back_when_a_conversation_is_opened_again(qtbot: QtBot, memoir_home: Path) -> None:
    model = FakeChatModel(["Noted.", "Mochi loves cardboard boxes."])
    model.default_json = {"memories": []}
    w = start(qtbot, memoir_home, model)
    conversation, reply = _answered_with_memory(qtbot, w)
    shown = w.transcript_model.receipts(reply)
    w.new_conversation()
    qtbot.waitUntil(lambda: w.current_id not in (None, conversation))
    with qtbot.waitSignal(w.controller.conversations.receipts_loaded, timeout=5000) as loaded:
        w.open_conversation(conversation)
    assert loaded.args[1] == {reply: shown}  # the binding once delivered {} here: nothing was shown
    qtbot.waitUntil(lambda: w.transcript_model.receipts(reply) == shown)
    w.controller.shutdown()


def _answered_then_quit(qtbot: QtBot, home: Path) -> tuple[int, int, list[Any]]:
    """A question answered with a memory, its receipts as shown, and the app closed."""
    model = FakeChatModel(["Noted.", "Mochi loves cardboard boxes."])
    model.default_json = {"memories": []}
    w = start(qtbot, home, model)
    conversation, reply = _answered_with_memory(qtbot, w)
    shown = w.transcript_model.receipts(reply)
    w.controller.shutdown()
    w.close()
    return conversation, reply, shown


def test_receipts_come_back_after_a_restart(qtbot: QtBot, memoir_home: Path) -> None:
    conversation, reply, shown = _answered_then_quit(qtbot, memoir_home)

    again = start(qtbot, memoir_home, FakeChatModel(["Hi."]))
    with qtbot.waitSignal(again.controller.conversations.receipts_loaded, timeout=5000):
        again.open_conversation(conversation)
    qtbot.waitUntil(
        lambda: [r.text for r in again.transcript_model.receipts(reply)] == [r.text for r in shown]
    )
    restored = again.transcript_model.receipts(reply)
    assert [(r.used, r.source, r.how) for r in restored] == [(r.used, r.source, r.how) for r in shown]
    again.controller.shutdown()


def test_a_receipt_row_says_the_decision_and_whose_words() -> None:
    from app.receipts import row_text, summary
    from memory.answering.receipts import Receipt

    receipts = [
        Receipt(
            1, 1, 7, "turn", "My cat Mochi loves boxes", True, source="user", how="the reply has its words"
        ),
        Receipt(1, 2, 8, "topic", "The user likes cats", None, source="reflection"),
        Receipt(1, 3, None, "turn", "Gone", False, source="user"),
    ]
    assert row_text(receipts[0]).startswith("[1] used · your words · My cat Mochi")
    assert row_text(receipts[1]).startswith("[2] not sure · summary of your words")
    assert row_text(receipts[2]).endswith("(forgotten)") and "not used" in row_text(receipts[2])
    assert summary(receipts) == "Shown 3 memories · 1 used · 1 not sure"


class SlowReflection(FakeChatModel):
    """Each reflection call takes a while, as SmolLM2's do; ``calls`` counts them."""

    def __init__(self, replies: list[str], seconds: float) -> None:
        super().__init__(replies)
        self.seconds = seconds
        self.calls = 0
        self.in_step = False
        self.default_json = {"memories": []}

    def complete_json(self, messages, schema, *, max_tokens, should_stop=lambda: False):  # type: ignore[no-untyped-def]
        self.calls += 1
        self.in_step = True
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline and not should_stop():
            time.sleep(0.01)
        self.in_step = False
        return super().complete_json(messages, schema, max_tokens=max_tokens, should_stop=should_stop)


def test_helpful_is_stored_at_once_and_learned_between_reflection_steps(
    qtbot: QtBot, memoir_home: Path
) -> None:
    model = SlowReflection(["Noted.", "Mochi loves cardboard boxes."], seconds=0.0)
    w = start(qtbot, memoir_home, model)
    conversation, reply = _answered_with_memory(qtbot, w)
    recall = w.controller.recall
    assert recall is not None
    qtbot.waitUntil(lambda: not w.controller.reflection.running, timeout=5000)
    model.seconds = 3.0  # reflection is slow from here on
    before = model.calls
    w.controller.reflect(conversation)
    qtbot.waitUntil(lambda: model.calls > before, timeout=5000)  # inside a reflection step now

    def lessons() -> int:
        return len(recall.reranker._pending) + 1000 * recall.reranker.updates

    taught = lessons()
    clicked = time.monotonic()
    w.controller.conversations.memory_feedback(reply, 1, 1)
    seen: list[tuple[int, bool]] = []

    def stored() -> bool:
        if recall.receipts(reply)[0].feedback != 1:
            return False
        seen.append((model.calls, model.in_step))
        return True

    qtbot.waitUntil(stored, timeout=5000)
    print(f"Helpful click to stored row while reflecting: {1000 * (time.monotonic() - clicked):.0f} ms")
    assert seen[0] == (before + 1, True), "stored while the first step was still running"
    qtbot.waitUntil(lambda: lessons() > taught, timeout=10000)
    assert w.controller.reflection.running  # learned between two steps of the same pass, not after it
    w.controller.shutdown()


def test_receipts_show_before_the_memory_has_opened(qtbot: QtBot, memoir_home: Path) -> None:
    """At start the first conversation is drawn before the memory opens (seen under Xvfb: after a
    restart the first conversation showed no receipts until another was opened and back)."""
    import threading

    from app.controller import ChatController
    from memory.retrieval.service import MemoryService
    from memory.runtime.settings import SettingsStore
    from memory.store.database import Store
    from tests.fakes import FakeEmbedder

    conversation, reply, shown = _answered_then_quit(qtbot, memoir_home)

    store = Store(memoir_home / "memoir.db")
    opening = threading.Event()

    def slow_memory(busy: object) -> MemoryService:
        opening.wait(10)  # the memory is still opening while the conversation is drawn
        return MemoryService(store, memoir_home / "index", FakeEmbedder())

    controller = ChatController(
        store,
        SettingsStore(memoir_home / "settings.json"),
        memory_factory=slow_memory,  # type: ignore[arg-type]
    )
    again = MainWindow(controller)
    qtbot.addWidget(again)
    controller.open_memory()
    with qtbot.waitSignal(controller.conversations.receipts_loaded, timeout=5000) as loaded:
        again.open_conversation(conversation)
    assert controller.recall is None  # not open yet
    assert [r.text for r in loaded.args[1][reply]] == [r.text for r in shown]
    opening.set()
    qtbot.waitUntil(lambda: controller.memory is not None, timeout=5000)
    controller.shutdown()

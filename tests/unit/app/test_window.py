"""The main window driven through qtbot with a scripted fake model."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app import dialogs
from app.controller import ModelState
from app.window import MainWindow
from memory.assistant.assistant import ReflectionPass
from memory.store.database import Store
from tests.fake_model import FakeChatModel
from tests.gui import REPLY, make_window, type_and_send


def test_enter_sends_and_reply_streams_into_view_and_store(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.controller.reply_finished, timeout=5000):
        type_and_send(qtbot, window, "Show me a list")
    assert window.composer.toPlainText() == ""
    messages = window.transcript_model.messages()
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].content == REPLY.strip()
    stored = window.controller.store.messages(window.current_id or -1)
    assert [m.content for m in stored] == ["Show me a list", REPLY.strip()]
    assert window.conversations.model.conversation(0).title == "Show me a list"
    assert "tokens/s" in window.speed_label.text()


def test_shift_enter_inserts_a_newline(qtbot: QtBot, window: MainWindow) -> None:
    window.composer.setPlainText("line one")
    window.composer.moveCursor(window.composer.textCursor().MoveOperation.End)
    with qtbot.assertNotEmitted(window.composer.submitted):
        qtbot.keyClick(window.composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert window.composer.toPlainText() == "line one\n"


def test_stop_keeps_partial_reply_marked_stopped(qtbot: QtBot, memoir_home: Path) -> None:
    # 400 different words: the same word 400 times would be a loop, which Memoir stops by itself
    long_reply = " ".join(f"word{i}" for i in range(400))
    w = make_window(qtbot, memoir_home, FakeChatModel([long_reply], delay=0.01))
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY)
    streamed: list[str] = []
    w.controller.reply_text_changed.connect(lambda _id, text: streamed.append(text))
    type_and_send(qtbot, w, "talk a lot")
    qtbot.waitUntil(lambda: len(streamed) >= 2, timeout=5000)
    assert w.stop_button.isEnabled()
    with qtbot.waitSignal(w.controller.reply_finished, timeout=15000) as blocker:  # not a speed check
        qtbot.mouseClick(w.stop_button, Qt.MouseButton.LeftButton)
    message = blocker.args[0].message
    assert message.status == "stopped"
    assert 0 < len(message.content.split()) < 400
    assert w.controller.store.message(message.id).status == "stopped"
    w.controller.shutdown()


def test_regenerate_replaces_the_last_reply(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.controller.reply_finished, timeout=5000):
        type_and_send(qtbot, window, "hello")
    assert window.regenerate_button.isEnabled()
    with qtbot.waitSignal(window.controller.reply_finished, timeout=5000):
        qtbot.mouseClick(window.regenerate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: [m.content for m in window.transcript_model.messages()] == ["hello", "Second answer."]
    )


def test_rename_filter_and_delete_with_confirmation(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = window.controller.store
    for title in ("Holiday plans", "Tax questions"):
        store.create_conversation(title)
    window.controller.conversations.refresh()
    qtbot.waitUntil(lambda: window.conversations.model.rowCount() == 2)
    panel = window.conversations
    panel.filter.setText("tax")
    assert panel.proxy.rowCount() == 1
    panel.filter.clear()
    panel.model.setData(panel.model.index(panel.model.row_of(1)), "Summer holiday")
    qtbot.waitUntil(lambda: store.conversation(1).title == "Summer holiday")
    panel.select(1)
    monkeypatch.setattr(dialogs, "confirm", lambda *a: False)
    panel.delete_current()
    assert len(store.conversations()) == 2
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    panel.delete_current()
    qtbot.waitUntil(lambda: [c.title for c in store.conversations()] == ["Tax questions"])
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1)


def test_new_conversation_gets_focus_and_empty_transcript(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.controller.reply_finished, timeout=5000):
        type_and_send(qtbot, window, "first")
    first = window.current_id
    window.new_action.trigger()
    qtbot.waitUntil(lambda: window.current_id != first and window.current_id is not None)
    assert window.transcript_model.rowCount() == 0
    assert window.empty_hint.isVisible()


def test_copy_message_puts_markdown_on_the_clipboard(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.controller.reply_finished, timeout=5000):
        type_and_send(qtbot, window, "copy this")
    window.transcript.setCurrentIndex(window.transcript_model.index(1))
    window.transcript.copy_current()
    assert QGuiApplication.clipboard().text() == REPLY.strip()


def test_broken_model_shows_a_banner_and_conversations_stay_readable(qtbot: QtBot, memoir_home: Path) -> None:
    memoir_home.mkdir(parents=True, exist_ok=True)
    store = Store(memoir_home / "memoir.db")
    conv = store.create_conversation("Old chat")
    store.add_message(conv.id, "user", "remember me")
    store.close()
    w = make_window(qtbot, memoir_home, None, error="broken.gguf is not a GGUF model file.")
    qtbot.waitUntil(lambda: w.controller.state == ModelState.ERROR)
    assert w.banner.isVisible() and "not a GGUF" in w.banner.text()
    assert not w.send_button.isEnabled()
    qtbot.waitUntil(lambda: w.transcript_model.rowCount() == 1)
    assert w.transcript_model.messages()[0].content == "remember me"
    w.controller.shutdown()


def test_too_long_message_is_refused_with_a_message(
    qtbot: QtBot, memoir_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = make_window(qtbot, memoir_home, FakeChatModel(["ok"], n_ctx=1024))
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY)
    warnings: list[str] = []
    monkeypatch.setattr(dialogs, "warn", lambda _p, _t, text: warnings.append(text))
    with qtbot.waitSignal(w.controller.reply_failed, timeout=5000):
        w.send("word " * 3000)
    assert warnings and "context" in warnings[0]
    qtbot.waitUntil(lambda: [m.status for m in w.transcript_model.messages()] == ["too_long"])
    w.controller.shutdown()


def test_sent_messages_and_replies_become_searchable(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.controller.memory is not None)
    with qtbot.waitSignal(window.controller.reply_finished, timeout=5000):
        type_and_send(qtbot, window, "My cat Mochi loves cardboard boxes")
    memory = window.controller.memory
    assert memory is not None

    def found(query: str, method: str) -> list[str]:
        return [h.item.text for h in memory.search(query, k=3, method=method)]

    qtbot.waitUntil(lambda: memory.items.pending_index() == [] and memory.items.count() == 2)
    for method in ("bm25", "dense", "hybrid"):
        assert found("Mochi cardboard", method)[0] == "My cat Mochi loves cardboard boxes"
    assert "Here is a list" in found("bold item code list", "bm25")[0]


def test_remember_now_turns_the_conversation_into_topic_memories(qtbot: QtBot, memoir_home: Path) -> None:
    model = FakeChatModel(["Nice, enjoy Porto!"])
    model.json_replies = [
        {"memories": [{"summary": "The user is moving to Porto.", "references": [1]}]},
        {"preferences": [{"text": "Mention Porto tips.", "category": "topics", "references": [2]}]},
    ]
    model.default_json = {"action": "Add", "index": 0, "merged_summary": ""}
    w = make_window(qtbot, memoir_home, model)
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY and w.controller.memory is not None)
    with qtbot.waitSignal(w.controller.reply_finished, timeout=5000):
        type_and_send(qtbot, w, "I am moving to Porto in May")
    progress: list[str] = []
    w.controller.reflection_progressed.connect(progress.append)
    with qtbot.waitSignal(w.controller.memories_changed, timeout=5000):
        w.remember_action.trigger()
    # a pass that was already running may be followed by one more before the status clears
    qtbot.waitUntil(lambda: progress[-1:] == [""], timeout=5000)
    assert any(p.startswith("Reflecting") for p in progress)
    memory = w.controller.memory
    assert memory is not None
    rows = memory.store.query("SELECT text, message_ids FROM memory_items WHERE kind = 'topic'")
    # the model's summary, and the user's own words (as the self-disclosure selector judged them)
    assert rows[0]["text"] == "The user is moving to Porto."
    assert {r["text"] for r in rows} <= {"The user is moving to Porto.", "I am moving to Porto in May"}
    w.controller.shutdown()


def test_a_job_queued_during_a_reflection_pass_runs_after_it(qtbot: QtBot, memoir_home: Path) -> None:
    """A pass already past its last look at the queue must not strand a job queued meanwhile."""
    model = FakeChatModel(["Noted."])
    model.default_json = {"memories": []}
    w = make_window(qtbot, memoir_home, model)
    controller = w.controller
    qtbot.waitUntil(lambda: controller.state == ModelState.READY and controller.memory is not None)
    with qtbot.waitSignal(controller.reply_finished, timeout=5000):
        type_and_send(qtbot, w, "My sister Ana lives in Berlin")
    qtbot.waitUntil(lambda: not controller.reflection.running)
    controller.reflection.running = True  # a pass in flight that has already found the queue empty
    controller.reflect(w.current_id)
    qtbot.waitUntil(lambda: controller.reflection.again)  # queued, but the pass in flight won't see it
    jobs = "SELECT status FROM reflection_jobs"
    assert controller.store.query(jobs) == [{"status": "pending"}]
    controller.reflection.finished(ReflectionPass())  # that pass ends, having done nothing
    qtbot.waitUntil(lambda: controller.store.query(jobs) == [{"status": "done"}], timeout=5000)
    controller.shutdown()


def test_quitting_queues_reflection_which_runs_at_the_next_start(qtbot: QtBot, memoir_home: Path) -> None:
    first = FakeChatModel(["Noted."])
    w = make_window(qtbot, memoir_home, first)
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY and w.controller.memory is not None)
    with qtbot.waitSignal(w.controller.reply_finished, timeout=5000):
        type_and_send(qtbot, w, "My sister Ana lives in Berlin")
    w.controller.shutdown(w.current_id)
    w.close()
    store = Store(memoir_home / "memoir.db")
    assert store.query("SELECT status FROM reflection_jobs") == [{"status": "pending"}]
    store.close()
    second = FakeChatModel()
    second.json_replies = [
        {"memories": [{"summary": "The user's sister Ana lives in Berlin.", "references": [1]}]}
    ]
    second.default_json = {"action": "Add", "index": 0, "merged_summary": ""}  # the user's own words
    again = make_window(qtbot, memoir_home, second)
    qtbot.waitUntil(lambda: again.controller.memory is not None, timeout=10000)
    memory = again.controller.memory
    assert memory is not None
    qtbot.waitUntil(
        lambda: (
            memory.store.query("SELECT count(*) AS n FROM memory_items WHERE kind = 'topic'")[0]["n"] >= 1
        ),
        timeout=10000,
    )
    assert memory.store.query("SELECT status FROM reflection_jobs") == [{"status": "done"}]
    again.controller.shutdown()


def test_a_parked_reflection_is_reported_once_not_after_every_reply(qtbot: QtBot, memoir_home: Path) -> None:
    model = FakeChatModel(["ok"])
    model.json_replies = [ValueError("garbage JSON")] * 3
    model.default_json = {"memories": []}
    w = make_window(qtbot, memoir_home, model)
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY and w.controller.memory is not None)
    problems: list[str] = []
    w.controller.problem.connect(problems.append)
    with qtbot.waitSignal(w.controller.reply_finished, timeout=5000):
        type_and_send(qtbot, w, "hello there")
    w.remember_action.trigger()
    qtbot.waitUntil(lambda: any("could not be turned into memories" in p for p in problems), timeout=5000)
    with qtbot.waitSignal(w.controller.reply_finished, timeout=5000):
        type_and_send(qtbot, w, "another message")
    qtbot.waitUntil(lambda: not w.controller.reflection.running, timeout=5000)
    qtbot.wait(100)
    assert sum("could not be turned into memories" in p for p in problems) == 1
    w.controller.shutdown()


def test_sending_before_the_model_is_ready_keeps_the_text_and_says_why(
    qtbot: QtBot, memoir_home: Path
) -> None:
    w = make_window(qtbot, memoir_home, None, error="no model here")
    qtbot.waitUntil(lambda: w.controller.state == ModelState.ERROR)
    type_and_send(qtbot, w, "please keep me")
    assert w.composer.toPlainText() == "please keep me"
    assert "no model is loaded" in w.statusBar().currentMessage()
    w.controller.shutdown()


def test_settings_dialog_offers_browse_for_both_model_files_and_cancel_changes_nothing(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QPushButton

    from app.settings_dialog import SettingsDialog
    from memory.runtime.settings import Settings

    original = Settings(temperature=0.3)
    dialog = SettingsDialog(original)
    qtbot.addWidget(dialog)
    assert len([b for b in dialog.findChildren(QPushButton) if b.text() == "Browse…"]) == 2
    dialog.reject()
    assert dialog.settings() == original


def test_deleting_a_conversation_empties_an_open_memory_browser_of_its_memories(
    qtbot: QtBot, memoir_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = FakeChatModel(["Nice, enjoy Porto!"])
    model.default_json = {"memories": [{"summary": "The user is moving to Porto.", "references": [1]}]}
    w = make_window(qtbot, memoir_home, model)
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY and w.controller.memory is not None)
    with qtbot.waitSignal(w.controller.reply_finished, timeout=5000):
        type_and_send(qtbot, w, "I am moving to Porto in May")
    with qtbot.waitSignal(w.controller.memories_changed, timeout=5000):
        w.remember_action.trigger()
    qtbot.waitUntil(lambda: not w.controller.reflection.running, timeout=5000)
    browser = w.memory_actions
    browser.dock.show()
    browser.panel.refresh()
    qtbot.waitUntil(lambda: browser.panel.model.rowCount() > 0, timeout=5000)
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    w.conversations.delete_current()
    qtbot.waitUntil(lambda: browser.panel.model.rowCount() == 0, timeout=5000)
    w.controller.shutdown()

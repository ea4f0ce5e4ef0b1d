"""A message sent while a reply streams waits in the box and goes out when the reply ends."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.controller import ModelState
from app.send_queue import WAITING
from app.window import MainWindow
from tests.fake_model import FakeChatModel
from tests.gui import make_window, type_and_send

LONG = " ".join(f"word{i}" for i in range(120))  # different words: a repeated one is a loop


def streaming(qtbot: QtBot, memoir_home: Path) -> MainWindow:
    """A window whose first reply is streaming (slowly) when this returns."""
    model = FakeChatModel([LONG, "The second answer."], delay=0.01)
    model.default_json = {"memories": []}  # leaving a conversation reflects on it
    w = make_window(qtbot, memoir_home, model)
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY)
    type_and_send(qtbot, w, "talk a lot")
    qtbot.waitUntil(lambda: w.controller.state == ModelState.GENERATING, timeout=5000)
    return w


def test_enter_while_a_reply_streams_sends_the_message_when_it_ends(qtbot: QtBot, memoir_home: Path) -> None:
    w = streaming(qtbot, memoir_home)
    type_and_send(qtbot, w, "and one more thing")
    assert w.composer.toPlainText() == "and one more thing"  # still in the box while it waits
    assert w.send_button.text() == "Queued" and w.statusBar().currentMessage() == WAITING
    assert w.controller.state == ModelState.GENERATING  # the first reply goes on
    qtbot.waitUntil(lambda: len(w.transcript_model.messages()) == 4, timeout=15000)
    with qtbot.waitSignal(w.controller.reply_finished, timeout=15000) as second:
        pass
    assert second.args[0].message.content == "The second answer."
    stored = w.controller.store.messages(w.current_id or -1)
    assert [m.content for m in stored] == ["talk a lot", LONG, "and one more thing", "The second answer."]
    assert w.composer.toPlainText() == "" and w.send_button.text() == "Send"
    w.controller.shutdown()


def test_editing_a_waiting_message_takes_it_out_of_the_queue(qtbot: QtBot, memoir_home: Path) -> None:
    w = streaming(qtbot, memoir_home)
    type_and_send(qtbot, w, "send me later")
    assert w.send_queue.waiting == "send me later"
    w.composer.setPlainText("send me later, and this too")
    assert w.send_queue.waiting is None and w.send_button.text() == "Send"
    assert "out of the queue" in w.statusBar().currentMessage()
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY, timeout=15000)
    qtbot.wait(100)
    assert [m.content for m in w.controller.store.messages(w.current_id or -1)] == ["talk a lot", LONG]
    assert w.composer.toPlainText() == "send me later, and this too"  # nothing lost
    w.controller.shutdown()


def test_a_message_queued_in_one_conversation_is_not_sent_into_another(
    qtbot: QtBot, memoir_home: Path
) -> None:
    w = streaming(qtbot, memoir_home)
    first = w.current_id
    said: list[str] = []  # other messages (leaving a conversation reflects on it) may follow it
    w.statusBar().messageChanged.connect(said.append)
    type_and_send(qtbot, w, "for the first conversation")
    w.new_conversation()
    # the new conversation is made on the io lane; waiting for a list refresh instead failed once
    # in CI (another refresh, from the reply, came first)
    qtbot.waitUntil(lambda: w.current_id not in (None, first), timeout=5000)
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY, timeout=15000)
    qtbot.waitUntil(lambda: any("another conversation" in text for text in said), timeout=5000)
    assert w.send_queue.waiting is None and w.send_button.text() == "Send"
    assert w.controller.store.messages(w.current_id or -1) == []
    assert len(w.controller.store.messages(first or -1)) == 2
    assert w.composer.toPlainText() == "for the first conversation"  # still in the box
    w.controller.shutdown()

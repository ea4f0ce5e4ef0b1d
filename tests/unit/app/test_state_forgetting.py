"""Conversations' saved llama.cpp caches hold what was said: deleting or forgetting clears them."""

from __future__ import annotations

import threading
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.model_host import STATES, ModelState
from memory.runtime.lane import BACKGROUND
from tests.fake_model import FakeChatModel
from tests.gui import make_window


def saved_state(home: Path) -> Path:
    path = home / STATES / "somekey" / "abc.state"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"MEMOIR-STATE-1\n" + b"\0" * 64)
    return path


def test_deleting_a_conversation_deletes_the_saved_caches(qtbot: QtBot, memoir_home: Path) -> None:
    w = make_window(qtbot, memoir_home, FakeChatModel(["Hi."]))
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY)
    conversation = w.controller.store.create_conversation("To delete")
    state = saved_state(memoir_home)
    w.controller.conversations.delete(conversation.id)
    qtbot.waitUntil(lambda: not state.exists())
    w.controller.shutdown()


def test_regenerating_a_reply_deletes_the_saved_caches(qtbot: QtBot, memoir_home: Path) -> None:
    w = make_window(qtbot, memoir_home, FakeChatModel(["Hi.", "Hello again."]))
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY)
    conversation = w.controller.store.create_conversation("Chat")
    w.controller.store.add_message(conversation.id, "user", "Hello")
    w.controller.store.add_message(conversation.id, "assistant", "Hi.")
    state = saved_state(memoir_home)
    w.controller.regenerate(conversation.id)
    qtbot.waitUntil(lambda: not state.exists())
    w.controller.shutdown()


def test_shutdown_drops_queued_background_work_and_closes_the_model_last(
    qtbot: QtBot, memoir_home: Path
) -> None:
    """A read-ahead queued as a reply ended ran after the model was freed and crashed the app (CI,
    test_real_model); forgetting's cleanup, queued as urgent, still runs before the close."""
    model = FakeChatModel(["Hi."])
    w = make_window(qtbot, memoir_home, model)
    qtbot.waitUntil(lambda: w.controller.state == ModelState.READY)
    gate, ran = threading.Event(), []
    w.controller.model_lane.submit(gate.wait)  # the model is busy: what follows waits in the queue
    background = w.controller.model_lane.submit(lambda: ran.append(model.closed), priority=BACKGROUND)
    state = saved_state(memoir_home)
    w.controller.host.forget_states()
    threading.Timer(0.2, gate.set).start()
    w.controller.shutdown()
    assert background.cancelled() and ran == []
    assert model.closed and not state.exists()

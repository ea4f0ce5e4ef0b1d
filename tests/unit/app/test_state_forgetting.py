"""Conversations' saved llama.cpp caches hold what was said: deleting or forgetting clears them."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.model_host import STATES, ModelState
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

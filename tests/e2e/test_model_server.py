"""The model-server engine against a real llama-cpp-python server (``python -m llama_cpp.server``)
started here on 127.0.0.1 with the packaged model: streaming, Stop, reflection's JSON schema, the
server killed mid-reply, and the app itself answering through it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.controller import ChatController, ModelState
from app.window import MainWindow
from memory.answering.chat import ChatService
from memory.llm.server_engine import ServerChatModel, ServerLost
from memory.runtime.settings import Settings, SettingsStore
from memory.store.database import CUT_OFF, Store
from tests.gui import type_and_send

SCHEMA = {
    "type": "object",
    "properties": {
        "memories": {"type": "array", "items": {"type": "string", "maxLength": 80}, "maxItems": 3}
    },
    "required": ["memories"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(model: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    args = ["--model", str(model), "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", *args, "--n_threads", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the llama-cpp-python server exited while starting"
        try:
            with urllib.request.urlopen(url + "/v1/models", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError("the llama-cpp-python server did not start within 90 s")


@pytest.fixture
def server(smollm2: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    proc, url = start_server(smollm2)
    yield proc, url
    proc.kill()
    proc.wait()


def ask(model: ServerChatModel, text: str) -> list[int]:
    return model.format_prompt(
        [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": text}]
    )


def test_a_reply_streams_with_its_timings_and_tokens_are_counted_by_the_server(server: tuple) -> None:
    model = ServerChatModel(server[1], n_ctx=2048).connect()
    assert model.name == "SmolLM2-135M-Instruct.Q4_1.gguf on 127.0.0.1"
    counted = model.count_tokens("Hello there, how are you today?")
    assert 5 <= counted <= 12  # the server's tokenizer, not the byte estimate (11)
    pieces = []
    generation = model.generate(
        ask(model, "Name three fruits."), max_tokens=48, temperature=0.0, should_stop=lambda: False
    )
    for piece in generation:
        pieces.append(piece)
    assert len(pieces) > 3 and "".join(pieces).strip()
    stats = generation.stats
    assert stats.completion_tokens == len(pieces) and 0 < stats.time_to_first_token < stats.seconds
    assert stats.tokens_per_second > 0 and not stats.stopped


def test_stop_ends_the_reply_and_the_server_answers_the_next_one(server: tuple) -> None:
    model = ServerChatModel(server[1], n_ctx=2048).connect()
    pieces: list[str] = []
    generation = model.generate(
        ask(model, "Write a long story about a lighthouse keeper."),
        max_tokens=400,
        temperature=0.0,
        should_stop=lambda: len(pieces) >= 5,
    )
    for piece in generation:
        pieces.append(piece)
    assert len(pieces) == 5 and generation.stats.stopped
    again = model.generate(
        ask(model, "Say hello."), max_tokens=16, temperature=0.0, should_stop=lambda: False
    )
    assert "".join(again).strip()


def test_reflection_gets_json_that_follows_its_schema(server: tuple) -> None:
    model = ServerChatModel(server[1], n_ctx=2048).connect()
    for text in ("I have a beagle called Biscuit.", "I work night shifts as a nurse."):
        answer = model.complete_json(
            [{"role": "user", "content": f"List what the user said about themselves: {text}"}],
            SCHEMA,
            max_tokens=200,
        )
        assert isinstance(answer, dict) and set(answer) == {"memories"}
        assert all(isinstance(m, str) and len(m) <= 80 for m in answer["memories"])
    assert model.json_schema_supported  # llama.cpp's server turned the schema into a grammar


def test_a_server_killed_mid_reply_keeps_what_arrived_marked_cut_off(server: tuple, tmp_path: Path) -> None:
    proc, url = server
    model = ServerChatModel(url, n_ctx=2048).connect()
    store = Store(tmp_path / "memoir.db")
    chat = ChatService(store)
    conversation = store.create_conversation()
    chat.send(conversation.id, "Write a long story about a lighthouse keeper and his cat.")
    seen: list[str] = []

    def kill_after_first(_message_id: int, text: str) -> None:
        seen.append(text)
        if len(seen) == 3:
            proc.kill()

    settings = replace(Settings(), max_tokens=400, temperature=0.0)
    with pytest.raises(ServerLost, match="what arrived is kept"):
        chat.reply(conversation.id, model, settings, on_text=kill_after_first)
    reply = store.messages(conversation.id)[-1]
    assert reply.role == "assistant" and reply.status == CUT_OFF
    assert reply.content and reply.content == seen[-1]
    assert chat.history(conversation.id)[-1].id == reply.id  # still part of the conversation
    store.close()


def test_the_app_answers_through_a_model_server(qtbot: QtBot, server: tuple, memoir_home: Path) -> None:
    """The real controller and window, the model set to the server in Settings (no model file)."""
    memoir_home.mkdir(parents=True, exist_ok=True)
    settings_path = memoir_home / "settings.json"
    settings_path.write_text(json.dumps({"model_server": server[1], "n_ctx": 2048, "max_tokens": 32}))
    store = Store(memoir_home / "memoir.db")
    controller = ChatController(store, SettingsStore(settings_path))
    window = MainWindow(controller)
    qtbot.addWidget(window)
    window.show()
    controller.load_model()
    qtbot.waitUntil(lambda: controller.state == ModelState.READY, timeout=20000)
    assert "on 127.0.0.1" in window.model_label.text()
    with qtbot.waitSignal(controller.reply_finished, timeout=60000) as finished:
        type_and_send(qtbot, window, "Say hello in one sentence.")
    result = finished.args[0]
    assert result.message.content.strip() and result.message.status == "complete"
    assert result.stats.tokens_per_second > 0 and "tokens/s" in window.speed_label.text()
    controller.shutdown()

"""A scripted OpenAI-compatible server (stdlib, on 127.0.0.1) for tests of the model-server engine
and of the settings dialog's Check: models listed, replies streamed as server-sent events, a
response_format refused, an error mid-stream — whatever a test sets on its :class:`Script`."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens there


class Script:
    """What the scripted server answers; tests change it."""

    def __init__(self) -> None:
        self.models: list[str] | None = ["tiny"]
        self.refuse_schema = False
        self.refusal = "response_format is not supported"  # what the server says when it refuses
        self.reply = '{"memories": ["I have a beagle."]}'
        self.error_mid_stream = False
        self.requests: list[dict[str, Any]] = []
        self.n_ctx: int | None = None  # served at /props, as llama-server does
        self.api_key: str | None = None  # required as a bearer token, as llama-server --api-key does


def make_handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _refused(self) -> bool:
            if script.api_key and self.headers.get("Authorization") != f"Bearer {script.api_key}":
                self._json(401, {"error": {"message": "Invalid API Key"}})
                return True
            return False

        def do_GET(self) -> None:
            if self._refused():
                return
            if self.path == "/v1/models" and script.models is not None:
                self._json(200, {"data": [{"id": m} for m in script.models]})
            elif self.path == "/props" and script.n_ctx is not None:
                self._json(200, {"default_generation_settings": {"n_ctx": script.n_ctx}})
            else:
                self._json(404, {"error": {"message": "Not found"}})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self._refused():
                return
            script.requests.append(body)
            if self.path != "/v1/chat/completions":
                self._json(404, {"error": "Not found"})
                return
            if script.refuse_schema and "response_format" in body:
                self._json(400, {"error": {"message": script.refusal}})
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in script.reply.split(" "):
                event = {"choices": [{"delta": {"content": word + " "}, "finish_reason": None}]}
                self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
            if script.error_mid_stream:
                self.wfile.write(b'data: {"error": {"message": "out of memory"}}\n\n')
            self.wfile.write(b"data: [DONE]\n\n")

    return Handler


@pytest.fixture
def scripted() -> Iterator[tuple[Script, str]]:
    script = Script()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(script))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield script, f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()

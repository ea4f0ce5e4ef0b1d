"""A chat model on a server the user runs: any OpenAI-compatible endpoint (llama.cpp's
``llama-server``, ``python -m llama_cpp.server``, Ollama), for a model too big for this computer.

It behaves as :class:`memory.llm.engine.ChatModel` does, so the rest of Memoir cannot tell: a
prompt is the list of messages (kept on the token list :meth:`format_prompt` returns, whose length
is the prompt's size in the server's tokens), replies stream over server-sent events, Stop closes
the connection (the server stops generating), and a server that goes away mid-reply raises
:class:`ServerLost` after what was streamed. Tokens are counted by the server when it can
(``/extras/tokenize/count``, ``/tokenize``), else estimated. Reflection asks for JSON constrained by
its schema (``response_format``); a server that refuses that is asked for plain JSON instead.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from memory.llm.engine import Generation, GenerationStats, Interrupted, ModelError
from memory.runtime.text import json_from_model

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 300.0  # a big model on a slow server may think long before its first token
BYTES_PER_TOKEN = 3  # the estimate when the server cannot count: errs on the side of a shorter prompt
TEMPLATE_OVERHEAD = 6


class ServerLost(ModelError):
    """The server stopped answering during a reply (what arrived before is kept)."""


class ServerPrompt(list[int]):
    """The messages of a prompt, with a length equal to their size in tokens (what budgets see)."""

    def __init__(self, messages: list[dict[str, str]], tokens: int) -> None:
        super().__init__(range(tokens))
        self.messages = messages


def server_address(url: str) -> tuple[str, int, bool, str]:
    """(host, port, https, path prefix) of a server URL, or ModelError saying what is wrong with it."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ModelError(f"“{url}” is not a server address; write it like http://192.168.1.20:8080")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ModelError(f"“{url}” has an unusable port: {exc}") from exc
    prefix = parts.path.rstrip("/")
    if prefix.endswith("/v1"):
        prefix = prefix[:-3]
    return parts.hostname, port, parts.scheme == "https", prefix


class ServerChatModel:
    """A model behind an OpenAI-compatible chat endpoint. Used from the model lane only."""

    def __init__(
        self, url: str, model: str = "", n_ctx: int = 4096, timeout: float = READ_TIMEOUT, api_key: str = ""
    ) -> None:
        self.url = url.strip()
        self._api_key = api_key.strip()  # sent to this server only, as a bearer token
        self.host, self.port, self.https, self.prefix = server_address(url)
        self.model = model.strip()
        self.n_ctx = n_ctx
        self.timeout = timeout
        self.name = ""
        self.json_schema_supported = True  # until the server refuses a schema once
        self.context_from_server = False  # n_ctx as the server reported it, not the setting
        self._count_path: str | None = None  # where the server counts tokens, if anywhere
        self._counts: dict[str, int] = {}

    # Connection ----------------------------------------------------------------------------

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        return kind(self.host, self.port, timeout=timeout)

    def _request(self, method: str, path: str, body: Any = None, timeout: float = CONNECT_TIMEOUT) -> Any:
        """One JSON request; raises ModelError with the server's own words when it refuses."""
        conn = self._connection(timeout)
        try:
            conn.request(method, self.prefix + path, *self._body(body))
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ModelError(f"The model server at {self.url} cannot be reached: {_reason(exc)}") from exc
        finally:
            conn.close()
        if response.status >= 400:
            raise ServerRefused(response.status, _error_text(data))
        try:
            return json.loads(data or b"null")
        except ValueError as exc:
            raise ModelError(f"The model server at {self.url} did not answer in JSON ({path}).") from exc

    def _body(self, body: Any) -> tuple[Any, dict[str, str]]:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        if body is None:
            return None, headers
        return json.dumps(body).encode("utf-8"), headers | {"Content-Type": "application/json"}

    def connect(self) -> ServerChatModel:
        """Check the server answers and learn its model's name, context size and token counter."""
        try:
            listed = self._request("GET", "/v1/models")
        except ServerRefused as exc:
            if exc.status in (401, 403):
                key = "the API key in Settings was refused" if self._api_key else "it asks for an API key"
                raise ModelError(f"The server at {self.url} will not answer: {key} ({exc}).") from exc
            raise ModelError(f"The server at {self.url} is not an OpenAI-compatible one: {exc}") from exc
        models = [m.get("id", "") for m in (listed or {}).get("data", []) if isinstance(m, dict)]
        if not self.model:
            if not models:
                raise ModelError(f"The server at {self.url} offers no model; load one there first.")
            self.model = models[0]
        self.name = f"{Path(self.model).name or self.model} on {self.host}"
        self._learn_context()
        self._count_path = self._find_counter()
        return self

    def _learn_context(self) -> None:
        try:  # llama-server reports its context; a smaller one than the setting wins
            props = self._request("GET", "/props")
            n_ctx = int(props["default_generation_settings"]["n_ctx"])
        except (ModelError, ServerRefused, KeyError, TypeError, ValueError):
            return
        if n_ctx > 0:
            self.n_ctx, self.context_from_server = min(self.n_ctx, n_ctx), True

    def _find_counter(self) -> str | None:
        for path in ("/extras/tokenize/count", "/tokenize"):
            try:
                self._count_at(path, "Hello")
            except (ModelError, ServerRefused, KeyError, TypeError, ValueError):
                continue
            return path
        return None

    def _count_at(self, path: str, text: str) -> int:
        if path == "/tokenize":
            return len(self._request("POST", path, {"content": text})["tokens"])
        return int(self._request("POST", path, {"input": text, "model": self.model})["count"])

    # ChatModel -----------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        if text in self._counts:
            return self._counts[text]
        count = math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)
        if self._count_path is not None:
            # where the server fails to count, the estimate serves; the next call asks again
            with contextlib.suppress(ModelError, ServerRefused, KeyError, TypeError, ValueError):
                count = self._count_at(self._count_path, text)
        if len(self._counts) > 4096:
            self._counts.clear()
        self._counts[text] = count
        return count

    def format_prompt(self, messages: list[dict[str, str]]) -> list[int]:
        merged = merge_late_system(messages)
        size = sum(self.count_tokens(m["content"]) + TEMPLATE_OVERHEAD for m in merged)
        return ServerPrompt(merged, size)

    def generate(
        self,
        prompt: list[int],
        *,
        max_tokens: int,
        temperature: float,
        should_stop: Callable[[], bool],
    ) -> Generation:
        if not isinstance(prompt, ServerPrompt):
            raise TypeError("a server model generates from its own format_prompt()")
        stats = GenerationStats(prompt_tokens=len(prompt))
        body = {"messages": prompt.messages, "max_tokens": max_tokens, "temperature": temperature}
        return Generation(self._stream(body, should_stop, stats), stats)

    def _stream(
        self, body: dict[str, Any], should_stop: Callable[[], bool], stats: GenerationStats
    ) -> Iterator[str]:
        start = time.perf_counter()
        conn = self._connection(self.timeout)
        try:
            try:
                response = self._open_stream(conn, body)
            except ServerRefused as exc:
                raise ModelError(f"The model server refused the reply: {exc}") from exc
            for event in _events(response, self.url):
                choice = (event.get("choices") or [{}])[0]
                piece = (choice.get("delta") or {}).get("content") or ""
                if choice.get("finish_reason") == "length":
                    stats.truncated = True
                if piece:
                    if stats.completion_tokens == 0:
                        stats.time_to_first_token = time.perf_counter() - start
                    stats.completion_tokens += 1
                    yield piece
                if should_stop():
                    stats.stopped = True
                    break
        finally:
            conn.close()  # closing mid-stream is how the server learns to stop
            stats.seconds = time.perf_counter() - start

    def _open_stream(
        self, conn: http.client.HTTPConnection, body: dict[str, Any]
    ) -> http.client.HTTPResponse:
        """A streamed chat completion, opened; ServerRefused when the server answers with an error."""
        payload = {"model": self.model, "stream": True, **body}
        try:
            conn.request("POST", self.prefix + "/v1/chat/completions", *self._body(payload))
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            raise ModelError(f"The model server at {self.url} cannot be reached: {_reason(exc)}") from exc
        if response.status >= 400:
            raise ServerRefused(response.status, _error_text(response.read()))
        return response

    def complete_json(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        *,
        max_tokens: int,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Any:
        """JSON constrained by ``schema`` where the server can (llama.cpp's servers turn the schema
        into a grammar); where it refuses, plain JSON asked for in words, checked by the caller."""
        body: dict[str, Any] = {
            "messages": merge_late_system(messages),
            "max_tokens": max_tokens,
            "temperature": 0.0,
        }
        if self.json_schema_supported:
            try:
                return self._json(
                    body | {"response_format": {"type": "json_object", "schema": schema}}, should_stop
                )
            except ServerRefused as exc:
                # a refusal that names the schema is remembered; any other is retried plain this once
                words = str(exc).lower()
                if any(w in words for w in ("response_format", "schema", "grammar", "json")):
                    self.json_schema_supported = False
        asked = [*body["messages"]]
        asked[-1] = {**asked[-1], "content": asked[-1]["content"] + "\n\nAnswer with JSON only."}
        return self._json(body | {"messages": asked}, should_stop)

    def _json(self, body: dict[str, Any], should_stop: Callable[[], bool]) -> Any:
        conn = self._connection(self.timeout)
        text = ""
        try:
            for event in _events(self._open_stream(conn, body), self.url):
                text += ((event.get("choices") or [{}])[0].get("delta") or {}).get("content") or ""
                if should_stop():
                    raise Interrupted()
        finally:
            conn.close()
        return json_from_model(text)

    def close(self) -> None:
        self._counts.clear()


class ServerRefused(Exception):
    """The server answered with an HTTP error (its own message kept)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


def merge_late_system(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """System messages after the first are folded into the message that follows them: many chat
    templates refuse a system message anywhere but first, and a server's template is unknown here."""
    merged: list[dict[str, str]] = []
    pending: list[str] = []
    for i, message in enumerate(messages):
        if message["role"] == "system" and i > 0:
            pending.append(message["content"])
            continue
        if pending:
            message = {**message, "content": "\n\n".join([*pending, message["content"]])}
            pending = []
        merged.append(message)
    if pending:
        merged.append({"role": "user", "content": "\n\n".join(pending)})
    return merged


def _events(response: http.client.HTTPResponse, url: str) -> Iterator[dict[str, Any]]:
    """The JSON events of a server-sent stream, up to ``[DONE]``; ServerLost if it ends before."""
    try:
        while True:
            line = response.readline()
            if not line:
                raise ServerLost(
                    f"The model server at {url} closed the connection mid-reply; what arrived is kept."
                )
            line = line.strip()
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                return
            event = json.loads(data)
            if isinstance(event, dict) and "error" in event:
                raise ModelError(f"The model server stopped with an error: {_error_text(data)}")
            if isinstance(event, dict):
                yield event
    except (OSError, http.client.HTTPException) as exc:
        raise ServerLost(
            f"The model server at {url} stopped answering mid-reply ({_reason(exc)}); what arrived is kept."
        ) from exc


def _error_text(data: bytes) -> str:
    try:
        body = json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace").strip()[:300] or "no reason given"
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        error = error.get("message", error)
    return str(error)[:300]


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.removeprefix("[Errno 111] ")

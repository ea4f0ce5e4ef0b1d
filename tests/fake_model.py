"""A deterministic, scripted chat model for tests and GUI benchmarks (no llama.cpp needed)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from memory.llm.engine import Generation, GenerationStats, Interrupted, TemplateRefused

_TOKEN = re.compile(r"\s*\S+|\s+")


class FakeChatModel:
    """Replies from a script (cycled), one word-token at a time, optionally with a delay per token.

    Tokens are whitespace-separated words; roles are framed by one marker token each, so prompt
    lengths and prefix reuse behave like a real model's.
    """

    def __init__(
        self,
        replies: list[str] | None = None,
        *,
        n_ctx: int = 4096,
        delay: float = 0.0,
        name: str = "fake-model",
    ) -> None:
        self.replies = replies or ["Hello! I am a **fake** model.\n\n- one\n- two"]
        self.n_ctx = n_ctx
        self.delay = delay
        self.name = name
        self.prompts: list[list[str]] = []
        self._cache: list[str] = []
        self._turn = 0
        self.closed = False
        self.json_replies: list[Any] = []
        self.default_json: Any = None  # returned once the script is used up, if set
        self.json_prompts: list[list[dict[str, str]]] = []
        self.system_only_first = False  # refuse a system message after the first, as some templates do
        self.read_aheads: list[list[str]] = []  # the words each read-ahead evaluated
        self._word_of: dict[int, str] = {}

    def _words(self, text: str) -> list[str]:
        return _TOKEN.findall(text)

    def count_tokens(self, text: str) -> int:
        return len(self._words(text))

    def format_prompt(self, messages: list[dict[str, str]]) -> list[int]:
        if self.system_only_first and any(m["role"] == "system" for m in messages[1:]):
            raise TemplateRefused("System role is only supported as the first message")
        words: list[str] = []
        for message in messages:
            words += [f"<{message['role']}>", *self._words(message["content"]), "</>"]
        words.append("<assistant>")
        self._last_words = words
        tokens = [hash(w) & 0xFFFFFF for w in words]
        self._word_of.update(zip(tokens, words, strict=True))
        return tokens

    def read_ahead(self, prompt: list[int], upto: int, should_stop: Callable[[], bool]) -> int:
        """The first ``upto`` tokens of ``prompt`` become the cache (as llama.cpp's would)."""
        if should_stop():
            return 0
        self._cache = [self._word_of[t] for t in prompt[:upto]]
        self.read_aheads.append(self._cache)
        return upto

    def generate(
        self,
        prompt: list[int],
        *,
        max_tokens: int,
        temperature: float,
        should_stop: Callable[[], bool],
    ) -> Generation:
        words = self._last_words
        reused = 0
        for a, b in zip(self._cache, words, strict=False):
            if a != b:
                break
            reused += 1
        stats = GenerationStats(prompt_tokens=len(prompt), reused_tokens=min(reused, len(prompt) - 1))
        self.prompts.append(words)
        reply = self.replies[self._turn % len(self.replies)]
        self._turn += 1
        return Generation(self._stream(words, reply, max_tokens, should_stop, stats), stats)

    def _stream(
        self,
        words: list[str],
        reply: str,
        max_tokens: int,
        should_stop: Callable[[], bool],
        stats: GenerationStats,
    ) -> Iterator[str]:
        start = time.perf_counter()
        produced: list[str] = []
        try:
            for piece in self._words(reply):
                if stats.completion_tokens >= max_tokens:
                    stats.truncated = True
                    break
                if self.delay:
                    time.sleep(self.delay)
                if stats.completion_tokens == 0:
                    stats.time_to_first_token = time.perf_counter() - start
                stats.completion_tokens += 1
                produced.append(piece)
                yield piece
                if should_stop():
                    stats.stopped = True
                    break
        finally:
            self._cache = words + produced
            stats.seconds = time.perf_counter() - start

    def complete_json(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        *,
        max_tokens: int,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Any:
        """The next scripted object (``json_replies``); an Exception in the script is raised."""
        self.json_prompts.append(messages)
        if not self.json_replies:
            if self.default_json is not None:
                return self.default_json
            raise AssertionError("FakeChatModel has no scripted JSON reply left")
        reply = self.json_replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        if should_stop():
            raise Interrupted()
        return reply

    def close(self) -> None:
        self.closed = True

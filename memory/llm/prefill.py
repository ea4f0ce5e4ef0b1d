"""Reading a background prompt in chunks, so that the user never waits for all of it.

llama.cpp evaluates a prompt in one call that cannot stop halfway: a message sent while reflection
reads its prompt waited for all of it (4.2 s, bench/bench_latency.py). Reflection's prompts are
evaluated here first, all but the last token, in chunks with a look at ``should_stop`` between them;
the completion then finds that prefix in llama.cpp's cache and evaluates the last token itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

# Tokens between two looks at should_stop: at ~300 prompt tokens/s on 2 cores, ~0.4 s at most.
PREFILL_CHUNK = 128
# Reading ahead while the user types (memory/llm/engine.py): a message sent meanwhile waits for one
# chunk at most, ~0.2 s deep in the context at the slowest measured prompt speed (~160 tokens/s).
READ_AHEAD_CHUNK = 32


@runtime_checkable
class ReadsAhead(Protocol):
    """A model that can evaluate the start of the next prompt before it is sent (a local one)."""

    def read_ahead(self, prompt: list[int], upto: int, should_stop: Callable[[], bool]) -> int: ...


class Interrupted(Exception):
    """A background generation gave way to the user (it is retried later, not counted as failed)."""


def prefill(
    llama: Any,
    prompt: list[int],
    cached: int,
    should_stop: Callable[[], bool],
    upto: int | None = None,
    chunk: int = PREFILL_CHUNK,
) -> None:
    """Evaluate ``prompt[:upto]`` (all but the last token by default) in ``llama`` after the first
    ``cached`` tokens it already holds; raise :class:`Interrupted` between chunks once
    ``should_stop()``."""
    end = len(prompt) - 1 if upto is None else upto
    llama.n_tokens = min(llama.n_tokens, cached)  # eval() drops the KV cache from here on
    for start in range(llama.n_tokens, end, chunk):
        if should_stop():
            raise Interrupted()
        llama.eval(prompt[start : min(start + chunk, end)])

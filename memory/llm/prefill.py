"""Reading a background prompt in chunks, so that the user never waits for all of it.

llama.cpp evaluates a prompt in one call that cannot stop halfway: a message sent while reflection
reads its prompt waited for all of it (4.2 s, bench/bench_latency.py). Reflection's prompts are
evaluated here first, all but the last token, in chunks with a look at ``should_stop`` between them;
the completion then finds that prefix in llama.cpp's cache and evaluates the last token itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Tokens between two looks at should_stop: at ~300 prompt tokens/s on 2 cores, ~0.4 s at most.
PREFILL_CHUNK = 128


class Interrupted(Exception):
    """A background generation gave way to the user (it is retried later, not counted as failed)."""


def prefill(llama: Any, prompt: list[int], cached: int, should_stop: Callable[[], bool]) -> None:
    """Evaluate ``prompt[:-1]`` in ``llama`` after the first ``cached`` tokens it already holds;
    raise :class:`Interrupted` between chunks once ``should_stop()``."""
    llama.n_tokens = min(llama.n_tokens, cached)  # eval() drops the KV cache from here on
    for start in range(llama.n_tokens, len(prompt) - 1, PREFILL_CHUNK):
        if should_stop():
            raise Interrupted()
        llama.eval(prompt[start : min(start + PREFILL_CHUNK, len(prompt) - 1)])

"""A benchmark's memo of the model's JSON answers (reflection), so a rerun skips what it already asked.

Grammar-constrained answers are greedy (temperature 0), so the same prompt to the same model file
gives the same answer: keyed by the model file and the exact request, the cache changes no result.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memory.llm.engine import ChatModel


def _cache_base() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "memoir"


def model_forms_folder() -> Path:
    """Where benchmarks keep the packaged model's converted form (the app keeps its own)."""
    return _cache_base() / "models"


def reflection_cache(model_path: Path) -> Path:
    """Where answers of this model file are kept (its size and first MiB name it)."""
    with model_path.open("rb") as handle:
        head = handle.read(1 << 20)
    key = hashlib.sha256(head + str(model_path.stat().st_size).encode()).hexdigest()[:16]
    return _cache_base() / "bench" / f"json-{key}.jsonl"


class CachedJson:
    """The model, with ``complete_json`` answered from ``path`` when the request was seen before."""

    def __init__(self, model: ChatModel, path: Path) -> None:
        self._model = model
        self._path = path
        self._answers: dict[str, Any] = {}
        self.hits = 0
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    self._answers[entry["key"]] = entry["answer"]
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut by a kill: asked again

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def complete_json(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        *,
        max_tokens: int,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Any:
        request = json.dumps([messages, schema, max_tokens], sort_keys=True)
        key = hashlib.sha256(request.encode("utf-8")).hexdigest()
        if key in self._answers:
            self.hits += 1
            return self._answers[key]
        answer = self._model.complete_json(messages, schema, max_tokens=max_tokens, should_stop=should_stop)
        self._answers[key] = answer
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"key": key, "answer": answer}) + "\n")
        return answer

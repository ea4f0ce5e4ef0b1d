"""No example sentence the product ships is a line of the benchmark data it is measured on."""

from __future__ import annotations

import json
import re

from memory.reflection.disclosure import examples
from memory.retrieval.book import CATEGORIES
from tests.conftest import shared_file


def normal(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def benchmark_strings() -> set[str]:
    found: set[str] = set()
    for name in ("bench/locomo_dev.json", "bench/msc_profiles_dev.jsonl"):
        raw = shared_file(name).read_text(encoding="utf-8")
        stack: list[object] = (
            [json.loads(line) for line in raw.splitlines() if line.strip()]
            if name.endswith(".jsonl")
            else [json.loads(raw)]
        )
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)
            elif isinstance(value, str):
                found.add(normal(value))
    return found


def test_no_example_sentence_is_taken_from_the_benchmarks() -> None:
    data = benchmark_strings()
    assert len(data) > 1000
    shipped = [*examples(), *(text for texts in CATEGORIES.values() for text in texts)]
    assert [text for text in shipped if normal(text) in data] == []

"""LoCoMo dev-split texts for the speed benchmarks (read from ../shared, never copied here)."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "bench" / "locomo_dev.json"


def turns_and_questions() -> tuple[list[str], list[str]]:
    """Every turn as "speaker: text", and every question of categories 1-4."""
    data = json.loads(DATA.read_text())
    turns = [
        f"{t['speaker']}: {t['text']}"
        for s in data
        for k, v in s["conversation"].items()
        if k.startswith("session_") and isinstance(v, list)
        for t in v
    ]
    questions = [q["question"] for s in data for q in s["qa"] if q.get("category") in (1, 2, 3, 4)]
    return turns, questions

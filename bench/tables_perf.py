"""The README's performance table, made from bench/results/perf.json (`make bench`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _when(run: dict[str, Any]) -> str:
    if "commit" not in run:
        return "run before results carried their commit"
    return (
        f"`{run['commit'][:7]}`, {run['date'][:10]}, {run['machine']['cores']} cores {run['machine']['cpu']}"
    )


def perf() -> str:
    results: dict[str, Any] = json.loads((RESULTS / "perf.json").read_text(encoding="utf-8"))
    lines = ["| measure | value | goal | run |", "| --- | --- | --- | --- |"]
    chat = results.get("chat", {})
    if "app_ttft_s" in chat:
        lines.append(
            f"| first token, app / raw llama-cpp-python (same prompt) | {chat['app_ttft_s'] * 1000:.0f} / "
            f"{chat['raw_ttft_s'] * 1000:.0f} ms | | {_when(chat)} |"
        )
        lines.append(
            f"| tokens/s, app / raw | {chat['app_tokens_per_s']:.1f} / {chat['raw_tokens_per_s']:.1f} "
            f"(ratio {chat['tokens_per_s_ratio']:.2f}) | ratio ≥ 0.97 | {_when(chat)} |"
        )
        for key, label in (
            ("twenty_turns", "plain"),
            ("twenty_turns_with_memories", "5 memories + 3 preferences"),
        ):
            t = chat[key]
            lines.append(
                f"| prompt tokens evaluated per turn, 20 turns, {label} | {t['mean_evaluated']:.1f} for "
                f"{t['mean_new']:.1f} new, of {t['mean_prompt']:.0f} | | {_when(chat)} |"
            )
    startup = results.get("startup", {})
    if "median_seconds" in startup:
        m = startup["median_seconds"]
        lines.append(
            f"| start-up to a visible window, unfrozen / frozen (median of {startup['runs']}) "
            f"| {m['unfrozen']:.2f} / {m['frozen']:.2f} s | | {_when(startup)} |"
        )
    else:
        lines.append("| start-up to a visible window | not measured in the last run (no bundle) | | |")
    scale = results.get("scale", {})
    for row in scale.get("sizes", []):
        goal = "p95 ≤ 50 ms" if row["items"] == 100_000 else ""
        rounds = row.get("rounds", [])
        spread = f" (rounds' p95: {', '.join(str(r['p95_ms']) for r in rounds)})" if len(rounds) > 1 else ""
        lines.append(
            f"| hybrid retrieval, {row['items']:,} items: p50 / p95 of the median round, RSS "
            f"| {row['p50_ms']} / {row['p95_ms']} ms{spread}, {row['rss_mb']} MB | {goal} | {_when(scale)} |"
        )
    stall = results.get("gui_stall", {})
    for key in ("streaming", "reflecting", "indexing", "importing"):
        if key in stall:
            r = stall[key]
            done = "" if r["finished"] else " (timed out)"
            lines.append(
                f"| longest GUI stall while {key} (p99), over {r['seconds']} s{done} "
                f"| {r['longest_stall_ms']} ms ({r['p99_stall_ms']}) | ≤ 50 ms | {_when(stall)} |"
            )
    return "\n".join(lines) + f"\n\nLast written {results.get('measured_at', '?')}.\n"

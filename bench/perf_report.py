"""The performance report: runs the benchmarks, keeps their numbers, draws the README's plots.

Runs, one after another (never side by side: they time things):
  bench_chat.py        time to first token and tokens/s, app vs raw llama-cpp-python; prompt tokens
                       evaluated per turn over 20 turns, plain and with memories and preferences
  bench_startup.py     start-up to a visible window, unfrozen and frozen (if dist/ has a bundle)
  bench_scale.py       retrieval latency and memory use at 1k / 10k / 100k items
  bench_gui_stall.py   the longest GUI stall while streaming, reflecting, indexing and importing
  bench_model_form.py  speed and faithfulness of the packaged model's forms (model_form.json)
  bench_latency.py     time to first token with memories, threads under load, switching back
                       (latency.json)
  bench_degenerate.py  replies that loop, per sampler setting (degenerate.json)
Writes bench/results/perf.json and docs/perf/*.png, and prints a Markdown summary.
`--plot-only` redraws from the saved JSON. Needs matplotlib (`pip install -e ".[bench]"`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import tables_perf  # noqa: E402
from memory.evaluation.report import environment  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "perf.json"
PLOTS = ROOT / "docs" / "perf"
BENCHES = {
    "chat": ["bench_chat.py", "--json", "--runs", "5"],
    "startup": ["bench_startup.py", "--json", "--runs", "7"],
    "scale": ["bench_scale.py", "--json"],
    "gui_stall": ["bench_gui_stall.py", "--json"],
    # these three also write their own results file, from which the README's tables are made
    "model_form": ["bench_model_form.py", "--json"],
    "latency": ["bench_latency.py", "--json", "--sweep"],
    "degenerate": ["bench_degenerate.py", "--json"],
}


def run(name: str) -> dict[str, Any]:
    command = [sys.executable, str(ROOT / "bench" / BENCHES[name][0]), *BENCHES[name][1:]]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=3600)
    if result.returncode != 0:
        return {"error": result.stderr[-1500:]}
    text = result.stdout.strip()
    single_line = name in ("startup", "scale", "gui_stall")
    data = json.loads(text.splitlines()[-1]) if single_line else json.loads(text[text.index("{") :])
    data["bench_seconds"] = round(time.perf_counter() - started)
    return data


def plots(results: dict[str, Any]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    PLOTS.mkdir(parents=True, exist_ok=True)
    written = []

    def save(fig: Any, name: str) -> None:
        fig.tight_layout()
        path = PLOTS / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    stall = results.get("gui_stall", {})
    scenarios = [k for k in ("streaming", "reflecting", "indexing", "importing") if k in stall]
    if scenarios:
        fig, ax = plt.subplots(figsize=(6, 3))
        longest = [stall[k]["longest_stall_ms"] for k in scenarios]
        p99 = [stall[k]["p99_stall_ms"] for k in scenarios]
        x = range(len(scenarios))
        ax.bar([i - 0.2 for i in x], longest, 0.4, label="longest")
        ax.bar([i + 0.2 for i in x], p99, 0.4, label="99th percentile")
        ax.axhline(50, color="crimson", linestyle="--", label="goal: 50 ms")
        ax.set_xticks(list(x), scenarios)
        ax.set_ylabel("event-loop stall (ms)")
        ax.set_title("GUI responsiveness (5 ms heartbeat)")
        ax.legend(fontsize=8)
        save(fig, "gui_stall.png")

    chat = results.get("chat", {})
    if "twenty_turns_with_memories" in chat:
        fig, ax = plt.subplots(figsize=(6, 3))
        for key, label, style in (
            ("twenty_turns", "plain: evaluated", "-o"),
            ("twenty_turns_with_memories", "memories + preferences: evaluated", "-s"),
        ):
            turns = chat[key]["turns"]
            ax.plot(range(1, len(turns) + 1), [t["evaluated"] for t in turns], style, ms=3, label=label)
        turns = chat["twenty_turns_with_memories"]["turns"]
        ax.plot(
            range(1, len(turns) + 1),
            [t["new_user_tokens"] for t in turns],
            ":",
            label="new (question + notes)",
        )
        ax.plot(range(1, len(turns) + 1), [t["prompt"] for t in turns], "--", label="whole prompt", alpha=0.6)
        ax.set_xlabel("turn")
        ax.set_ylabel("prompt tokens")
        ax.set_yscale("log")
        ax.set_title("Prompt tokens evaluated per turn (prefix reuse)")
        ax.legend(fontsize=7)
        save(fig, "prompt_tokens.png")

    scale = results.get("scale", {}).get("sizes", [])
    if scale:
        fig, ax1 = plt.subplots(figsize=(6, 3))
        sizes = [r["items"] for r in scale]
        ax1.plot(sizes, [r["p50_ms"] for r in scale], "-o", label="p50")
        ax1.plot(sizes, [r["p95_ms"] for r in scale], "-s", label="p95")
        ax1.set_xscale("log")
        ax1.set_xlabel("memory items")
        ax1.set_ylabel("hybrid retrieval (ms)")
        ax2 = ax1.twinx()
        ax2.plot(sizes, [r["rss_mb"] for r in scale], ":", color="gray", label="RSS (MB)")
        ax2.set_ylabel("process RSS (MB)")
        ax1.legend(loc="upper left", fontsize=8)
        ax2.legend(loc="lower right", fontsize=8)
        ax1.set_title("Retrieval latency and memory use")
        save(fig, "retrieval.png")

    startup = results.get("startup", {}).get("median_seconds", {})
    if chat or startup:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7, 3))
        if chat:
            ax1.bar(
                ["raw", "app"], [chat["raw_tokens_per_s"], chat["app_tokens_per_s"]], color=["gray", "C0"]
            )
            ax1.set_ylabel("tokens/s")
            ax1.set_title(f"Generation (ratio {chat['tokens_per_s_ratio']:.3f})", fontsize=9)
        if startup:
            ax2.bar(list(startup), list(startup.values()), color=["C0", "C1"])
            ax2.set_ylabel("seconds to a visible window")
            ax2.set_title("Start-up", fontsize=9)
        save(fig, "speed.png")
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plot-only", action="store_true")
    parser.add_argument("--only", help=f"comma-separated: {','.join(BENCHES)}")
    args = parser.parse_args()
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if not args.plot_only:
        for name in args.only.split(",") if args.only else BENCHES:
            if name == "startup" and not (ROOT / "dist" / "memoir" / "memoir").exists():
                print("startup: no bundle in dist/ (run `make dist`); skipped", file=sys.stderr)
                results.pop(name, None)  # never report an earlier run's figures as this run's
                continue
            print(f"running {name}…", file=sys.stderr, flush=True)
            # each benchmark says when and where it ran: `--only` keeps the others' earlier runs
            results[name] = run(name) | environment(f"python bench/perf_report.py --only {name}")
            if "error" in results[name]:
                print(f"{name} failed:\n{results[name]['error']}", file=sys.stderr)
        results["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    for path in plots(results):
        print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    print(tables_perf.perf())  # the README's table, from the file just written
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The README's benchmark tables, made from the committed results files (never typed by hand).

    .venv/bin/python bench/readme_tables.py          # rewrite the tables between their markers
    .venv/bin/python bench/readme_tables.py --check  # exit 1 if a table differs from its results

A table sits between ``<!-- table:NAME -->`` and ``<!-- /table -->``; NAME picks the renderer
below and the results file(s) it reads from bench/results/. tests/unit/test_readme_tables.py runs
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


LOOP_RUNS = (  # (label, results file): the first thresholds, then the ones chosen on tune
    ("tune, first thresholds", "loop_tune_first.json"),
    ("check, first thresholds", "loop_check_first.json"),
    ("tune, chosen thresholds", "loop_tune.json"),
    ("check, chosen thresholds", "loop_check.json"),
)


def loop() -> str:
    runs = [(label, _load(name)) for label, name in LOOP_RUNS if (RESULTS / name).exists()]
    lines = [
        "| online | conversations | questions | before R@5 | attributed R@5 | oracle R@5 "
        "| before R@10 | attributed R@10 | oracle R@10 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, run in runs:
        learning = run["learning"]
        plays = sorted({p["conversation"] for p in run["plays"]})
        cells = [
            _r(learning[arm][f"recall@{k}"]) for k in (5, 10) for arm in ("before", "attributed", "oracle")
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


TABLES: dict[str, Callable[[], str]] = {"rerank_online": rerank_online, "loop": loop}


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

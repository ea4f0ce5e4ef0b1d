"""README tables for what Memoir remembers: retrieval on LoCoMo and the profile on MSC, each made
from its results files in bench/results/ (written by `bench/eval.py`, i.e. `make eval`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
KS = (1, 5, 10, 25)
CATEGORIES = {"1": "multi-hop", "2": "temporal", "3": "open-domain", "4": "single-hop"}
SPLIT_NAMES = {
    "tune": "tune (conv-26, -30, -41)",
    "check": "**check (conv-42, -43)**",
    "all": "whole dev split",
}
EPISODE_SPLIT_NAMES = {"tune": "tune (first 40)", "check": "**check (last 20)**", "all": "whole dev split"}


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((RESULTS / name).read_text(encoding="utf-8"))
    return loaded


def _r(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _provenance(runs: list[dict[str, Any]]) -> str:
    commits = sorted({f"`{r['commit'][:7]}`" for r in runs})
    cpus = sorted({f"{r['machine']['cores']} cores, {r['machine']['cpu']}" for r in runs})
    commands = "; ".join(dict.fromkeys(f"`{r['command']}`" for r in runs))
    return f"Commit {', '.join(commits)}; {', '.join(cpus)}. Commands: {commands}."


BEFORE = (
    ("before_levers", "hybrid before the levers"),
    ("before_dense_by_best", "hybrid before dense was divided by its best"),
)


PROFILE_BEFORE = (
    ("before_joining", "before the user's sentences were joined"),
    ("joined", 'with sentences joined, before summaries that ask or speak to "you" were refused'),
    ("refused", "with those summaries refused, before a summary copying the user's words was theirs"),
    ("copied", "with such a summary theirs, before grounding in the turns cited"),
    ("grounded", "grounded in the turns cited, before the user's requests were proposed"),
    ("requests", "with the user's requests proposed, before facts memories hold were no proposals"),
    ("stitched", "with stitched summaries dropped, before questions and the replies' words were refused"),
)


def locomo() -> str:
    runs = [(split, _load(f"turn_recall_{split}.json")) for split in ("tune", "check", "all")]
    rows = []
    for split, run in runs:
        for suffix, label in BEFORE:  # the same retriever before later changes, oldest first
            before = RESULTS / f"turn_recall_{split}_{suffix}.json"
            if before.exists():
                old = _load(before.name)
                rows.append((split, f"{label} (`{old['commit'][:7]}`)", old, old["methods"]["hybrid"]))
        rows += [(split, method, run, summary) for method, summary in run["methods"].items()]
    lines = [
        "| split | questions | method | R@1 | R@5 | R@10 | R@25 | multi-hop R@5 | open-domain R@5 "
        "| query p50 / p95 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for split, method, run, summary in rows:
        o, by = summary["overall"], summary["by_category"]
        name = f"**{method}**" if method == "hybrid" else method
        lines.append(
            f"| {SPLIT_NAMES[split]} | {run['questions']} | {name} | "
            + " | ".join(_r(o[f"recall@{k}"]) for k in KS)
            + f" | {_r(by['1']['recall@5'])} | {_r(by['3']['recall@5'])}"
            + f" | {summary['query_ms_p50']} / {summary['query_ms_p95']} ms |"
        )
    used = list({r["command"] + r["commit"]: r for _, _, r, _ in rows}.values())
    return "\n".join(lines) + "\n\n" + _provenance(used) + "\n"


def profile() -> str:
    rows = [
        ("raw user turns (the floor)", "check", _load("profile_raw_check.json")),
        ("raw user turns (the floor)", "all", _load("profile_raw_all.json")),
    ]
    selector = _load("profile_selector_check.json")
    rows.append(("the self-disclosure selector alone (no model)", "check", _only(selector)))
    joined = RESULTS / "tune_profile_check.jsonl"
    if joined.exists():  # bench/tune_profile.py --split check: the same, with the app's join floor
        provenance, *trials = [json.loads(line) for line in joined.read_text(encoding="utf-8").splitlines()]
        row = next(t for t in trials if (t["lever"], t["floor"], t["chars"]) == ("join", 0.35, 300))
        rows.append(("the selector alone, sentences joined (no model)", "check", {**provenance, **row}))
    for suffix, label in PROFILE_BEFORE:  # the app's reflection before later changes, oldest first
        if (RESULTS / f"profile_check_{suffix}.json").exists():
            old = _load(f"profile_check_{suffix}.json")
            rows.append((f"reflection {label} (`{old['commit'][:7]}`)", "check", old))
    if (RESULTS / "profile_check.json").exists():
        run = _load("profile_check.json")
        rows.append(("**reflection as the app does it (SmolLM2 + selector)**", "check", run))
    if (RESULTS / "profile_tune.json").exists():
        rows.append(("reflection as the app does it", "tune", _load("profile_tune.json")))
    lines = [
        "| what is scored | split | episodes | coverage | precision | F1 | leakage | items/episode |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, split, r in rows:
        lines.append(
            f"| {name} | {EPISODE_SPLIT_NAMES[split]} | {r['episodes']} | {_r(r['coverage'])} | "
            f"{_r(r['precision'])} | {_r(r['f1'])} | {_r(r['leakage'])} | {r['items_per_episode']} |"
        )
    sweep = _load("profile_selector_tune.json")
    lines += [
        "",
        "The selector's threshold, chosen on tune (first 40 episodes, selector alone):",
        "",
        "| threshold | coverage | precision | F1 | leakage | items/episode |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for threshold, r in sweep["selector"].items():
        lines.append(
            f"| {threshold} | {_r(r['coverage'])} | {_r(r['precision'])} | {_r(r['f1'])} "
            f"| {_r(r['leakage'])} | {r['items_per_episode']} |"
        )
    runs = {r["command"]: r for r in [*(r for _, _, r in rows), selector, sweep]}
    return "\n".join(lines) + "\n\n" + _provenance(list(runs.values())) + "\n"


def profile_join() -> str:
    """The join floor (memory/reflection/joining.py), chosen on tune with the selector alone."""
    provenance, *rows = [
        json.loads(line) for line in (RESULTS / "tune_profile.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    names = {"none": "each sentence a memory of its own", "join": "joined", "keep": "only its source added"}
    lines = [
        "| a kept sentence near a memory of the user's words (cosine ≥ floor) | floor | coverage "
        "| precision | F1 | leakage | items/episode |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        if r["chars"] != 300:
            continue
        floor = "—" if r["lever"] == "none" else str(r["floor"])
        name = names[r["lever"]]
        name = f"**{name}**" if (r["lever"], r["floor"]) == ("join", 0.35) else name
        lines.append(
            f"| {name} | {floor} | {_r(r['coverage'])} | {_r(r['precision'])} | {_r(r['f1'])} "
            f"| {_r(r['leakage'])} | {r['items_per_episode']} |"
        )
    return "\n".join(lines) + "\n\n" + _provenance([provenance]) + "\n"


def requests() -> str:
    """The request selector (memory/reflection/requests.py): the grid on tune at the chosen weight,
    and the chosen constants on check."""
    provenance, *rows = _lines("tune_requests.jsonl")
    check_provenance, *check = _lines("tune_requests_check.jsonl")
    lines = [
        "| split | one-off weight | threshold | precision | recall | F1 | false proposals per MSC episode |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    chosen = (check[0]["weight"], check[0]["threshold"])
    for r in [*(r for r in rows if r["weight"] == chosen[0]), *check]:
        bold = "**" if (r["weight"], r["threshold"]) == chosen else ""
        lines.append(
            f"| {bold}{r['split']}{bold} | {r['weight']} | {r['threshold']} | {_r(r['precision'])} "
            f"| {_r(r['recall'])} | {_r(r['f1'])} | {r['msc_proposals_per_episode']} |"
        )
    return "\n".join(lines) + "\n\n" + _provenance([provenance, check_provenance]) + "\n"


def _lines(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (RESULTS / name).read_text(encoding="utf-8").splitlines()]


def _only(selector_run: dict[str, Any]) -> dict[str, Any]:
    """A selector run at one threshold, as a row."""
    (scores,) = selector_run["selector"].values()
    return {**selector_run, **scores}


def topics() -> str:
    run = _load("turn_recall_topics_tune.json")
    methods = run["methods"]
    rows = [("hybrid, turns only", methods["hybrid"]["overall"])]
    rows.append(
        (
            f"**turns + topics, the app's weight {methods['topics']['topic_weight']}**",
            methods["topics"]["overall"],
        )
    )
    rows += [(f"turns + topics, weight {w}", r) for w, r in run["topics_sweep"].items()]
    rows += [
        (f"turns + topics, turns gain {s} of their topics' score", r)
        for s, r in run["topic_share_sweep"].items()
    ]
    lines = ["| tune (conv-26, -30, -41), " + f"{run['questions']} questions | R@1 | R@5 | R@10 | R@25 |"]
    lines.append("| --- | --- | --- | --- | --- |")
    lines += [f"| {name} | " + " | ".join(_r(r[f"recall@{k}"]) for k in KS) + " |" for name, r in rows]
    r = run["reflection"]
    reflection = (
        f"Reflection: {r['sessions']} sessions, {r['seconds_per_session']} s each (answers the bench had "
        "asked before are replayed from its cache), "
        f"{r['new_memories_per_session']} new memories per session, {_r(r['validated_share'])} of the "
        f"model's summaries validated, {r['failed_sessions']} failed."
    )
    return "\n".join(lines) + "\n\n" + reflection + " " + _provenance([run]) + "\n"


def block_size() -> str:
    """Answer coverage and block tokens per note length, tune / check / whole (block_size_*.json)."""
    runs = [(split, _load(f"block_size_{split}.json")) for split in ("tune", "check", "all")]
    lengths = list(runs[0][1]["lengths"])
    app = str(runs[0][1]["app_note_chars"])
    lines = [
        "| characters per note | "
        + " | ".join(f"{SPLIT_NAMES[s]}: coverage / block tokens" for s, _ in runs)
        + " |",
        "| --- | --- | --- | --- |",
    ]
    for length in lengths:
        name = f"**{length} (app)**" if length == app else length
        cells = [
            f"{_r(r['lengths'][length]['coverage'])} / {r['lengths'][length]['block_tokens']:.0f}"
            for _, r in runs
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    tune = runs[0][1]
    chosen = (
        f"Shortest length within {tune['tolerance']} of the whole notes' coverage on tune: "
        f"{tune['shortest_within_tolerance']}. Questions: "
        + ", ".join(f"{s} {r['questions']}" for s, r in runs)
        + "."
    )
    return "\n".join(lines) + "\n\n" + chosen + " " + _provenance([r for _, r in runs]) + "\n"

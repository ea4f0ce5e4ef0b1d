"""Every benchmark the README's memory tables quote, one after another, each into its results file.

    .venv/bin/python bench/eval.py                 # all (hours: reflection and the loop use the model)
    .venv/bin/python bench/eval.py --no-model      # only those that need no chat model (minutes)
    .venv/bin/python bench/eval.py --only turn_recall_check,profile_raw_check
    .venv/bin/python bench/eval.py --quick --results DIR   # the plumbing, on synthetic files

Each run is a `memoir bench ...` command (the app's own code path) writing bench/results/<name>.json
with the commit, date, machine, data file (and its sha256) and split; then the README's tables are
made again from the files (`bench/readme_tables.py`). `make eval` runs this.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "bench"
LOCOMO, MSC = "locomo_dev.json", "msc_profiles_dev.jsonl"
SELECTOR_SWEEP = "0,0.05,0.1,0.15,0.2,0.25,0.3"

# name -> (data file, arguments after `memoir bench`, needs the chat model)
RUNS: dict[str, tuple[str, list[str], bool]] = {
    **{
        f"turn_recall_{split}": (
            LOCOMO,
            ["locomo", "--split", split, "--methods", "bm25,dense,hybrid"],
            False,
        )
        for split in ("tune", "check", "all")
    },
    "turn_recall_topics_tune": (LOCOMO, ["locomo", "--split", "tune", "--methods", "hybrid,topics"], True),
    **{
        f"block_size_{split}": (LOCOMO, ["block", "--split", split], False)
        for split in ("tune", "check", "all")
    },
    "profile_selector_tune": (MSC, ["profile", "--split", "tune", "--selector", SELECTOR_SWEEP], False),
    "profile_selector_check": (MSC, ["profile", "--split", "check", "--selector", "0.15"], False),
    "profile_raw_check": (MSC, ["profile", "--split", "check", "--raw-turns"], False),
    "profile_raw_all": (MSC, ["profile", "--split", "all", "--raw-turns"], False),
    "profile_check": (MSC, ["profile", "--split", "check"], True),
    "profile_tune": (MSC, ["profile", "--split", "tune"], True),
    "loop_check_now": (LOCOMO, ["loop", "--split", "check", "--threads", "2"], True),
}


def run(name: str, data: Path, results: Path) -> float:
    _file, arguments, _model = RUNS[name]
    out = results / f"{name}.json"
    command = [sys.executable, "-m", "app.main", "bench", *arguments, "--data", str(data), "--out", str(out)]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def synthetic(folder: Path) -> Path:
    """Tiny LoCoMo and MSC files with the split's ids, for checking the plumbing (numbers mean nothing)."""
    conversations = []
    for number, sample_id in enumerate(("conv-26", "conv-30", "conv-41", "conv-42", "conv-43")):
        session = [
            {"speaker": "Ana", "dia_id": "D1:1", "text": f"I adopted a parrot called Kiwi {number}."},
            {"speaker": "Ben", "dia_id": "D1:2", "text": "A parrot! Does it talk?"},
            {"speaker": "Ana", "dia_id": "D1:3", "text": "It whistles the tune of the radio news."},
        ]
        conversations.append(
            {
                "sample_id": sample_id,
                "conversation": {
                    "speaker_a": "Ana",
                    "speaker_b": "Ben",
                    "session_1_date_time": "1:56 pm on 8 May, 2023",
                    "session_1": session,
                },
                "qa": [
                    {
                        "question": "What pet did Ana adopt?",
                        "evidence": ["D1:1"],
                        "category": 4,
                        "answer": "a parrot",
                    },
                    {
                        "question": "What does Kiwi whistle?",
                        "evidence": ["D1:3"],
                        "category": 1,
                        "answer": "the radio news tune",
                    },
                ],
            }
        )
    (folder / LOCOMO).write_text(json.dumps(conversations), encoding="utf-8")
    episode = {
        "sessions": [
            {
                "time_since_previous": None,
                "turns": [
                    {"speaker": "user", "text": "I work as a glassblower in a tiny studio."},
                    {"speaker": "partner", "text": "That sounds hot! I teach piano."},
                ],
            }
        ],
        "user_facts": ["I am a glassblower."],
        "partner_facts": ["I teach piano."],
    }
    lines = [json.dumps({"id": f"synthetic-{n}", **episode}) for n in range(60)]
    (folder / MSC).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="", help="comma-separated run names (default: all)")
    parser.add_argument("--no-model", action="store_true", help="skip the runs that need the chat model")
    parser.add_argument("--quick", action="store_true", help="synthetic data, no model (needs --results)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(RUNS)
    unknown = sorted(set(names) - set(RUNS))
    if unknown:
        parser.error(f"unknown run(s) {', '.join(unknown)}; choose from {', '.join(RUNS)}")
    if args.quick and args.results == ROOT / "bench" / "results":
        parser.error("--quick writes synthetic results: give --results a folder of its own")
    if args.quick or args.no_model:
        names = [n for n in names if not RUNS[n][2]]
    with tempfile.TemporaryDirectory(prefix="memoir-eval-") as tmp:
        data_dir = synthetic(Path(tmp)) if args.quick else SHARED
        args.results.mkdir(parents=True, exist_ok=True)
        for name in names:
            print(f"{name} ...", end="", file=sys.stderr, flush=True)
            seconds = run(name, data_dir / RUNS[name][0], args.results)
            print(f" {seconds:.0f} s", file=sys.stderr)
    if not args.quick:
        subprocess.run([sys.executable, str(ROOT / "bench" / "readme_tables.py")], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

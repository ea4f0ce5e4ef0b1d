"""Start-up time to a visible window, unfrozen (the venv's `memoir`) and frozen (dist/memoir/memoir).

Each run starts the app in a fresh data folder with `--quit-when-shown` and times, from the parent,
how long until the app prints that its window is shown. One warm-up run of each first (file cache),
then runs alternate between the two so that machine noise falls on both. Prints numbers only.
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

ROOT = Path(__file__).resolve().parents[1]
SHOWN = "memoir: window shown"


def time_to_window(command: list[str]) -> float:
    """Seconds from starting ``command`` until it reports its window, in a fresh data folder."""
    with tempfile.TemporaryDirectory(prefix="memoir-startup-") as home:
        env = {**os.environ, "MEMOIR_HOME": home}
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert process.stdout is not None
        shown = None
        for line in process.stdout:
            if line.strip() == SHOWN:
                shown = time.perf_counter() - started
                break
        process.wait(timeout=120)
        if shown is None:
            raise RuntimeError(f"{command[0]} exited with {process.returncode} before showing a window")
        return shown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--frozen", type=Path, default=ROOT / "dist" / "memoir" / "memoir")
    parser.add_argument("--unfrozen", type=Path, default=Path(sys.executable).parent / "memoir")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    commands = {
        "unfrozen": [str(args.unfrozen), "--quit-when-shown"],
        "frozen": [str(args.frozen), "--quit-when-shown"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():
        time_to_window(command)  # warm-up
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(time_to_window(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    result = {
        "runs": args.runs,
        "median_seconds": {k: round(v, 3) for k, v in medians.items()},
        "all_seconds": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "frozen_over_unfrozen": round(medians["frozen"] / medians["unfrozen"], 3),
        "platform": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for name, value in medians.items():
            print(f"{name:9s} median {value:.3f} s to a visible window over {args.runs} runs")
        print(f"frozen / unfrozen = {result['frozen_over_unfrozen']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

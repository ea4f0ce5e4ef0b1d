"""What every benchmark result carries besides its numbers: code, data, split and machine."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memory.runtime.paths import file_sha256

# Constants are chosen on "tune" and shown on "check" (../shared/bench/README.md).
SPLITS = {
    "tune": ("conv-26", "conv-30", "conv-41"),
    "check": ("conv-42", "conv-43"),
}


# MSC dev episodes (a JSONL file in order): the first 40 tune, the last 20 check.
EPISODE_SPLITS = {"tune": slice(0, 40), "check": slice(40, None)}


def select_episodes(episodes: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    if split != "all" and split not in EPISODE_SPLITS:
        raise ValueError(f"unknown split {split!r}: choose all, {', '.join(EPISODE_SPLITS)}")
    return episodes if split == "all" else episodes[EPISODE_SPLITS[split]]


def select(samples: list[dict[str, Any]], split: str, only: str = "") -> list[dict[str, Any]]:
    """The conversations of ``split`` ("all" keeps every one, in file order), and of those only the
    comma-separated ids in ``only`` when it is given (a run cut short for time says so)."""
    if split != "all" and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: choose all, {', '.join(SPLITS)}")
    chosen = samples if split == "all" else [s for s in samples if s.get("sample_id") in SPLITS[split]]
    wanted = {c.strip() for c in only.split(",") if c.strip()}
    if wanted - {s.get("sample_id") for s in chosen}:
        raise ValueError(f"--only names conversations not in split {split}: {sorted(wanted)}")
    return [s for s in chosen if not wanted or s.get("sample_id") in wanted]


def _commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(command: str) -> dict[str, Any]:
    """The command, the commit that runs it, when, and on what machine."""
    return {
        "command": command,
        "commit": _commit(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "cpu": _cpu(), "system": platform.platform()},
    }


def provenance(data: Path, split: str, command: str) -> dict[str, Any]:
    return environment(command) | {"data": {"file": data.name, "sha256": file_sha256(data)}, "split": split}


def write(result: dict[str, Any], out: Path | None) -> None:
    """Save a result where the README's tables are made from (nothing when ``out`` is None)."""
    if out is None:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

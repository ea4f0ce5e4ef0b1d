"""Build the desktop bundle from build.spec, then prove it: run the frozen app's --self-test.

`make dist` runs this. It exits non-zero if the build fails, the self-test fails, or the bundle is
over its size budget, and prints the bundle's size and the self-test's JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZE_BUDGET_MB = 600  # the folder as shipped; the two bundled models are 174 MB of it
EXECUTABLE = {"win32": "memoir.exe"}.get(sys.platform, "memoir")


def build(dist: Path, work: Path) -> Path:
    """Run PyInstaller on build.spec; returns the bundle's folder."""
    subprocess.run(
        [
            sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
            "--distpath", str(dist), "--workpath", str(work), str(ROOT / "build.spec"),
        ],
        check=True,
        cwd=ROOT,
    )  # fmt: skip
    return dist / "memoir"


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def size_report(bundle: Path) -> dict[str, Any]:
    internal = bundle / "_internal"
    parts = {
        p.name: folder_size(p) if p.is_dir() else p.stat().st_size
        for p in internal.iterdir()
        if not p.is_symlink()  # PyInstaller links some libraries to their package's copy
    }
    largest = sorted(parts.items(), key=lambda kv: -kv[1])[:8]
    total = folder_size(bundle)
    return {
        "total_mb": round(total / 2**20, 1),
        "budget_mb": SIZE_BUDGET_MB,
        "largest_mb": {name: round(size / 2**20, 1) for name, size in largest},
    }


def self_test(bundle: Path) -> tuple[int, dict[str, Any]]:
    """The frozen --self-test, run away from the source tree and with no model override."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MEMOIR_DEFAULT_MODEL")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    with tempfile.TemporaryDirectory(prefix="memoir-frozen-") as home:
        env["MEMOIR_HOME"] = home
        result = subprocess.run(
            [str(bundle / EXECUTABLE), "--self-test"],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=home,
            env=env,
        )
    lines = result.stdout.strip().splitlines()
    try:
        summary = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        summary = {}
    if not summary:
        summary = {"ok": False, "error": "no JSON summary", "stderr": result.stderr[-2000:]}
    return result.returncode, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller")
    parser.add_argument("--skip-build", action="store_true", help="test the bundle already in --dist")
    args = parser.parse_args()
    started = time.perf_counter()
    bundle = args.dist / "memoir" if args.skip_build else build(args.dist, args.work)
    built = time.perf_counter() - started
    sizes = size_report(bundle)
    print(f"bundle: {bundle} ({sizes['total_mb']} MB, budget {SIZE_BUDGET_MB} MB); built in {built:.0f} s")
    print("largest parts (MB):", json.dumps(sizes["largest_mb"]))
    code, summary = self_test(bundle)
    print("frozen self-test:", json.dumps(summary, ensure_ascii=False))
    if code != 0 or not summary.get("ok"):
        print(f"FAILED: the frozen self-test exited {code}: {summary.get('error')}", file=sys.stderr)
        return 1
    if sizes["total_mb"] > SIZE_BUDGET_MB:
        print(f"FAILED: the bundle is over its {SIZE_BUDGET_MB} MB budget", file=sys.stderr)
        return 1
    print("OK: the frozen app passed its self-test")
    return 0


if __name__ == "__main__":
    sys.exit(main())

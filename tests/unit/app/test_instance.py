"""A second Memoir on the same data directory is refused; a lock left by a crash is taken over."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.main import instance_lock


def test_a_second_instance_is_refused_until_the_first_quits(tmp_path: Path) -> None:
    first = instance_lock(tmp_path)
    assert first is not None
    code = (
        "import sys; from pathlib import Path; from app.main import instance_lock; "
        "sys.exit(0 if instance_lock(Path(sys.argv[1])) is None else 3)"
    )
    assert subprocess.run([sys.executable, "-c", code, str(tmp_path)], timeout=60).returncode == 0
    first.unlock()
    assert subprocess.run([sys.executable, "-c", code, str(tmp_path)], timeout=60).returncode == 3


def test_a_lock_left_by_a_crashed_instance_is_taken_over(tmp_path: Path) -> None:
    code = (
        "import os, sys; from pathlib import Path; from app.main import instance_lock; "
        "lock = instance_lock(Path(sys.argv[1])); os._exit(0 if lock is not None else 3)"
    )  # dies holding it
    assert subprocess.run([sys.executable, "-c", code, str(tmp_path)], timeout=60).returncode == 0
    assert (tmp_path / "memoir.lock").exists()
    assert instance_lock(tmp_path) is not None

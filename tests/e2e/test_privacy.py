"""Privacy guarantees, checked on a whole session: no network at all, and files only the user can read."""

from __future__ import annotations

import ipaddress
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.real_model


def outside_loopback(event: str, args: str) -> bool:
    """Whether an audit event reaches beyond this machine's loopback (unix sockets are local)."""
    if event not in ("socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo"):
        return False
    for token in args.replace("(", " ").replace(")", " ").replace(",", " ").replace("'", " ").split():
        try:
            if not ipaddress.ip_address(token).is_loopback:
                return True
        except ValueError:
            continue
    return event == "socket.getaddrinfo" and "localhost" not in args


def test_a_whole_session_makes_no_connection_and_keeps_files_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {
        **os.environ,
        "MEMOIR_HOME": str(home),
        "MEMOIR_EXPORT": str(tmp_path / "export.zip"),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "e2e" / "offline_session.py")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    steps, events = report["steps"], report["events"]
    # the session really did everything: chat, reflection, recall with receipts, export, rebuild
    assert steps["topics"] >= 1 and steps["receipts"] >= 1 and steps["rebuilt"] >= 4
    assert steps["exported"]["conversations"] == 2
    # the hook works: it saw the loopback control connection made after the session
    assert any(e == "socket.connect" and "127.0.0.1" in a for e, a in events[steps["events_in_session"] :])
    session_events = events[: steps["events_in_session"]]
    assert [e for e in session_events if outside_loopback(*e)] == []
    # data folder 0700, every file 0600, whichever library wrote it (SQLite, Chroma, Qt, exporter)
    for path in [home, *home.rglob("*"), tmp_path / "export.zip"]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path.relative_to(tmp_path)} is {oct(mode)}"


@pytest.mark.parametrize(
    ("event", "args", "outside"),
    [
        ("socket.connect", "(('93.184.216.34', 443),)", True),
        ("socket.connect", "(('127.0.0.1', 8000),)", False),
        ("socket.connect", "(('::1', 8000, 0, 0),)", False),
        ("socket.connect", "('/run/user/0/bus',)", False),
        ("socket.getaddrinfo", "('huggingface.co', 443, 0, 0, 0)", True),
        ("socket.getaddrinfo", "('localhost', 0, 0, 0, 0)", False),
        ("socket.bind", "(('0.0.0.0', 0),)", False),
    ],
)
def test_the_loopback_rule_itself(event: str, args: str, outside: bool) -> None:
    assert outside_loopback(event, args) is outside

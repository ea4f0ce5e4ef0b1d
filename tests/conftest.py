"""Test isolation: offscreen Qt, a private data dir per test, and no network beyond loopback."""

from __future__ import annotations

import gc
import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import pytest

from memory.runtime.offline import enforce_offline
from memory.store.database import Store

enforce_offline()
pytest_plugins = ["tests.fake_server"]  # its `scripted` fixture: a scripted model server
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


# The team's shared folder (benchmark data, reference fixtures) lies beside the clone, as in CI.
SHARED = Path(os.environ.get("MEMOIR_SHARED", Path(__file__).resolve().parents[2] / "shared"))


def shared_file(relative: str) -> Path:
    path = SHARED / relative
    assert path.exists(), f"{path} is missing: put the shared folder beside the clone or set MEMOIR_SHARED"
    return path


class NetworkBlocked(AssertionError):
    pass


def _check_address(address: object) -> None:
    if isinstance(address, (str, bytes)):  # AF_UNIX paths are local by definition
        return
    host = address[0] if isinstance(address, tuple) else address
    try:
        if ipaddress.ip_address(str(host).split("%")[0]).is_loopback:
            return
    except ValueError:
        if host == "localhost":
            return
    raise NetworkBlocked(f"test tried to open a network connection to {address!r}")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _check_address(address)
    return _real_connect(self, address)  # type: ignore[arg-type]


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _check_address(address)
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    # As in the app (app/gc.py): no automatic collection, which could run on a worker lane and free
    # Qt objects off their thread; each test's garbage is collected on the main thread afterwards.
    gc.disable()


@pytest.fixture(autouse=True)
def _collect_on_main_thread() -> Iterator[None]:
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)


# What the Qt binding prints (on the C++ side, straight to stderr) when it cannot convert a value
# crossing a signal: the slot silently never runs, so a test that does not look would still pass.
BINDING_ERRORS = ("Cannot copy-convert", "_pythonToCppCopy", "Cannot convert", "Unable to convert")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.passed and report.when in ("call", "teardown"):
        printed = [line for line in report.capstderr.splitlines() if any(e in line for e in BINDING_ERRORS)]
        if printed:
            report.outcome = "failed"
            report.longrepr = "the Qt binding printed a conversion error:\n" + "\n".join(printed[:5])


@pytest.fixture(autouse=True)
def memoir_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "memoir-home"
    monkeypatch.setenv("MEMOIR_HOME", str(home))
    return home


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "test.db")
    yield s
    s.close()

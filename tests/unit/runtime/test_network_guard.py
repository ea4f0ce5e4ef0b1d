import socket

import pytest

from tests.conftest import NetworkBlocked


def test_connection_to_the_outside_is_refused() -> None:
    with socket.socket() as s, pytest.raises(NetworkBlocked):
        s.connect(("192.0.2.1", 80))


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as client:
            client.connect(server.getsockname())


# Memoir's own guard (memory/runtime/network_guard.py) is an audit hook, which can never be removed:
# each check runs in a fresh interpreter.
GUARD_SCRIPT = """
import json, socket, sys
from memory.runtime import network_guard as guard
guard.install()
guard.allow_only(sys.argv[1:])
def attempt(fn):
    try:
        fn()
    except guard.NetworkBlocked:
        return "blocked"
    except OSError:
        return "let through"  # the network itself said no (nothing listens, no route): not the guard
    return "let through"
def connect(host):
    def go():
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.setblocking(False)
            s.connect_ex((host, 9))
    return go
print(json.dumps({
    "allowed server": attempt(connect("192.0.2.10")),
    "another address": attempt(connect("192.0.2.11")),
    "loopback": attempt(connect("127.0.0.1")),
    "a name lookup": attempt(lambda: socket.getaddrinfo("huggingface.co", 443)),
    "the server's name": attempt(lambda: socket.getaddrinfo("192.0.2.10", 9)),
}))
"""


def run_guard(*allowed: str) -> dict[str, str]:
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", GUARD_SCRIPT, *allowed], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout)


def test_memoirs_guard_lets_through_the_model_server_and_nothing_else() -> None:
    assert run_guard("192.0.2.10") == {
        "allowed server": "let through",
        "another address": "blocked",
        "loopback": "let through",
        "a name lookup": "blocked",
        "the server's name": "let through",
    }


def test_with_no_model_server_memoirs_guard_allows_only_this_machine() -> None:
    seen = run_guard()
    assert seen["allowed server"] == "blocked" and seen["another address"] == "blocked"
    assert seen["loopback"] == "let through" and seen["a name lookup"] == "blocked"

"""No network, except the model server the user named: a guard on every socket the process opens.

Memoir needs no network. Libraries might want one anyway (telemetry, a model download), and
``memory/runtime/offline.py`` asks them not to; this guard makes sure. It is a Python audit hook
(PEP 578), so it sees every ``socket.connect`` and name lookup, from any library, and refuses by
raising before the connection is made. This machine's own addresses (loopback, Unix sockets) stay
open: they never leave the computer. The one exception the user can make is the model server they
enter in Settings: its host name may be looked up and its addresses reached, nothing else.

An audit hook cannot be removed, so :func:`install` adds it once and :func:`allow_only` changes
what it lets through (when the user changes the server in Settings).
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
from typing import Any

_CONNECT = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg"})
_LOOKUP = "socket.getaddrinfo"
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", ""})


class NetworkBlocked(PermissionError):
    """A connection Memoir does not allow (the message says where it was going and why not)."""


class _Policy:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.names: frozenset[str] = frozenset()  # host names the user entered
        self.addresses: frozenset[str] = frozenset()  # and the addresses they resolve to
        self.installed = False


_policy = _Policy()


def install() -> None:
    """Start guarding this process (idempotent). Call before anything opens a connection."""
    with _policy.lock:
        if _policy.installed:
            return
        sys.addaudithook(_hook)
        _policy.installed = True


def allow_only(hosts: list[str]) -> None:
    """Let exactly these hosts (names or addresses) through, besides this machine's own.

    A name is resolved here, once, so that its addresses can be recognised at connect time; a
    name that does not resolve is still allowed by name (the connection then fails on its own,
    with the resolver's message).
    """
    names = {h.strip().lower().strip("[]") for h in hosts if h.strip()}
    addresses: set[str] = set()
    for name in names:
        if _is_address(name):
            addresses.add(_normal(name))
            continue
        with _policy.lock:
            _policy.names = _policy.names | {name}  # the lookup below must itself get through
        try:
            for info in socket.getaddrinfo(name, None):
                addresses.add(_normal(str(info[4][0])))
        except OSError:
            pass
    with _policy.lock:
        _policy.names = frozenset(names)
        _policy.addresses = frozenset(addresses)


def allowed() -> tuple[frozenset[str], frozenset[str]]:
    """The host names and addresses let through now (for the settings dialog and tests)."""
    return _policy.names, _policy.addresses


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event in _CONNECT:
        _check_address(args[1] if len(args) > 1 else None)  # (socket, address)
    elif event == _LOOKUP:
        _check_name(args[0])


def _check_address(address: object) -> None:
    if not isinstance(address, tuple) or not address:
        return  # a Unix socket path (or a socketpair): local by definition
    host = str(address[0]).split("%")[0].lower()
    if _is_address(host):
        if ipaddress.ip_address(_normal(host)).is_loopback or _normal(host) in _policy.addresses:
            return
    elif host in _LOCAL_NAMES or host in _policy.names:
        return
    raise NetworkBlocked(
        f"Memoir does not connect to {host} (port {address[1] if len(address) > 1 else '?'}): it works "
        "offline, and only the model server set in Settings may be reached."
    )


def _check_name(host: object) -> None:
    if host is None:
        return
    name = (host.decode() if isinstance(host, bytes) else str(host)).lower().strip("[]")
    if name in _LOCAL_NAMES or name in _policy.names:
        return
    if _is_address(name):
        _check_address((name, 0))
        return
    raise NetworkBlocked(
        f"Memoir does not look up {name}: it works offline, and only the model server set in "
        "Settings may be reached."
    )


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


def _normal(host: str) -> str:
    """One spelling per address (``::ffff:127.0.0.1`` and ``0:0::1`` compare as they should)."""
    address = ipaddress.ip_address(host.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)

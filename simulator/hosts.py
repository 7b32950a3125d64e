"""Which ``Host`` headers the admin API answers: the addresses the simulator listens on.

A web page can make a browser send requests to a name that its DNS then points at
127.0.0.1 (DNS rebinding); such a request still carries the page's name in ``Host``. The
admin API answers only a ``Host`` naming where the simulator listens: its loopback names
when it listens on loopback, its own address otherwise, any IP address (an address cannot
be rebound) and the machine's name when it listens on every interface, plus the names
given with ``--allow-host`` (e.g. a Docker service name). The port is not compared: a
port mapping may change it, and the name alone defeats rebinding.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_EVERY_INTERFACE = frozenset({"", "0.0.0.0", "::"})


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _is_loopback(name: str) -> bool:
    return name in LOOPBACK_NAMES or (_is_ip(name) and ipaddress.ip_address(name).is_loopback)


def host_name(header: str) -> str:
    """The name of a ``Host`` header: port and IPv6 brackets removed, lower case."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else ""
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


@dataclass(frozen=True)
class HostGuard:
    """The names a ``Host`` header may carry (and whether any IP address will do)."""

    names: frozenset[str]
    any_ip: bool = False

    @classmethod
    def listening_on(cls, host: str, extra: Iterable[str] = ()) -> HostGuard:
        """The guard for a simulator listening on ``host``, accepting ``extra`` names too."""
        host = host_name(host)
        names = {host_name(n) for n in extra if n.strip()}
        if host in _EVERY_INTERFACE:
            return cls(frozenset(names | LOOPBACK_NAMES | {socket.gethostname().lower()}), True)
        if _is_loopback(host):
            names |= LOOPBACK_NAMES
        return cls(frozenset(names | {host}))

    def allows(self, header: bytes | None) -> bool:
        """True when the ``Host`` header names an address the simulator listens on."""
        if not header:
            return False
        name = host_name(header.decode("latin-1"))
        return bool(name) and (name in self.names or (self.any_ip and _is_ip(name)))

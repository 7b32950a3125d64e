"""Loopback TCP ports: a free one to listen on, whether one is taken, whether a server
answers on one. The one place the demo, the embedded services, the simulator's test
server, the test helpers and the benchmarks find ports."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_taken(port: int) -> bool:
    """True when 127.0.0.1:port cannot be bound (something listens or holds it)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False

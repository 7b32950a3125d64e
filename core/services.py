"""Make sure the loopback services the project uses are up: start any that is down.

Run as ``python -m core.services`` by ``make test`` and ``make demo``. A service that is
still unreachable after its start command makes this exit 1 with a line saying which and
what to do: tests must fail, never skip, when a service is missing.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    """A loopback service: where it listens and how this machine starts it."""

    name: str
    host: str
    port: int
    start: list[list[str]]


def _postgres_start() -> list[list[str]]:
    versions = sorted(os.path.basename(p) for p in glob.glob("/etc/postgresql/*"))
    if not versions:
        return []
    return [["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]]


SERVICES = [
    Service("PostgreSQL", "127.0.0.1", 5432, _postgres_start()),
    Service(
        "MariaDB",
        "127.0.0.1",
        3306,
        # its socket folder lives in /run, which a reboot empties
        [["install", "-d", "-o", "mysql", "-g", "mysql", "/run/mysqld"],
         ["start-stop-daemon", "--start", "--oknodo", "--background", "--exec",
          "/usr/sbin/mariadbd"]],
    ),
    Service(
        "Redis",
        "127.0.0.1",
        6379,
        [["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
          "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile",
          "/var/log/redis/ci.log"]],
    ),
]


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ensure(service: Service, wait_seconds: float = 30.0) -> str | None:
    """Start the service if it is down; None when up, else a message saying what to do."""
    if reachable(service.host, service.port):
        return None
    for cmd in service.start:
        if shutil.which(cmd[0]) is None:
            continue
        subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if reachable(service.host, service.port):
            return None
        time.sleep(0.5)
    return (
        f"{service.name} is not reachable on {service.host}:{service.port} and could not be "
        f"started; start it (or point the H2I_ URLs at a running one) and try again"
    )


def main(services: list[Service] | None = None, wait_seconds: float = 30.0) -> int:
    """Check every service; print one line per problem; exit code 1 if any remains."""
    problems = [p for p in (ensure(s, wait_seconds) for s in services or SERVICES) if p]
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if not problems:
        print("services: " + ", ".join(s.name for s in services or SERVICES) + " are up")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

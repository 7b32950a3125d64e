"""Make sure the loopback services the project uses are up: start any that is down.

Run as ``python -m core.services`` by ``make test``: a service that is still unreachable
after its start command makes this exit 1 with a line saying which and what to do: tests
must fail, never skip, when a service is missing.

``make demo`` runs ``python -m core.services --demo``: a service that cannot be reached is
a note, not an error (exit 0), since the demo then runs an embedded PostgreSQL or Redis
of its own, or reads a Hesk export file instead of MariaDB (commands/demo_services.py).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

from core.ports import reachable


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
        [
            ["install", "-d", "-o", "mysql", "-g", "mysql", "/run/mysqld"],
            [
                "start-stop-daemon",
                "--start",
                "--oknodo",
                "--background",
                "--exec",
                "/usr/sbin/mariadbd",
            ],
        ],
    ),
    Service(
        "Redis",
        "127.0.0.1",
        6379,
        [
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "-::1",
                "--port",
                "6379",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                "/var/lib/redis",
                "--logfile",
                "/var/log/redis/ci.log",
            ]
        ],
    ),
]


def ensure(service: Service, wait_seconds: float = 30.0) -> str | None:
    """Start the service if it is down; None when up, else a message saying what to do."""
    if reachable(service.host, service.port):
        return None
    ran = False
    for cmd in service.start:
        if shutil.which(cmd[0]) is None:
            continue
        ran = True
        subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # nothing to start it with (a laptop without it installed): no point in waiting
    deadline = time.monotonic() + (wait_seconds if ran else 0)
    while time.monotonic() < deadline:
        if reachable(service.host, service.port):
            return None
        time.sleep(0.5)
    if reachable(service.host, service.port, timeout=0.5):
        return None
    return (
        f"{service.name} is not reachable on {service.host}:{service.port} and could not be "
        f"started; start it (or point the H2I_ URLs at a running one) and try again"
    )


#: What the demo does instead of each service, for ``--demo``.
DEMO_FALLBACK = {
    "PostgreSQL": "the demo starts an embedded PostgreSQL for its ledger",
    "MariaDB": "the demo reads a Hesk export file instead (the Hesk Cloud path)",
    "Redis": "the demo starts an embedded Valkey (Redis) server for its broker",
}


def main(
    services: list[Service] | None = None, wait_seconds: float = 30.0, demo: bool = False
) -> int:
    """Check every service; print one line per problem; exit code 1 if any remains
    (with ``demo``, a note per missing service and exit code 0)."""
    services = services or SERVICES
    problems = {s.name: p for s in services if (p := ensure(s, wait_seconds))}
    for s in services:
        if s.name not in problems:
            continue
        if demo:
            print(
                f"note: {s.name} is not reachable on {s.host}:{s.port}: "
                f"{DEMO_FALLBACK.get(s.name, 'the demo goes without it')}"
            )
        else:
            print(f"error: {problems[s.name]}", file=sys.stderr)
    down = [s for s in services if s.name in problems]
    up = [s.name for s in services if s.name not in problems]
    if up:
        print("services: " + ", ".join(up) + (" are up" if len(up) > 1 else " is up"))
    return 1 if down and not demo else 0


if __name__ == "__main__":
    sys.exit(main(demo="--demo" in sys.argv[1:]))

"""Where the demo runs: this machine's services where they answer, embedded ones elsewhere.

The ledger (PostgreSQL) and the broker (Redis) of ``H2I_LEDGER_URL`` / ``H2I_REDIS_URL``
are used when their server answers; otherwise the demo starts an embedded PostgreSQL or
Valkey server (:mod:`core.embedded`) in ``<out>/services/``. The Hesk side is a MariaDB
database when ``H2I_HESK_URL``'s server (default 127.0.0.1:3306) answers, else a HESK
export file (the Hesk Cloud path). ``H2I_DEMO_EMBEDDED=1`` picks the embedded side of all
three, whatever answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from rich.console import Console
from sqlalchemy.engine import make_url

from core.embedded import EmbeddedServices
from core.ports import reachable
from core.settings import Settings
from hesk.demo_claim import DEFAULT_SERVER

#: What an export file cannot carry (said by the demo when it takes that path).
EXPORT_CANNOT_CARRY = (
    "private notes",
    "attachments",
    "HTML formatting (replies are plain text)",
    "the knowledge base",
    "canned responses",
    "staff e-mails (the demo's admins get made-up ones)",
    "the tracking ids of merged tickets",
)


@dataclass(frozen=True)
class DemoPaths:
    """Which side of each service the demo shows."""

    ledger: Literal["machine", "embedded"]
    broker: Literal["machine", "embedded"]
    hesk: Literal["database", "export"]

    @property
    def embedded(self) -> bool:
        """True when the demo starts an embedded ledger or broker."""
        return "embedded" in (self.ledger, self.broker)


def answers(url: str | None, default_port: int) -> bool:
    """True when the server of ``url`` accepts a TCP connection (a socket path: exists)."""
    if not url:
        return False
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            parts = urlsplit(url)
            if parts.scheme == "unix":
                return True  # a socket path: let the broker say whether it answers
            host, port = parts.hostname, parts.port
        else:
            parsed = make_url(url)
            host, port = parsed.host, parsed.port
    except (ValueError, Exception):
        return True  # not ours to judge: the command using it says what is wrong
    if host is None:
        return True
    return reachable(host, port or default_port, timeout=1.0)


def choose_paths(base: Settings) -> DemoPaths:
    """This machine's services where they answer, the embedded ones elsewhere."""
    if base.demo_embedded:
        return DemoPaths("embedded", "embedded", "export")
    return DemoPaths(
        ledger="machine" if answers(base.ledger_url, 5432) else "embedded",
        broker="machine" if answers(base.redis_url, 6379) else "embedded",
        hesk="database" if answers(base.hesk_url or DEFAULT_SERVER, 3306) else "export",
    )


def announce(
    paths: DemoPaths,
    services: EmbeddedServices | None,
    settings: Settings,
    forced: bool,
    console: Console,
) -> None:
    """Say which path the demo shows, and what the export path cannot carry."""
    why = "H2I_DEMO_EMBEDDED is set" if forced else "no server answered"
    if services and services.postgres:
        pg = services.postgres
        console.print(
            f"ledger: embedded PostgreSQL on 127.0.0.1:{pg.port}, data in "
            f"{pg.folder} ({why}); stopped at the end",
            markup=False,
        )
    else:
        console.print("ledger: this machine's PostgreSQL (H2I_LEDGER_URL's server)")
    if services and services.redis:
        rd = services.redis
        console.print(
            f"broker: embedded Valkey (Redis protocol) on 127.0.0.1:{rd.port}, in "
            f"{rd.folder} ({why}); stopped at the end",
            markup=False,
        )
    else:
        console.print("broker: this machine's Redis (H2I_REDIS_URL's server)")
    if paths.hesk == "database":
        console.print("Hesk: a MariaDB database (the self-hosted Hesk path)")
    else:
        console.print(
            f"Hesk: a HESK export file, {settings.hesk_export_file} (the Hesk Cloud "
            f"path; {'forced' if forced else 'no MariaDB answered'}). An export "
            f"cannot carry: {', '.join(EXPORT_CANNOT_CARRY)}; those are not "
            "migrated on this path.",
            markup=False,
        )

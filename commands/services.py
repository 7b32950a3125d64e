"""``hesk2intercom services``: which servers answer, or an embedded ledger and broker.

``services`` says whether the servers of ``H2I_LEDGER_URL``, ``H2I_REDIS_URL`` and
``H2I_HESK_URL`` answer. ``services --embedded`` starts a PostgreSQL (the ledger) and a
Valkey (the broker) from the ``[demo]`` extra in a folder of their own, prints the
``H2I_LEDGER_URL`` / ``H2I_REDIS_URL`` to export (also written to ``FOLDER/env.sh``), and
keeps them running until Ctrl-C or SIGTERM: a laptop rehearsal with ``simulator`` needs
nothing else installed. The ledger's data stays in the folder from one run to the next.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from rich.console import Console

from commands.demo_services import answers
from core.embedded import EmbeddedError, embedded_services
from core.errors import ServiceUnavailable
from core.settings import Settings
from hesk.demo_claim import DEFAULT_SERVER

LEDGER_DATABASE = "hesk2intercom"


def check_services(settings: Settings, console: Console) -> bool:
    """Print whether each configured server answers; True when all do."""
    rows = [
        ("ledger (H2I_LEDGER_URL)", answers(settings.ledger_url, 5432)),
        ("broker (H2I_REDIS_URL)", answers(settings.redis_url, 6379)),
    ]
    if settings.hesk_url or not settings.hesk_export_file:
        rows.append(("Hesk (H2I_HESK_URL)", answers(settings.hesk_url or DEFAULT_SERVER, 3306)))
    for name, ok in rows:
        console.print(f"{name}: {'answers' if ok else 'does not answer'}", markup=False)
    if not all(ok for _, ok in rows):
        console.print(
            "hesk2intercom services --embedded starts a ledger and a broker on "
            "this machine (no install needed)",
            markup=False,
        )
    return all(ok for _, ok in rows)


def run_embedded(
    folder: Path,
    ledger_port: int,
    redis_port: int,
    console: Console,
    stop: threading.Event | None = None,
) -> None:
    """Run the embedded ledger and broker until Ctrl-C / SIGTERM (or ``stop`` is set)."""
    if folder.exists() and not folder.is_dir():
        raise EmbeddedError(f"{folder} is not a folder", hint="pass another --folder")
    stop = stop or threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        with embedded_services(folder, ledger_port=ledger_port, redis_port=redis_port) as services:
            assert services.postgres is not None and services.redis is not None
            ledger_url = services.postgres.url(LEDGER_DATABASE)
            exports = (
                f"export H2I_LEDGER_URL={ledger_url}\nexport H2I_REDIS_URL={services.redis.url}\n"
            )
            env_file = folder / "env.sh"
            env_file.write_text(exports, encoding="utf-8")
            console.print(
                f"embedded PostgreSQL on 127.0.0.1:{services.postgres.port} and "
                f"Valkey (Redis protocol) on 127.0.0.1:{services.redis.port}, "
                f"data in {folder}",
                markup=False,
            )
            console.print(f"in another shell (or: . {env_file}):", markup=False)
            console.print(exports.rstrip("\n"), markup=False, highlight=False, soft_wrap=True)
            console.print("Ctrl-C stops both.", markup=False)
            while not stop.wait(0.5):
                for name, server in (("PostgreSQL", services.postgres), ("Valkey", services.redis)):
                    if server.proc is None or server.proc.poll() is not None:
                        raise ServiceUnavailable(
                            f"the embedded {name} stopped on its own",
                            hint=f"see its log in {server.folder}",
                        )
            console.print("stopping the embedded servers", markup=False)
    finally:
        (folder / "env.sh").unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)

"""``hesk2intercom demo``: the whole journey on this machine's services, embedded defaults.

Creates a fresh demo Hesk help desk with dirty data, starts the simulator with Intercom's
real rate limit, seeds admins and teams, then runs discover -> map propose/confirm ->
preflight -> migrate -> verify -> idmap -> redirects -> report, each through the same code
as its command.
Every run is a new migration (``demo-<n>``), so re-running never mixes with an old one.

Where it runs (:mod:`commands.demo_services`): this machine's PostgreSQL and Redis where
they answer, else an embedded PostgreSQL / Valkey in ``<out>/services/`` (stopped at the
end); the Hesk side is a MariaDB database where one answers, else the demo's HESK export
file (:mod:`hesk.demo_export`, the Hesk Cloud path). ``H2I_DEMO_EMBEDDED=1`` forces the
embedded side of all three.

The demo touches only what it names itself: the Hesk database :data:`DEMO_DB`, the ledger
database :data:`DEMO_LEDGER_DB` and the ``--out`` folder (attachments in its
``attachments/``), whatever the ``H2I_`` settings say. It reuses only the servers of
``H2I_HESK_URL``, ``H2I_LEDGER_URL`` and ``H2I_REDIS_URL`` (Redis queues are namespaced by
migration). The database and folders are claimed through :mod:`hesk.demo_claim`, so one
that holds something the demo did not create is refused unless ``--force``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url

from commands.demo_services import DemoPaths, announce, choose_paths
from commands.idmap import write_idmap
from commands.map import confirm, propose
from commands.migrate import run_migration
from commands.options import MigrateOptions
from commands.preflight import preflight
from commands.redirects import write_redirects
from commands.verify import render_verify, verify_sample
from commands.workspace import client_for
from core.embedded import EmbeddedServices, embedded_services
from core.errors import ConfigError, H2IError, ServiceUnavailable
from core.objects import PHASES
from core.ports import free_port
from core.settings import Settings, load_settings
from engine.resources import Resources
from hesk import demo_export
from hesk.demo_claim import DemoFolder, NotOurs, demo_database_url
from hesk.demo_data import generate
from hesk.discover import discover, render_discover
from hesk.open import open_source
from hesk.reader_base import records_of
from hesk.records import Category, Staff
from mapping.mapfile import dump_map_yaml
from reports.details import report_details
from reports.html import write_html_report
from reports.report import build_report

DEMO_TOKEN = "demo-token-not-a-secret"
#: The simulator's admin API (/_sim) takes the same token.
_ADMIN = {"Authorization": f"Bearer {DEMO_TOKEN}"}
DEMO_DB = "h2i_demo_hesk"
DEMO_LEDGER_DB = "h2i_demo_ledger"
#: Where the demo's Hesk would be served (its redirect rules are written for it).
DEMO_HESK_URL = "https://help.example.com"


@dataclass
class DemoOptions:
    """Sizes and places of the demo."""

    tickets: int = 300
    seed: int = 7
    workers: int = 2
    out: Path = Path("demo-output")
    rate_limit: int = 1666
    force: bool = False
    #: The demo's own databases (fixed names; tests pass unique ones to run side by side).
    hesk_database: str = DEMO_DB
    ledger_database: str = DEMO_LEDGER_DB


def start_simulator(port: int, rate_limit: int, state: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start the simulator as its own process and wait until it answers."""
    env = {**os.environ, "H2I_INTERCOM_TOKEN": DEMO_TOKEN}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator.server",
            "--port",
            str(port),
            "--rate-limit",
            str(rate_limit),
        ],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(
                f"http://127.0.0.1:{port}/_sim/stats", timeout=1, headers=_ADMIN
            ).raise_for_status()
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    raise ServiceUnavailable("the Intercom simulator did not start", hint=f"see {log}")


def demo_ledger_url(ledger_url: str, database: str = DEMO_LEDGER_DB) -> str:
    """``ledger_url``'s server and credentials with the demo's own ledger database."""
    try:
        url = make_url(ledger_url)
    except Exception:
        raise ConfigError(
            "H2I_LEDGER_URL is not a database URL",
            hint="use postgresql+psycopg://USER@HOST:5432/DATABASE",
        ) from None
    return url.set(database=database).render_as_string(hide_password=False)


def demo_settings(
    base: Settings, out: Path, port: int, migration: str, options: DemoOptions | None = None
) -> Settings:
    """The demo's settings: the user's servers, the demo's own databases, folder and
    simulator; every other setting at its default (never the user's migration or data)."""
    options = options or DemoOptions(out=out)
    defaults = {
        name: field.get_default(call_default_factory=True)
        for name, field in Settings.model_fields.items()
    }
    return base.model_copy(
        update={
            **defaults,
            "redis_url": base.redis_url,
            "ledger_url": demo_ledger_url(base.ledger_url, options.ledger_database),
            "hesk_url": demo_database_url(base.hesk_url, options.hesk_database),
            "hesk_attachments_dir": (out / "attachments").resolve(),
            "intercom_base_url": f"http://127.0.0.1:{port}",
            "intercom_token": SecretStr(DEMO_TOKEN),
            "migration": migration,
        }
    )


def run_demo(options: DemoOptions, console: Console) -> dict[str, Any]:
    """Run the whole demo; returns the report summary and the HTML report's path.

    The ledger and broker are this machine's where they answer, else embedded servers in
    ``<out>/services/`` (stopped at the end); see :mod:`commands.demo_services`."""
    out = options.out
    base = load_settings()
    paths = choose_paths(base)
    try:
        DemoFolder.claim(out, force=options.force)
    except NotOurs as exc:
        raise NotOurs(
            exc.message,
            hint="pass another --out folder; or, if it is the demo's "
            "own (e.g. from an older version), add --force once",
        ) from None
    with ExitStack() as stack:
        services = None
        if paths.embedded:
            console.rule("0. Embedded services (nothing else needed on this machine)")
            started = time.monotonic()
            services = stack.enter_context(
                embedded_services(
                    out / "services",
                    ledger=paths.ledger == "embedded",
                    broker=paths.broker == "embedded",
                )
            )
            base = base.model_copy(
                update={
                    "ledger_url": services.ledger_url or base.ledger_url,
                    "redis_url": services.redis_url or base.redis_url,
                }
            )
            console.print(f"ready in {time.monotonic() - started:.1f} s")
        return _run_demo(options, base, paths, services, console)


def _run_demo(
    options: DemoOptions,
    base: Settings,
    paths: DemoPaths,
    services: EmbeddedServices | None,
    console: Console,
) -> dict[str, Any]:
    out = options.out
    port = free_port()
    migration = f"demo-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    settings = demo_settings(base, out, port, migration, options)
    if paths.hesk == "export":
        settings = settings.model_copy(
            update={
                "hesk_url": None,
                "hesk_export_file": (out / "hesk-export.zip").resolve(),
                "hesk_timezone": demo_export.TIMEZONE,
            }
        )
    announce(paths, services, settings, base.demo_embedded, console)
    console.rule("1. A demo Hesk help desk (dirty data included)")
    if settings.hesk_export_file is not None:
        kept = demo_export.first_tickets(
            demo_export.DEMO_EXPORT, settings.hesk_export_file, options.tickets
        )
        console.print(
            f"{kept} tickets in {settings.hesk_export_file}: the export Hesk 3.7 "
            f"writes for the demo help desk (seed {demo_export.SEED}, "
            f"{demo_export.TICKETS} tickets at most on this path)",
            markup=False,
        )
    else:
        assert settings.hesk_url is not None  # demo_settings names the demo's own database
        try:
            summary = generate(
                settings.hesk_url,
                settings.hesk_attachments_dir,
                tickets=options.tickets,
                seed=options.seed,
                force=options.force,
                clean_files=True,
            )
        except NotOurs as exc:
            raise NotOurs(
                exc.message,
                hint="pass another --out folder; or, if it is the "
                "demo's own (e.g. from an older version), add --force once",
            ) from None
        console.print(
            f"{summary.tickets} tickets, {summary.replies} replies, "
            f"{summary.notes} notes, {summary.attachments} attachments in "
            f"database {summary.database}",
            markup=False,
        )

    console.rule("2. The Intercom simulator (Intercom's real rate limit)")
    sim = start_simulator(
        port, options.rate_limit, out / "simulator-state.json", out / "simulator.log"
    )
    try:
        with open_source(settings) as reader:
            staff = [s for s in records_of(reader, Staff) if s.name]
            categories = list(records_of(reader, Category))
        # an export names staff without their e-mail: the admins get made-up ones
        admins = [
            {"name": s.name, "email": s.email or f"admin{n}@example.com"}
            for n, s in enumerate(staff[: max(1, len(staff) - 1)], 1)
        ]
        teams = [{"name": c.name} for c in categories[: max(1, len(categories) - 1)]]
        httpx.post(
            f"http://127.0.0.1:{port}/_sim/seed",
            json={"admins": admins, "teams": teams, "contacts": []},
            headers=_ADMIN,
            timeout=10,
        ).raise_for_status()
        console.print(
            f"simulator on {settings.intercom_url}: seeded {len(admins)} admins "
            f"(one staff member left unmatched on purpose), {len(teams)} teams"
        )

        console.rule("3. discover")
        with open_source(settings) as reader:
            render_discover(discover(reader), console)

        console.rule("4. map propose / map confirm")
        map_file = out / "map.yaml"
        map_file.write_text(dump_map_yaml(propose(settings)), encoding="utf-8")
        event, _ = confirm(settings, map_file)
        console.print(
            f"proposal written to {map_file}; confirmed as {event.map_hash[:12]}", markup=False
        )

        console.rule("5. preflight")
        result = preflight(settings)
        for line in result.manual_steps + result.to_create:
            console.print(f"  - {escape(line)}", highlight=False)
        if result.blockers:
            raise H2IError("preflight found blockers: " + "; ".join(result.blockers))

        console.rule("6. migrate")
        run_migration(
            settings, MigrateOptions(workers=options.workers, log_dir=out / "logs"), console
        )

        console.rule("7. verify")

        res = Resources.from_settings(settings)
        try:
            with client_for(settings) as client:
                verdict = verify_sample(res.engine, migration, client, sample=25, seed=1)
            render_verify(verdict, console)
            console.rule("8. ID map and redirects")
            idmap = write_idmap(settings, out / "idmap.csv")
            moved = write_redirects(settings, DEMO_HESK_URL, out / "redirects.conf")
            console.print(
                f"{idmap.path}: {idmap.rows} rows; {moved.path}: {moved.rules} nginx rules",
                markup=False,
                highlight=False,
            )
            console.rule("9. report")
            report = build_report(res.engine, migration)
            details = report_details(res.engine, migration, PHASES)
        finally:
            res.close()
        stats = httpx.get(f"http://127.0.0.1:{port}/_sim/stats", timeout=10, headers=_ADMIN).json()
    finally:
        sim.terminate()
        sim.wait(10)
    html = write_html_report(report, out / "report.html", details)
    (out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return {
        "report": report,
        "html": html,
        "migration": migration,
        "notifications_sent": stats.get("notifications_sent"),
    }

"""End-to-end fixtures: a real demo Hesk database (MariaDB), the simulator over HTTP, Redis.

Each test gets its own migration id, a reset simulator seeded with admins and teams, and
a confirmed map, exactly as a user would prepare a run.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymysql
import pytest
from pydantic import SecretStr
from rich.console import Console

from commands.map import confirm, propose
from commands.migrate import run_migration
from commands.options import MigrateOptions
from core.settings import Settings, load_settings
from hesk.demo_data import generate
from hesk.reader import HeskReader
from ledger.database import open_engine
from mapping.mapfile import dump_map_yaml
from reports.report import build_report
from simulator.testing import SimulatorHandle, running_simulator
from tests.workers.normalise import duplicates, normalise

TOKEN = "e2e-token-0123456789"
#: Tickets in the end-to-end help desk ("a few hundred" at full size: benchmarks/migrate.py).
E2E_TICKETS = int(os.environ.get("H2I_E2E_TICKETS", "150"))


@dataclass(frozen=True)
class HeskSource:
    """The generated Hesk database and its attachments folder."""

    url: str
    attachments: Path
    tickets: int


#: Tickets in the help desk the fault and kill tests compare (they wait out real 429s).
CHAOS_TICKETS = int(os.environ.get("H2I_CHAOS_TICKETS", "24"))
#: The same for the runs into Intercom tickets (smaller: the suite's time is counted).
TICKET_CHAOS_TICKETS = int(os.environ.get("H2I_TICKET_CHAOS_TICKETS", "20"))


def _hesk_source(
    tmp_path_factory: pytest.TempPathFactory, label: str, tickets: int, seed: int
) -> Iterator[HeskSource]:
    name = f"h2i_{label}_{os.getpid()}"
    url = f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    folder = tmp_path_factory.mktemp(f"attachments-{label}")
    generate(url, folder, tickets=tickets, seed=seed)
    yield HeskSource(url, folder, tickets)
    conn = pymysql.connect(host="127.0.0.1", user="root")
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


@pytest.fixture(scope="session")
def hesk_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeskSource]:
    """A demo Hesk 3.7 database with every kind of dirty data, generated once."""
    yield from _hesk_source(tmp_path_factory, "e2e", E2E_TICKETS, 11)


@pytest.fixture(scope="session")
def chaos_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeskSource]:
    """A smaller help desk (dirty data included) for the fault and kill -9 runs."""
    yield from _hesk_source(tmp_path_factory, "chaos", CHAOS_TICKETS, 23)


@pytest.fixture(scope="session")
def ticket_chaos_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeskSource]:
    """The help desk of the fault and kill -9 runs into Intercom tickets."""
    yield from _hesk_source(tmp_path_factory, "tchaos", TICKET_CHAOS_TICKETS, 29)


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorHandle]:
    """The Intercom simulator, unthrottled, for the whole session."""
    with running_simulator(token=TOKEN, rate_limit=1_000_000) as sim:
        yield sim


def seed_workspace(sim: SimulatorHandle, source: HeskSource) -> None:
    """Reset the simulator and create the admins and teams a real workspace would have.

    One staff member and one category are left without a match on purpose, and one
    customer already exists as a contact (it must be matched, never duplicated).
    """
    sim.reset()
    with HeskReader(source.url) as reader:
        staff = [s for s in reader.iter_records("staff") if s.email]
        categories = list(reader.iter_records("category"))
        first_contact = next(c for c in reader.iter_records("contact") if c.email_valid)
    sim.seed(
        admins=[{"name": s.name, "email": s.email} for s in staff[:-1]],
        teams=[{"name": c.name} for c in categories[:-1]],
        contacts=[{"email": first_contact.email.upper(), "name": "Existed before", "role": "user"}],
    )


def e2e_settings(sim: SimulatorHandle, source: HeskSource, ledger_url: str) -> Settings:
    """Settings of a fresh migration against this simulator and Hesk database."""
    return load_settings(
        ledger_url=ledger_url,
        hesk_url=source.url,
        hesk_attachments_dir=source.attachments,
        intercom_base_url=sim.base_url,
        intercom_token=SecretStr(TOKEN),
        migration=f"e2e-{uuid.uuid4().hex[:8]}",
    )


def prepare(
    sim: SimulatorHandle, source: HeskSource, ledger_url: str, tmp: Path,
    target: str = "conversations",
) -> Settings:
    """Seed the workspace, propose (for ``target``) and confirm the map: ready for `migrate`."""
    seed_workspace(sim, source)
    settings = e2e_settings(sim, source, ledger_url)
    map_file = tmp / f"{settings.migration}.yaml"
    map_file.write_text(dump_map_yaml(propose(settings, target)), encoding="utf-8")
    confirm(settings, map_file)
    return settings


def migrate(settings: Settings, tmp: Path, **options: object) -> dict:
    """Run `migrate` in-process (workers are real processes) with a quiet console."""
    opts = MigrateOptions(log_dir=tmp / "logs", **options)  # type: ignore[arg-type]
    return run_migration(settings, opts, Console(file=io.StringIO()))


@pytest.fixture(scope="session")
def baseline(
    simulator: SimulatorHandle,
    chaos_source: HeskSource,
    ledger_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict:
    """The workspace after a clean, uninterrupted migration of the chaos help desk (the
    fault, kill -9 and service-restart runs must all end in exactly this)."""
    return make_baseline(simulator, chaos_source, ledger_url, tmp_path_factory, "conversations")


@pytest.fixture(scope="session")
def ticket_baseline(
    simulator: SimulatorHandle,
    ticket_chaos_source: HeskSource,
    ledger_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict:
    """The same as ``baseline``, into Intercom tickets."""
    return make_baseline(simulator, ticket_chaos_source, ledger_url, tmp_path_factory, "tickets")


def make_baseline(
    simulator: SimulatorHandle, source: HeskSource, ledger_url: str,
    tmp_path_factory: pytest.TempPathFactory, target: str,
) -> dict:
    """A clean, uninterrupted migration of ``source`` into ``target``: what it left."""
    tmp = tmp_path_factory.mktemp(f"baseline-{target}")
    settings = prepare(simulator, source, ledger_url, tmp, target)
    migrate(settings, tmp, workers=2, threads=4)
    dump = simulator.dump()
    assert duplicates(dump) == {}
    report = build_report(open_engine(ledger_url), settings.migration)
    assert all(c["pending"] == 0 for c in report["objects"].values())
    return {"normal": normalise(dump), "objects": report["objects"]}

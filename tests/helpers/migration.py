"""A migration prepared and run as a user would: seed the workspace, propose and confirm the
map, then ``migrate`` in-process (its Dramatiq workers are real processes)."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from pydantic import SecretStr
from rich.console import Console

from commands.map import confirm, propose
from commands.migrate import run_migration
from commands.options import MigrateOptions
from core.settings import Settings, load_settings
from hesk.reader import HeskReader
from ledger.database import open_engine
from mapping.mapfile import dump_map_yaml
from reports.report import build_report
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource
from tests.helpers.normalise import duplicates, normalise
from tests.helpers.simulator import TOKEN


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
    sim: SimulatorHandle,
    source: HeskSource,
    ledger_url: str,
    tmp: Path,
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
    opts = MigrateOptions(log_dir=tmp / "logs", **options)  # type: ignore[arg-type]  # the tests' keywords are MigrateOptions fields
    return run_migration(settings, opts, Console(file=io.StringIO()))


def make_baseline(
    sim: SimulatorHandle,
    source: HeskSource,
    ledger_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    target: str,
) -> dict:
    """A clean, uninterrupted migration of ``source`` into ``target``: what it left."""
    tmp = tmp_path_factory.mktemp(f"baseline-{target}")
    settings = prepare(sim, source, ledger_url, tmp, target)
    migrate(settings, tmp, workers=2, threads=4)
    dump = sim.dump()
    assert duplicates(dump) == {}
    report = build_report(open_engine(ledger_url), settings.migration)
    assert all(c["pending"] == 0 for c in report["objects"].values())
    return {"normal": normalise(dump), "objects": report["objects"]}

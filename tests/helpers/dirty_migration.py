"""Load drawn dirty help desks into a real Hesk schema, then discover and migrate them.

Shared by the property-based test (a few hundred records) and ``benchmarks/dirty_data.py``
(10,000). The migration runs its units in this process, so a crash in any unit surfaces
here with its traceback instead of as a stalled worker.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
from pydantic import SecretStr
from rich.console import Console

from commands.coordinator import Coordinator, MigrationPending, pending_units
from commands.map import confirm, propose
from commands.migrate import check_intercom, record_run, require_map, run_number
from commands.options import MigrateOptions
from commands.worker_pool import in_process_sender
from core.settings import Settings, load_settings
from engine.capture import capture_source
from engine.resources import Resources
from engine.units import process_unit
from hesk.discover import discover
from hesk.reader import HeskReader
from hesk.schema import schema_statements
from ledger.database import open_engine
from ledger.dispositions import STATES
from mapping.mapfile import dump_map_yaml
from reports.report import build_report
from simulator.testing import SimulatorHandle
from tests.helpers.dirty_rows import HelpDesk, write_desks
from tests.helpers.ledger import unsettled_intents

SERVER = "mysql+pymysql://root@127.0.0.1:3306"


@dataclass
class DirtySource:
    """A Hesk database made by this module, and its attachments folder."""

    name: str
    url: str
    attachments: Path
    records: int

    def drop(self) -> None:
        """Drop the database and the folder (ours: their names were made here, fresh)."""
        conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{self.name}`")
        conn.close()
        shutil.rmtree(self.attachments, ignore_errors=True)


def load(desks: list[HelpDesk], label: str = "dirty") -> DirtySource:
    """A new database with a unique name, the real Hesk schema, and the desks' rows."""
    name = f"h2i_{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    assert re.fullmatch(r"[a-z0-9_]+", name)
    folder = Path(tempfile.mkdtemp(prefix=f"{name}-att-"))
    conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True, charset="utf8mb4")
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8 COLLATE utf8_unicode_ci")
            cur.execute(f"USE `{name}`")
            cur.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")
            for stmt in schema_statements("hesk_"):
                cur.execute(stmt)
        records = write_desks(conn, "hesk_", desks, folder)
    finally:
        conn.close()
    return DirtySource(name, f"{SERVER}/{name}", folder, records)


def settings_for(sim: SimulatorHandle, source: DirtySource, ledger_url: str) -> Settings:
    """Settings of a fresh migration of ``source`` into the simulator."""
    return load_settings(
        ledger_url=ledger_url,
        hesk_url=source.url,
        hesk_attachments_dir=source.attachments,
        intercom_base_url=sim.base_url,
        intercom_token=SecretStr(sim.token),
        migration=f"dirty-{uuid.uuid4().hex[:8]}",
    )


def migrate_here(settings: Settings, tmp: Path) -> dict[str, Any]:
    """Propose and confirm the map, then ``migrate`` with every unit run in this process;
    returns the report."""
    map_file = tmp / f"{settings.migration}.yaml"
    map_file.write_text(dump_map_yaml(propose(settings)), encoding="utf-8")
    confirm(settings, map_file)
    options = MigrateOptions(workers=0, stall_seconds=5, max_stalls=2, log_dir=tmp)
    res = Resources.from_settings(settings)
    try:
        the_map = require_map(res)
        check_intercom(settings)
        run = f"run-{run_number(res)}"
        record_run(res, run, options)
        with HeskReader.from_settings(settings) as reader:
            capture_source(res.ledger, reader, run, the_map=the_map)
        coordinator = Coordinator(res, options, in_process_sender(res))
        for _name, objects in coordinator.phases():
            try:
                coordinator.run_phase(objects, lambda _p: None)
            except MigrationPending:
                raise AssertionError(f"left pending: {why_pending(res, objects)}") from None
    finally:
        res.close()
    engine = open_engine(settings.ledger_url)
    try:
        return build_report(engine, settings.migration)
    finally:
        engine.dispose()


def why_pending(res: Resources, objects: tuple[str, ...]) -> list[str]:
    """Each pending unit of the phase run once more, with what it raised."""
    out = []
    for key in pending_units(res, objects)[:10]:
        try:
            process_unit(res, key)
            out.append(f"{key}: ran")
        except Exception as err:  # noqa: BLE001 - this is the diagnosis
            out.append(f"{key}: {type(err).__name__}: {err}")
    return out


def discover_source(source: DirtySource) -> dict[str, Any]:
    """The discover report of the source (what ``hesk2intercom discover`` prints)."""
    with HeskReader(source.url, "hesk_", source.attachments) as reader:
        return discover(reader)


def run_dirty(
    sim: SimulatorHandle, ledger_url: str, desks: list[HelpDesk], label: str = "dirty"
) -> dict[str, Any]:
    """Load, discover and migrate the desks; check that every record ended migrated,
    quarantined or skipped with a reason and that the report adds up. Returns figures."""
    source = load(desks, label)
    tmp = Path(tempfile.mkdtemp(prefix=f"{source.name}-run-"))
    try:
        started = time.monotonic()
        found = discover_source(source)
        discovered = time.monotonic()
        sim.reset()
        settings = settings_for(sim, source, ledger_url)
        report = migrate_here(settings, tmp)
        check_report(report, found)
        assert unsettled_intents(ledger_url, settings.migration) == []
        return {
            "records": source.records,
            "discover": found,
            "report": report,
            "discover_seconds": round(discovered - started, 1),
            "migrate_seconds": round(time.monotonic() - discovered, 1),
        }
    finally:
        source.drop()
        shutil.rmtree(tmp, ignore_errors=True)


def check_report(report: dict[str, Any], found: dict[str, Any]) -> None:
    """Nothing pending, every count adds up, every quarantine and skip says why, and every
    ticket, reply, note and article discover counted is in the report."""
    for obj, c in report["objects"].items():
        assert c["pending"] == 0, (obj, c, report["quarantined"][:5])
        assert c["source"] == sum(c[s] for s in STATES), (obj, c)
    for entry in report["quarantined"] + report["skipped"]:
        assert entry["reason"].strip(), entry
    for obj in ("ticket", "reply", "note", "kb_article", "kb_category", "staff", "category"):
        assert report["objects"][obj]["source"] == found["counts"][obj], (
            obj,
            report["objects"][obj],
            found["counts"][obj],
        )


def quiet_console() -> Console:
    """A console that prints nowhere."""
    return Console(file=io.StringIO())

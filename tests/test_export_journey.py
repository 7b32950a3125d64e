"""Hesk Cloud: the whole journey from Hesk's own export file, as a user runs it.

Only ``H2I_HESK_EXPORT_FILE`` is set (no database): discover, map propose / confirm,
preflight, migrate --sample, migrate, status, report, verify, delta with a newer export
(then the same export again: nothing written), rollback. The export is written the way
Hesk 3.7 writes it (hesk.export_writer) from a generated Hesk database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hesk.export_writer import ExportOptions, write_export
from hesk.reader import HeskReader
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource, drop_source, make_source
from tests.helpers.hesk_writes import HeskWriter
from tests.helpers.simulator import TOKEN

BIN = Path(sys.executable).with_name("hesk2intercom")
T1 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def run(env: dict[str, str], *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    """Run one command; assert its exit code and that no traceback leaked."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("H2I_")}
    out = subprocess.run(
        [str(BIN), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**clean, "COLUMNS": "300", **env},
    )
    assert out.returncode == code, f"{args}: {out.returncode}\n{out.stdout}\n{out.stderr}"
    assert "Traceback" not in out.stderr
    return out


@pytest.fixture
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeskSource]:
    """A small generated help desk (dirty data planted) that this test may write to."""
    made = make_source(tmp_path_factory, f"x{uuid.uuid4().hex[:6]}", tickets=16, seed=5)
    yield made
    drop_source(made)


def _seed(simulator: SimulatorHandle, source: HeskSource) -> list[str]:
    """Admins named like Hesk's staff (the export has names, not e-mails), all but one."""
    simulator.reset()
    with HeskReader(source.url) as reader:
        staff = [s for s in reader.iter_records("staff") if s.name]
    named = staff[:-1]
    simulator.seed(admins=[{"name": s.name, "email": f"admin{s.id}@example.com"} for s in named])
    return [s.name for s in named]


def _env(simulator: SimulatorHandle, ledger_url: str, export: Path) -> dict[str, str]:
    return {
        "H2I_LEDGER_URL": ledger_url,
        "H2I_HESK_EXPORT_FILE": str(export),
        "H2I_INTERCOM_BASE_URL": simulator.base_url,
        "H2I_INTERCOM_TOKEN": TOKEN,
        "H2I_MIGRATION": f"exp-{uuid.uuid4().hex[:8]}",
        "H2I_HESK_TIMEZONE": "Europe/Berlin",
    }


def _conversations(simulator: SimulatorHandle) -> dict[int, dict[str, Any]]:
    return {
        int(c["custom_attributes"]["hesk_ticket_id"]): c
        for c in simulator.dump()["conversations"]
        if (c.get("custom_attributes") or {}).get("hesk_ticket_id") is not None
    }


def _parts(conv: dict[str, Any]) -> list[dict[str, Any]]:
    return conv["conversation_parts"]["conversation_parts"]


def test_the_whole_journey_from_the_export_file(
    sim: SimulatorHandle,
    source: HeskSource,
    ledger_url: str,
    tmp_path: Path,  # noqa: F811
) -> None:
    names = _seed(sim, source)
    hesk = HeskWriter(source.url)
    hesk.query("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")
    hesk.query(
        "UPDATE hesk_tickets SET dt = '0000-00-00 00:00:00' WHERE id = %s", source.tickets
    )  # Hesk exports a zero date as -0001-11-30: a broken row
    first = write_export(
        source.url,
        tmp_path,
        ExportOptions(timezone="Europe/Berlin", made_at=T1, random_digits=111111),
    )
    env = _env(sim, ledger_url, first)

    found = json.loads(run(env, "discover", "--json").stdout)
    assert found["counts"]["ticket"] == source.tickets
    assert found["counts"]["note"] == 0 and found["counts"]["reply"] > 0
    absent = {(a["object"], a["reason"]) for a in found["not_in_source"]}
    assert {
        ("note", "not in a Hesk export file"),
        ("attachment", "not in a Hesk export file"),
        ("kb_article", "not in a Hesk export file"),
        ("canned_response", "not in a Hesk export file"),
    } <= absent
    assert any(f["kind"] == "broken_row" for f in found["findings"])  # the zero-date ticket

    map_file = tmp_path / "map.yaml"
    run(env, "map", "propose", "--out", str(map_file))
    run(env, "map", "confirm", "--file", str(map_file), "--yes")
    run(env, "preflight")
    run(env, "migrate", "--sample", "3", "--workers", "1", "--threads", "4")
    assert 1 <= len(_conversations(sim)) <= 3
    run(env, "migrate", "--workers", "1", "--threads", "4")
    status = json.loads(run(env, "status", "--json").stdout)
    assert status
    report = json.loads(run(env, "report", "--json").stdout)
    tickets = report["objects"]["ticket"]
    assert tickets["source"] == source.tickets and tickets["pending"] == 0
    broken = next(
        q
        for q in report["quarantined"]
        if q["object"] == "ticket" and q["source_id"] == str(source.tickets)
    )
    assert broken["reason"].startswith("export row ") and "is not a date" in broken["reason"]
    starred = {s["object"] for s in report["skipped"] if s["source_id"] == "*"}
    assert {"note", "attachment", "kb_category", "kb_article", "canned_response"} <= starred
    assert all(
        "not in a Hesk export file" in s["reason"]
        for s in report["skipped"]
        if s["source_id"] == "*"
    )
    run(env, "verify", "--sample", "10")

    convs = _conversations(sim)
    assert len(convs) == tickets["migrated"]
    admins = {a["id"]: a["name"] for a in sim.dump()["admins"]}
    by_admin = {
        admins.get(str(p["author"]["id"]))
        for c in convs.values()
        for p in _parts(c)
        if p["author"]["type"] == "admin" and p["part_type"] == "comment"
    }
    assert by_admin & set(names), "staff replies are authored by the admins of that name"
    assert any(
        p["author"]["type"] == "user"
        for c in convs.values()
        for p in _parts(c)
        if p["part_type"] == "comment"
    )

    # A newer export: a new reply on an open ticket, a status change. Then the same again.
    open_ids = sorted(t for t, c in convs.items() if c["state"] != "closed")
    replied, to_close = open_ids[0], open_ids[1]
    time.sleep(1.1)
    hesk.add_reply(replied, "A reply written after the first export")
    hesk.close(to_close)
    hesk.close_connection()
    second = write_export(
        source.url,
        tmp_path,
        ExportOptions(
            timezone="Europe/Berlin", made_at=T1 + timedelta(days=120), random_digits=222222
        ),
    )
    env2 = {**env, "H2I_HESK_EXPORT_FILE": str(second)}
    out = run(env2, "delta")
    assert "Intercom writes: 0" not in out.stdout
    after = _conversations(sim)
    assert "A reply written after the first export" in " ".join(
        str(p.get("body")) for p in _parts(after[replied])
    )
    assert after[to_close]["state"] == "closed"
    again = run(env2, "delta")
    assert (
        "Intercom writes: 0" in again.stdout and "new or changed in Hesk: nothing" in again.stdout
    )
    assert _conversations(sim) == after

    # An export whose ticket carries another tracking id is not this help desk's: refused.
    hesk = HeskWriter(source.url)
    hesk.query("UPDATE hesk_tickets SET trackid = 'ZZZ-ZZZ-ZZZZ' WHERE id = %s", replied)
    hesk.close_connection()
    other = write_export(
        source.url,
        tmp_path,
        ExportOptions(
            timezone="Europe/Berlin", made_at=T1 + timedelta(days=200), random_digits=333333
        ),
    )
    refused = run({**env, "H2I_HESK_EXPORT_FILE": str(other)}, "delta", code=2)
    assert "ZZZ-ZZZ-ZZZZ in this export" in refused.stderr
    assert _conversations(sim) == after

    run(env2, "rollback", "--yes")
    assert not _conversations(sim)


def test_an_export_without_replies_and_history_still_migrates(
    sim: SimulatorHandle,
    source: HeskSource,
    ledger_url: str,
    tmp_path: Path,  # noqa: F811
) -> None:
    _seed(sim, source)
    bare = write_export(
        source.url, tmp_path, ExportOptions(history=False, replies=False, made_at=T1, language="de")
    )
    env = _env(sim, ledger_url, bare)
    found = json.loads(run(env, "discover", "--json").stdout)
    assert found["counts"]["ticket"] == source.tickets and found["counts"]["reply"] == 0
    map_file = tmp_path / "map.yaml"
    run(env, "map", "propose", "--out", str(map_file))
    run(env, "map", "confirm", "--file", str(map_file), "--yes")
    run(env, "migrate", "--sample", "4", "--workers", "1", "--threads", "4")
    report = json.loads(run(env, "report", "--json").stdout)
    assert report["objects"]["ticket"]["migrated"] >= 1


def test_broken_files_are_one_clear_line(tmp_path: Path, ledger_url: str) -> None:
    import zipfile

    empty = tmp_path / "hesk_export_2025-01-01_00-00-00_1.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "no spreadsheet here")
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr(
            "book.xml",
            '<?xml version="1.0"?><Workbook xmlns="urn:schemas-'
            'microsoft-com:office:spreadsheet"><Worksheet><Table><Row><Cell><Data>'
            "Name</Data></Cell><Cell><Data>Age</Data></Cell></Row></Table>"
            "</Worksheet></Workbook>",
        )
    for path, words in (
        (empty, "0 .xml spreadsheets"),
        (other, "not a Hesk ticket export"),
        (tmp_path / "missing.zip", "not found"),
    ):
        out = run(
            {"H2I_LEDGER_URL": ledger_url, "H2I_HESK_EXPORT_FILE": str(path)}, "discover", code=2
        )
        assert words in out.stderr and len(out.stderr.strip().splitlines()) <= 3

"""The ID map of a real migration (demo Hesk -> simulator): one row per Hesk record,
agreeing with the report, with working links; and its edge cases on hand-made ledgers."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from commands.idmap import COLUMNS, write_idmap
from commands.status import status_summary
from core.errors import ConfigError
from core.settings import Settings, load_settings
from ledger.database import open_engine
from ledger.dispositions import Dispositions
from ledger.events import ExportWritten, RecordQuarantined, WorkspaceIdentified
from ledger.idmap import idmap_rows, make_row
from ledger.projections import ProjectionTable
from ledger.store import Ledger
from reports.report import build_report
from simulator.testing import SimulatorHandle
from tests.helpers import report_factories as f

BIN = Path(sys.executable).with_name("hesk2intercom")
INBOX = "https://app.intercom.com/a/inbox/sim0ws01/inbox/conversation/"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def idmap_csv(migrated_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ID map of the shared migration, as CSV."""
    out = tmp_path_factory.mktemp("idmap") / "idmap.csv"
    result = write_idmap(migrated_settings, out)
    assert result.path == out and result.rows > 0
    return out


def test_one_row_per_record_agreeing_with_the_report(
    migrated_settings: Settings, idmap_csv: Path
) -> None:
    rows = _rows(idmap_csv)
    assert tuple(rows[0]) == COLUMNS
    engine = open_engine(migrated_settings.ledger_url)
    report = build_report(engine, migrated_settings.migration)
    engine.dispose()
    counted = Counter((r["object"], r["disposition"]) for r in rows)
    for obj, c in report["objects"].items():
        for state in ("migrated", "quarantined", "skipped", "pending"):
            assert counted[(obj, state)] == c[state], (obj, state)
    assert len({(r["object"], r["hesk_id"]) for r in rows}) == len(rows)


def test_tickets_link_to_their_inbox_page_and_say_why_not(idmap_csv: Path) -> None:
    tickets = [r for r in _rows(idmap_csv) if r["object"] == "ticket"]
    moved = [r for r in tickets if r["disposition"] == "migrated"]
    assert moved and all(r["tracking_id"] for r in tickets)
    for r in moved:
        assert (r["intercom_type"], r["link"]) == ("conversation", "created")
        assert r["url"] == INBOX + r["intercom_id"]
    not_moved = [r for r in tickets if r["disposition"] in ("quarantined", "skipped")]
    assert not_moved, "the demo data plants an anonymised ticket"
    for r in not_moved:
        assert r["reason"] and r["url"] == ""
    replies = [
        r for r in _rows(idmap_csv) if r["object"] == "reply" and r["disposition"] == "migrated"
    ]
    assert replies and all(
        r["intercom_type"] == "conversation_part" and r["url"] == INBOX + r["intercom_id"]
        for r in replies
    )


def test_created_and_matched_objects(idmap_csv: Path) -> None:
    rows = _rows(idmap_csv)
    contacts = Counter(
        r["link"] for r in rows if r["object"] == "contact" and r["disposition"] == "migrated"
    )
    assert contacts["matched"] == 1  # the contact that existed before the migration
    assert contacts["created"] >= 5
    staff = [r for r in rows if r["object"] == "staff" and r["disposition"] == "migrated"]
    assert staff and all((r["intercom_type"], r["link"]) == ("admin", "matched") for r in staff)
    collections = [
        r for r in rows if r["object"] == "kb_category" and r["disposition"] == "migrated"
    ]
    assert collections and all(
        r["intercom_type"] == "collection"
        and r["link"] == "created"
        and r["url"] == f"https://intercom.help/simulator/en/collections/{r['intercom_id']}"
        for r in collections
    )


def test_published_articles_have_their_public_url_and_drafts_none(idmap_csv: Path) -> None:
    articles = {
        r["hesk_id"]: r
        for r in _rows(idmap_csv)
        if r["object"] == "kb_article" and r["disposition"] == "migrated"
    }
    published = [a for i, a in articles.items() if int(i) % 3 == 0]  # demo: type i % 3
    drafts = [a for i, a in articles.items() if int(i) % 3 != 0]
    assert published and drafts
    for a in published:
        assert a["url"] == f"https://intercom.help/simulator/en/articles/{a['intercom_id']}"
    assert all(a["url"] == "" and a["intercom_id"] for a in drafts)


def test_json_and_one_object(migrated_settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "contacts.json"
    result = write_idmap(migrated_settings, out, obj="contact", fmt="json")
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data) == result.rows > 0
    assert {r["object"] for r in data} == {"contact"} and set(data[0]) == set(COLUMNS)


def test_status_and_report_name_the_newest_file_written(
    migrated_settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "newest.csv"
    result = write_idmap(migrated_settings, out)
    summary = status_summary(migrated_settings)
    assert summary["exports"]["idmap"] == {
        "path": str(out.resolve()),
        "format": "csv",
        "rows": result.rows,
        "stale": False,
        "as_of_seq": summary["exports"]["idmap"]["as_of_seq"],
    }
    engine = open_engine(migrated_settings.ledger_url)
    report = build_report(engine, migrated_settings.migration)
    engine.dispose()
    assert report["exports"]["idmap"]["path"] == str(out.resolve())


def test_the_command_line(
    migrated_settings: Settings, sim: SimulatorHandle, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "H2I_LEDGER_URL": migrated_settings.ledger_url,
        "H2I_MIGRATION": migrated_settings.migration,
        "H2I_INTERCOM_TOKEN": sim.token,
        "H2I_INTERCOM_BASE_URL": sim.base_url,
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN), *args], capture_output=True, text=True, env=env, timeout=120
        )

    out = tmp_path / "t.csv"
    done = run("idmap", "--object", "ticket", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "ID map written to" in done.stdout and out.exists()
    assert {r["object"] for r in _rows(out)} == {"ticket"}
    bad = run("idmap", "--object", "tickets", "--out", str(tmp_path / "x.csv"))
    assert bad.returncode == 2 and "unknown object" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "x.csv").exists()
    assert run("idmap", "--format", "xml", "--out", str(tmp_path / "y")).returncode == 2
    status = run("status")
    assert f"ID map: {out.resolve()}" in " ".join(status.stdout.split())
    report = run("report")
    assert f"ID map: {out.resolve()}" in " ".join(report.stdout.split())
    assert "Redirects: " in report.stdout


# --------------------------------------------------------------------------- hand-made ledgers


def _settings(engine: Engine, migration_id: str) -> Settings:
    return load_settings(
        ledger_url=engine.url.render_as_string(hide_password=False),
        migration=migration_id,
        intercom_token=None,
    )


def test_cells_that_a_spreadsheet_would_run_are_made_text(
    engine: Engine, ledger: Ledger, migration_id: str, tmp_path: Path
) -> None:
    evil = '=HYPERLINK("http://x")@example.com'
    f.migrated(ledger, f.contact(evil), "c1", "contact")
    f.quarantined(ledger, f.ticket(2), "-1+1 is not a subject")
    out = tmp_path / "m.csv"
    write_idmap(_settings(engine, migration_id), out, app_id="abc123")
    rows = {r["object"]: r for r in _rows(out)}
    assert rows["contact"]["hesk_id"] == "'" + evil
    assert rows["ticket"]["reason"] == "'-1+1 is not a subject"
    assert rows["ticket"]["url"] == ""


def test_offline_with_an_app_id_and_a_recorded_one_later(
    engine: Engine, ledger: Ledger, migration_id: str, tmp_path: Path
) -> None:
    f.migrated(ledger, f.ticket(1), "777", "conversation")
    settings = _settings(engine, migration_id)
    with pytest.raises(ConfigError) as err:  # no token, no --app-id, nothing recorded
        write_idmap(settings, tmp_path / "none.csv")
    assert "--app-id" in err.value.hint
    write_idmap(
        settings.model_copy(update={"intercom_region": "eu"}), tmp_path / "a.csv", app_id="ws9"
    )
    assert _rows(tmp_path / "a.csv")[0]["url"] == (
        "https://app.eu.intercom.com/a/inbox/ws9/inbox/conversation/777"
    )
    write_idmap(settings, tmp_path / "b.csv")  # the recorded workspace is used
    assert _rows(tmp_path / "b.csv")[0]["url"].startswith("https://app.eu.intercom.com/")
    assert ledger.count(types=[WorkspaceIdentified.TYPE, ExportWritten.TYPE]) == 3


def test_a_migration_with_nothing_captured_is_one_clear_error(
    engine: Engine, migration_id: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as err:
        write_idmap(_settings(engine, migration_id), tmp_path / "x.csv", app_id="a")
    assert "captured nothing" in err.value.message
    assert not Ledger(engine, migration_id).count()


def test_the_fold_agrees_with_the_dispositions_projection(
    engine: Engine, ledger: Ledger, migration_id: str
) -> None:
    t1, t2 = f.ticket(1), f.ticket(2)
    f.migrated(ledger, t1, "c1", "conversation")
    f.quarantined(ledger, t2, "no requester")
    changed = f.ticket(1, subject="Renamed in Hesk")  # a new version: pending again
    f.capture(ledger, changed)
    again = f.ticket(2, subject="Fixed")
    f.migrated(ledger, again, "c2", "conversation")
    # a late quarantine of a migrated version does not demote it
    ledger.append_one(
        RecordQuarantined(
            object="ticket", source_id="2", content_hash=f.digest(again), reason="late"
        )
    )
    table = ProjectionTable(engine, migration_id, Dispositions())
    table.catch_up()
    expected = {k: (v["state"], v.get("intercom_id", "")) for k, v in table.items()}
    got = {
        f"{r.object}:{r.source_id}": (r.state, r.intercom_id)
        for r in idmap_rows(engine, migration_id)
    }
    assert got == expected
    assert got["ticket:1"] == ("pending", "c1") and got["ticket:2"] == ("migrated", "c2")


def test_make_row_links_and_types() -> None:
    article = make_row(
        (
            "kb_article",
            "4",
            "migrated",
            "",
            "9",
            None,
            None,
            "draft",
            "article",
            True,
            True,
            "https://hc/en/articles/9-x",
            "published",
        )
    )
    assert (article.intercom_type, article.link, article.url, article.public_state) == (
        "article",
        "created",
        "https://hc/en/articles/9-x",
        "published",
    )
    matched = make_row(
        (
            "contact",
            "a@b.c",
            "migrated",
            "",
            "c1",
            None,
            None,
            None,
            "contact",
            False,
            None,
            None,
            None,
        )
    )
    assert (matched.intercom_type, matched.link) == ("contact", "matched")
    staff = make_row(
        ("staff", "3", "migrated", "", "77", None, None, None, "linked", None, None, None, None)
    )
    assert (staff.intercom_type, staff.link) == ("admin", "matched")
    reply = make_row(
        ("reply", "12", "migrated", "", "c9", None, None, None, None, None, None, None, None),
        "ticket",
    )
    assert (reply.intercom_type, reply.link) == ("conversation_part", "created")
    ticket = make_row(
        (
            "ticket",
            "5",
            "quarantined",
            "no requester",
            "",
            "ABC",
            ["OLD"],
            None,
            None,
            None,
            None,
            None,
            None,
        ),
        "ticket",
    )
    assert (ticket.intercom_type, ticket.link, ticket.tracking_id, ticket.merged_tracking_ids) == (
        "",
        "",
        "ABC",
        ("OLD",),
    )

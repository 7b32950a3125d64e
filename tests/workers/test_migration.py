"""The whole migration against real services: every record settled, exactly once."""

from __future__ import annotations

import pymysql
import pytest
from sqlalchemy.engine import make_url

from hesk.reader import HeskReader
from ledger.database import open_engine
from ledger.events import WriteIntended
from ledger.store import Ledger
from reports.report import build_report
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource
from tests.helpers.migration import migrate, prepare
from tests.helpers.normalise import duplicates, normalise


@pytest.fixture(scope="module")
def clean_run(
    sim: SimulatorHandle,
    hesk_source: HeskSource,
    ledger_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict:
    """One uninterrupted migration: its settings, report and final workspace."""
    tmp = tmp_path_factory.mktemp("clean")
    settings = prepare(sim, hesk_source, ledger_url, tmp)
    migrate(settings, tmp, workers=2, threads=4)
    engine = open_engine(ledger_url)
    report = build_report(engine, settings.migration)
    dump = sim.dump()
    return {
        "settings": settings,
        "report": report,
        "dump": dump,
        "normal": normalise(dump),
        "stats": sim.stats(),
        "tmp": tmp,
        "engine": engine,
    }


def hesk_ticket_count(run: dict) -> int:
    """Tickets in the Hesk database, read back from it."""
    with HeskReader(run["settings"].hesk_url) as reader:
        return reader.count("ticket")


def test_every_record_ends_migrated_quarantined_or_skipped(clean_run: dict) -> None:
    report = clean_run["report"]
    for obj, c in report["objects"].items():
        assert c["pending"] == 0, (obj, c)
        assert c["source"] == c["migrated"] + c["quarantined"] + c["skipped"], obj
    objects = report["objects"]
    assert objects["ticket"]["source"] == hesk_ticket_count(clean_run)
    assert objects["ticket"]["migrated"] > 0.9 * objects["ticket"]["source"]
    assert objects["reply"]["migrated"] > 0.9 * objects["reply"]["source"]
    assert objects["note"]["migrated"] > 0
    assert objects["attachment"]["migrated"] > 0
    assert objects["kb_article"]["migrated"] > 0
    assert objects["canned_response"]["skipped"] == objects["canned_response"]["source"]


def test_bad_input_gets_its_specific_reason(clean_run: dict) -> None:
    reasons = [f"{q['object']}: {q['reason']}" for q in clean_run["report"]["quarantined"]]
    skipped = [f"{q['object']}: {q['reason']}" for q in clean_run["report"]["skipped"]]
    joined = "\n".join(reasons)
    assert "contact: invalid email address" in joined
    assert "orphan reply" in joined
    assert "attachment: attachment file missing on disk" in joined
    assert "unsafe path" in joined
    assert any("anonymised (GDPR) ticket" in s for s in skipped)
    assert any(s.startswith("staff: no Intercom admin") for s in skipped)


def test_nothing_twice_and_nobody_emailed(clean_run: dict) -> None:
    dump = clean_run["dump"]
    assert duplicates(dump) == {}
    migrated_tickets = clean_run["report"]["objects"]["ticket"]["migrated"]
    assert len(dump["conversations"]) == migrated_tickets
    assert clean_run["stats"]["notifications_sent"] == 0
    # the contact that existed before was matched (409), not duplicated, and kept its name
    existed = [c for c in dump["contacts"] if c.get("name") == "Existed before"]
    assert len(existed) == 1


def test_threads_keep_order_times_and_authors(clean_run: dict) -> None:
    for conv in clean_run["dump"]["conversations"]:
        parts = [
            p
            for p in conv["conversation_parts"]["conversation_parts"]
            if p["part_type"] in ("comment", "note")
        ]
        times = [p["created_at"] for p in parts]
        assert times == sorted(times), conv["id"]
        assert all(t < 1_790_000_000 for t in times)  # original Hesk times, not "now"
        assert conv["created_at"] < 1_790_000_000
        for p in parts:
            assert p["author"]["type"] in ("admin", "user")
            assert "<script" not in (p["body"] or "").lower()
            assert "onerror" not in (p["body"] or "").lower()


def test_running_migrate_again_writes_nothing(clean_run: dict, sim: SimulatorHandle) -> None:
    settings = clean_run["settings"]
    ledger = Ledger(clean_run["engine"], settings.migration)
    before = ledger.count(types=[WriteIntended.TYPE])
    migrate(settings, clean_run["tmp"], workers=1, threads=4)
    assert ledger.count(types=[WriteIntended.TYPE]) == before
    assert normalise(sim.dump()) == clean_run["normal"]


def _hesk(run: dict) -> pymysql.connections.Connection:
    url = make_url(run["settings"].hesk_url)
    return pymysql.connect(
        host=url.host,
        port=url.port or 3306,
        user=url.username,
        database=url.database,
        autocommit=True,
    )


def test_the_ledger_holds_no_ip_the_map_does_not_migrate(clean_run: dict) -> None:
    conn = _hesk(clean_run)
    with conn.cursor() as cur:
        cur.execute("SELECT DISTINCT ip FROM hesk_tickets WHERE ip NOT IN ('', '0.0.0.0')")
        ips = [r[0] for r in cur.fetchall()]
    conn.close()
    assert len(ips) > 10
    with clean_run["engine"].connect() as db:
        payloads = [
            row[0]
            for row in db.exec_driver_sql(
                "SELECT payload::text FROM events WHERE migration_id = %(m)s",
                {"m": clean_run["settings"].migration},
            )
        ]
        tickets = db.exec_driver_sql(
            "SELECT count(*) FROM events WHERE migration_id = %(m)s AND type = 'SourceCaptured' "
            "AND object = 'ticket' AND payload->'record'->>'ip' = ''",
            {"m": clean_run["settings"].migration},
        ).scalar_one()
    assert tickets >= clean_run["report"]["objects"]["ticket"]["source"]
    leaked = [ip for ip in ips if any(f'"{ip}"' in p for p in payloads)]
    assert leaked == []


def test_a_change_only_in_the_ip_is_not_captured_again(clean_run: dict) -> None:
    from commands.migrate import require_map
    from engine.capture import capture_records
    from engine.resources import Resources

    conn = _hesk(clean_run)
    cur = conn.cursor()
    cur.execute("SELECT id, ip FROM hesk_tickets WHERE ip NOT IN ('', '0.0.0.0') LIMIT 1")
    tid, ip = cur.fetchone()
    cur.execute(
        "UPDATE hesk_tickets SET ip = '192.0.2.77', lastchange = lastchange WHERE id = %s", (tid,)
    )
    res = Resources.from_settings(clean_run["settings"])
    try:
        with HeskReader(clean_run["settings"].hesk_url) as reader:
            stats = capture_records(
                res.ledger, reader.iter_records("ticket"), "ip-only", the_map=require_map(res)
            )
        assert stats.read["ticket"] > 10 and stats.new == {}
    finally:
        cur.execute(
            "UPDATE hesk_tickets SET ip = %s, lastchange = lastchange WHERE id = %s", (ip, tid)
        )
        conn.close()
        res.close()

"""The planner's statistics follow the ledger as a migration grows it.

A migration writes its events faster than autovacuum analyses them. Planned on the counts
of a smaller ledger, a unit's read of its dependencies became a scan of the whole
migration; refreshed between phases, it stays on the (migration, object, source) index,
and between two refreshes too: a phase settles thousands of records the statistics taken
at its start do not know of.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from ledger.database import open_engine
from ledger.events import RecordMigrated, SourceCaptured, WriteIntended
from ledger.projections import ROWS_BY_KEYS
from ledger.sessions import refresh_statistics
from ledger.store import LATEST_OF_RECORDS, Ledger
from tests.helpers.ledger import PG_ADMIN_URL, drop_database

RECORDS = 6_000


@pytest.fixture
def fresh_engine() -> Iterator[Engine]:
    """A ledger database of its own: its statistics are those this test makes."""
    name = f"h2i_stats_{uuid.uuid4().hex[:8]}"
    engine = open_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    yield engine
    engine.dispose()
    drop_database(name)


def _plan(engine: Engine, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """PostgreSQL's plan of ``sql`` with these parameters (EXPLAIN, JSON)."""
    with engine.connect() as conn:
        found = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql, params).scalar_one()
    plan = found if isinstance(found, list) else json.loads(found)
    return dict(plan[0]["Plan"])


def _dependency_read_plan(engine: Engine, migration: str) -> dict[str, Any]:
    """The plan of a unit's read of three contacts' settlements."""
    params = {
        "m": migration,
        "o": ["contact", "contact", "contact"],
        "s": ["10", "20", "30"],
        "t": ["RecordMigrated", "RecordQuarantined", "RecordSkipped"],
    }
    return _plan(engine, LATEST_OF_RECORDS, params)


def _assert_settled_ids(ledger: Ledger) -> None:
    """Contacts 10 and 20 read as migrated to c10 and c20; contact x as not settled."""
    found = ledger.settlements([("contact", "10"), ("contact", "20"), ("contact", "x")])
    assert {k: r.event.intercom_id for k, r in found.items()} == {  # type: ignore[attr-defined]  # RecordMigrated
        ("contact", "10"): "c10",
        ("contact", "20"): "c20",
    }


def _indexes(node: dict[str, Any]) -> set[str]:
    found = {node["Index Name"]} if "Index Name" in node else set()
    for child in node.get("Plans", ()):
        found |= _indexes(child)
    return found


def _last_analyze(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT relname, last_analyze FROM pg_stat_user_tables "
            "WHERE relname IN ('events', 'projection_rows')"
        )
        return {name: at for name, at in rows}


def test_after_a_refresh_a_units_dependency_read_uses_the_record_index(
    fresh_engine: Engine,
) -> None:
    with fresh_engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE events")  # statistics of the empty ledger
        conn.commit()
    ledger = Ledger(fresh_engine, "grown")
    for start in range(0, RECORDS, 1_000):
        batch: list[SourceCaptured | RecordMigrated] = []
        for i in range(start, start + 1_000):
            common = {"object": "contact", "source_id": str(i), "content_hash": f"h{i}"}
            batch.append(SourceCaptured(**common, record={"id": i}, capture="run-1"))
            batch.append(RecordMigrated(**common, intercom_id=f"c{i}", intercom_type="contact"))
        ledger.append(batch)

    assert refresh_statistics(fresh_engine) == []

    assert set(_last_analyze(fresh_engine)) == {"events", "projection_rows"}
    assert all(_last_analyze(fresh_engine).values()), "both tables were analysed"
    assert _indexes(_dependency_read_plan(fresh_engine, "grown")) == {"events_by_object"}
    _assert_settled_ids(ledger)


def test_between_refreshes_a_units_dependency_read_stays_on_the_record_index(
    fresh_engine: Engine,
) -> None:
    """Another migration's events fill most of the ledger (an earlier run, a rolled-back
    generation) and the statistics were taken before this migration settled anything, as
    at the start of a phase: the read still probes the record index once per dependency.
    A join planned on those counts read every settlement of the migration (38 ms a unit)."""
    earlier = Ledger(fresh_engine, "earlier")
    for start in range(0, 4 * RECORDS, 2_000):
        earlier.append(
            [
                WriteIntended(
                    object="ticket",
                    source_id=str(i),
                    operation="create",
                    content_hash=f"h{i}",
                    attempt=1,
                    target={},
                )
                for i in range(start, start + 2_000)
            ]
        )
    ledger = Ledger(fresh_engine, "grown")
    contacts = [
        {"object": "contact", "source_id": str(i), "content_hash": f"h{i}"} for i in range(RECORDS)
    ]
    for start in range(0, RECORDS, 2_000):
        ledger.append(
            [
                SourceCaptured(**c, record={"id": i}, capture="run-1")
                for i, c in enumerate(contacts[start : start + 2_000], start)
            ]
        )
    assert refresh_statistics(fresh_engine) == []  # the phase starts: nothing settled yet
    for start in range(0, RECORDS, 2_000):
        ledger.append(
            [
                RecordMigrated(**c, intercom_id=f"c{c['source_id']}", intercom_type="contact")
                for c in contacts[start : start + 2_000]
            ]
        )

    assert _indexes(_dependency_read_plan(fresh_engine, "grown")) == {"events_by_object"}
    _assert_settled_ids(ledger)


def test_a_table_another_job_holds_is_left_out_and_the_rest_refreshed(
    fresh_engine: Engine,
) -> None:
    before = _last_analyze(fresh_engine)
    with fresh_engine.connect() as vacuum:  # holds what a long VACUUM of the table holds
        vacuum.exec_driver_sql("LOCK TABLE projection_rows IN SHARE UPDATE EXCLUSIVE MODE")
        started = time.monotonic()
        skipped = refresh_statistics(fresh_engine)
        waited = time.monotonic() - started
        vacuum.rollback()

    assert skipped == ["projection_rows"]
    assert waited < 10, f"waited {waited:.1f} s for the lock"
    after = _last_analyze(fresh_engine)
    assert after["events"] is not None and after["events"] != before["events"]
    assert after["projection_rows"] == before["projection_rows"]


def test_a_catch_up_reads_the_rows_it_touched_by_their_keys(fresh_engine: Engine) -> None:
    """A catch-up of 500 records of a 20,000-record migration probes the primary key per
    record: hashing the whole projection (a join's plan) made each catch-up as slow as the
    migration is large."""
    with fresh_engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO projection_rows (projection, migration_id, key, value) "
            "SELECT 'dispositions', 'grown', 'reply:' || i, "
            "jsonb_build_object('object', 'reply', 'state', 'migrated') "
            "FROM generate_series(1, 20000) AS i"
        )
    assert refresh_statistics(fresh_engine) == []
    keys = [f"reply:{i}" for i in range(1, 20_001, 40)]
    params = {"k": keys, "p": "dispositions", "m": "grown"}
    plan = _plan(fresh_engine, ROWS_BY_KEYS, params)
    with fresh_engine.connect() as conn:
        rows: dict[str, Any] = dict(conn.exec_driver_sql(ROWS_BY_KEYS, params).all())

    assert _indexes(plan) == {"projection_rows_pkey"}
    assert "Seq Scan" not in json.dumps(plan)
    assert len(rows) == 500 and rows["reply:41"]["state"] == "migrated"

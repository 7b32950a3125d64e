"""The benchmark's synthetic ledger is a real one: its events decode, its projection table
equals a real rebuild, and its ID map says what a migration of those tickets would."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.engine import Engine

from ledger.dispositions import Dispositions
from ledger.idmap import idmap_rows
from ledger.projections import ProjectionTable
from ledger.store import Ledger
from tests.helpers.benchmarks import load_benchmark

bench = load_benchmark("idmap")


def test_the_synthetic_ledger_is_a_real_one(engine: Engine, migration_id: str) -> None:
    events = bench.build(engine, 30, 3, migration=migration_id)
    bench.build_dispositions(engine, migration=migration_id)
    ledger = Ledger(engine, migration_id)
    assert len(list(ledger.read())) == events  # every row decodes as its event type
    table = ProjectionTable(engine, migration_id, Dispositions())
    built = table.state()
    assert table.catch_up() == 0  # checkpointed at the ledger's end
    table.rebuild()
    assert table.state() == built
    rows = list(idmap_rows(engine, migration_id))
    assert Counter(r.object for r in rows) == {
        "ticket": 30,
        "history": 30,
        "reply": 90,
        "contact": 6,
    }
    assert all(r.state == "migrated" and r.link == "created" for r in rows)
    tickets = [r for r in rows if r.object == "ticket"]
    assert all(
        r.intercom_type == "conversation" and r.tracking_id.startswith("TRK-") for r in tickets
    )
    assert len({r.intercom_id for r in tickets}) == 30

"""Tickets as the target: the whole migration into Intercom tickets, exactly once, silently."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from commands.map import TargetLocked, confirm
from ledger.database import open_engine
from ledger.events import TargetChosen, WriteIntended, WriteSucceeded
from ledger.store import Ledger
from mapping.mapfile import dump_map_yaml, load_map_yaml
from reports.report import build_report
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource
from tests.helpers.migration import migrate, prepare
from tests.helpers.normalise import duplicates


@pytest.fixture(scope="module")
def ticket_run(
    sim: SimulatorHandle,
    chaos_source: HeskSource,
    ledger_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict:
    """One uninterrupted migration of the small help desk into Intercom tickets."""
    tmp = tmp_path_factory.mktemp("tickets")
    settings = prepare(sim, chaos_source, ledger_url, tmp, target="tickets")
    migrate(settings, tmp, workers=2, threads=4)
    engine = open_engine(ledger_url)
    return {
        "settings": settings,
        "report": build_report(engine, settings.migration),
        "dump": sim.dump(),
        "stats": sim.stats(),
        "tmp": tmp,
        "engine": engine,
    }


def test_every_ticket_is_one_intercom_ticket_and_nobody_is_notified(ticket_run: dict) -> None:
    report, dump = ticket_run["report"], ticket_run["dump"]
    for obj, c in report["objects"].items():
        assert c["pending"] == 0, (obj, c)
    migrated = report["objects"]["ticket"]["migrated"]
    assert migrated > 0 and len(dump["tickets"]) == migrated
    assert dump["conversations"] == []
    assert ticket_run["stats"]["notifications_sent"] == 0
    assert duplicates(dump) == {}
    assert len(dump["ticket_types"]) == 1
    markers = Counter(t["ticket_attributes"]["hesk_trackid"] for t in dump["tickets"])
    assert max(markers.values()) == 1


def test_a_ticket_carries_its_attributes_history_state_and_parts(ticket_run: dict) -> None:
    dump = ticket_run["dump"]
    attrs = [t["ticket_attributes"] for t in dump["tickets"]]
    assert all(a.get("_default_description_") for a in attrs)
    assert any(a.get("hesk_history") for a in attrs)
    assert all(isinstance(a["hesk_ticket_id"], int) for a in attrs)
    states = Counter(t["ticket_state"]["category"] for t in dump["tickets"])
    assert states["resolved"] > 0 and len(states) > 1, states
    assert all(t["open"] is (t["ticket_state"]["category"] != "resolved") for t in dump["tickets"])
    kinds = Counter(
        p["part_type"] for t in dump["tickets"] for p in t["ticket_parts"]["ticket_parts"]
    )
    assert kinds["comment"] > 0 and kinds["note"] > 0
    authors = Counter(
        p["author"]["type"] for t in dump["tickets"] for p in t["ticket_parts"]["ticket_parts"]
    )
    assert authors["user"] > 0 and authors["admin"] > 0
    files = [
        a["name"]
        for t in dump["tickets"]
        for p in t["ticket_parts"]["ticket_parts"]
        for a in p["attachments"]
    ]
    assert files


def test_writes_per_ticket_are_create_parts_and_one_state(ticket_run: dict) -> None:
    ledger = Ledger(ticket_run["engine"], ticket_run["settings"].migration)
    ops = Counter()
    for rec in ledger.read(types=[WriteIntended.TYPE]):
        e = rec.event
        if e.object == "ticket":
            ops[e.operation.split(":")[0]] += 1
    # a category the map gives a tag (no team) tags its tickets, one write each
    assert set(ops) <= {"create", "part", "state", "tag"}, ops
    tagged = [t for t in ticket_run["dump"]["tickets"] if t["tags"]]
    assert ops["tag"] == len(tagged)
    assert ops["create"] == ticket_run["report"]["objects"]["ticket"]["migrated"]
    matched = [
        rec.event
        for rec in ledger.read(types=[WriteSucceeded.TYPE])
        if rec.event.object == "workspace"
    ]
    assert matched and all(e.created for e in matched)  # a fresh workspace: all created
    assert ledger.latest(TargetChosen.TYPE).event.target == "tickets"


def test_the_target_cannot_change_without_a_rollback(ticket_run: dict, tmp_path: Path) -> None:
    settings = ticket_run["settings"]
    source = next(ticket_run["tmp"].glob("*.yaml"))
    the_map = load_map_yaml(source.read_text(encoding="utf-8"))
    the_map["target"] = "conversations"
    changed = tmp_path / "conversations.yaml"
    changed.write_text(dump_map_yaml(the_map), encoding="utf-8")
    with pytest.raises(TargetLocked) as err:
        confirm(settings, changed)
    assert err.value.exit_code == 2
    assert "roll it back" in (err.value.hint or "")

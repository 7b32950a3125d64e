"""Tickets as the target after the first run: verify, delta, rollback and a second generation."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from commands.delta import run_delta
from commands.options import MigrateOptions
from commands.rollback import run_rollback
from commands.verify import verify_sample
from engine.resources import Resources
from ledger.events import WriteIntended, WriteSucceeded
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource
from tests.helpers.hesk_writes import HeskWriter
from tests.helpers.migration import migrate, prepare
from tests.helpers.normalise import duplicates

FAST = MigrateOptions(workers=0, stall_seconds=5, max_stalls=3)


def _by_ticket(dump: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {int(t["ticket_attributes"]["hesk_ticket_id"]): t for t in dump["tickets"]}


def _bodies(ticket: dict[str, Any]) -> str:
    return " ".join(str(p.get("body")) for p in ticket["ticket_parts"]["ticket_parts"])


def test_verify_delta_rollback_and_a_new_generation(
    sim: SimulatorHandle, own_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    settings = prepare(sim, own_source, ledger_url, tmp_path, target="tickets")
    migrate(settings, tmp_path, workers=1, threads=4)
    res = Resources.from_settings(settings)
    hesk = HeskWriter(own_source.url)
    try:
        # verify reads the tickets back and finds them as the source says
        checked = verify_sample(res.engine, res.ledger.migration_id, res.client, sample=50)
        assert checked.checked["ticket"] > 5
        assert checked.differences == [], checked.differences[:5]

        # a delta adds a reply and a state change to the ticket, nothing else
        time.sleep(1.1)
        before = _by_ticket(sim.dump())
        open_ids = sorted(t for t, x in before.items() if x["open"])
        replied, to_close = open_ids[0], open_ids[1]
        hesk.add_reply(replied, "Delta reply on a ticket: arrives once")
        hesk.close(to_close)
        result = run_delta(res, FAST)
        assert result.writes == 2, result
        after = _by_ticket(sim.dump())
        assert _bodies(after[replied]).count("Delta reply on a ticket: arrives once") == 1
        assert after[to_close]["open"] is False
        assert after[to_close]["ticket_state"]["category"] == "resolved"
        assert len(after) == len(before) and duplicates(sim.dump()) == {}
        assert sim.stats()["notifications_sent"] == 0

        # rollback deletes the tickets it created; the ticket type stays (never deleted)
        summary = run_rollback(res)
        assert summary.completed and summary.deleted.get("ticket") == len(after)
        dump = sim.dump()
        assert dump["tickets"] == [] and len(dump["ticket_types"]) == 1
    finally:
        hesk.close_connection()
        res.close()

    # the next generation links the type and attributes that exist (created=False)
    migrate(settings, tmp_path, workers=1, threads=4)
    res = Resources.from_settings(settings)
    try:
        setup = [
            r.event
            for r in res.ledger.read(types=[WriteSucceeded.TYPE])
            if r.event.object == "workspace" and r.event.intercom_type.startswith("ticket_type")
        ]
        assert setup and all(e.created is False for e in setup)
        dump = sim.dump()
        assert len(dump["ticket_types"]) == 1 and len(dump["tickets"]) == len(after)
        assert duplicates(dump) == {}
    finally:
        res.close()


def test_a_delta_brings_an_edited_ticket_up_to_date_once_and_verify_agrees(
    sim: SimulatorHandle, own_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    settings = prepare(sim, own_source, ledger_url, tmp_path, target="tickets")
    migrate(settings, tmp_path, workers=1, threads=4)
    res = Resources.from_settings(settings)
    hesk = HeskWriter(own_source.url)
    try:
        the_map = res.confirmed_map() or {}
        teams = {int(c["hesk_id"]): c for c in the_map["categories"] if c.get("team")}
        tagged = next(c for c in the_map["categories"] if not c.get("team"))
        tag_name = str(tagged.get("tag") or f"Hesk: {tagged['hesk_name']}")
        before = _by_ticket(sim.dump())
        # a ticket of the category mapped to a tag carries the tag, as a conversation would
        for t in before.values():
            has_tag = tag_name in [x["name"] for x in t["tags"]]
            assert has_tag is (t["ticket_attributes"].get("hesk_category") == tagged["hesk_name"])

        time.sleep(1.1)
        rows = {
            r["id"]: r
            for r in hesk.query("SELECT id, category, priority FROM hesk_tickets ORDER BY id")
        }
        teamed = [i for i in sorted(before) if rows[i]["category"] in teams]
        renamed, reprioritised, moved, to_tag = teamed[:4]
        hesk.set_subject(renamed, "Renamed during the cutover window")
        hesk.query(
            "UPDATE hesk_tickets SET priority = %s WHERE id = %s",
            (int(rows[reprioritised]["priority"]) + 1) % 4,
            reprioritised,
        )
        other = next(c for c in teams if c != rows[moved]["category"])
        hesk.query("UPDATE hesk_tickets SET category = %s WHERE id = %s", other, moved)
        hesk.query(
            "UPDATE hesk_tickets SET category = %s WHERE id = %s", int(tagged["hesk_id"]), to_tag
        )
        result = run_delta(res, FAST)
        # one update each; the ticket moved to the tag's category also gets the tag
        assert result.writes == 5, result
        after = _by_ticket(sim.dump())
        attrs = {i: after[i]["ticket_attributes"] for i in after}
        assert attrs[renamed]["_default_title_"] == "Renamed during the cutover window"
        assert (
            attrs[reprioritised]["hesk_priority"]
            != before[reprioritised]["ticket_attributes"]["hesk_priority"]
        )
        assert attrs[moved]["hesk_category"] == teams[other]["hesk_name"]
        assert after[moved]["team_assignee_id"] != before[moved]["team_assignee_id"]
        assert attrs[to_tag]["hesk_category"] == tagged["hesk_name"]
        assert tag_name in [x["name"] for x in after[to_tag]["tags"]]
        assert len(after) == len(before) and duplicates(sim.dump()) == {}
        assert sim.stats()["notifications_sent"] == 0
        ops = sorted(
            r.event.operation
            for r in res.ledger.read(types=[WriteIntended.TYPE])
            if r.event.object == "ticket"
            and r.event.source_id in {str(renamed), str(to_tag)}
            and r.event.operation in ("update", "tag")
        )
        assert ops == ["tag", "update", "update"], ops

        checked = verify_sample(res.engine, res.ledger.migration_id, res.client, sample=50)
        assert checked.differences == [], checked.differences[:5]
        # exactly once: the same delta again writes nothing
        assert run_delta(res, FAST).writes == 0
    finally:
        hesk.close_connection()
        res.close()


def test_bad_input_blocks_by_name_or_moves_the_ticket_with_the_value_in_its_history(
    sim: SimulatorHandle, own_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    from commands.preflight import preflight
    from ledger.events import RecordMigrated

    settings = prepare(sim, own_source, ledger_url, tmp_path, target="tickets")
    res = Resources.from_settings(settings)
    hesk = HeskWriter(own_source.url)
    try:
        the_map = res.confirmed_map() or {}
        listed = next(
            f
            for f in the_map["custom_fields"]
            if f.get("data_type") == "list" and f.get("migrate", True)
        )
        column = f"custom{listed['hesk_id']}"
        bad = hesk.query("SELECT MIN(id) AS i FROM hesk_tickets")[0]["i"]
        hesk.query(f"UPDATE hesk_tickets SET {column} = 'Not an item' WHERE id = %s", bad)

        # an attribute of the type that exists with another data type blocks, by name
        with sim.client() as api:
            made = api.post(
                "/ticket_types", json={"name": "Hesk ticket", "category": "Customer"}
            ).json()
            api.post(
                f"/ticket_types/{made['id']}/attributes",
                json={
                    "name": "hesk_priority",
                    "description": "someone else's",
                    "data_type": "string",
                    "required_to_create": False,
                },
            ).raise_for_status()
        found = preflight(settings)
        assert any(
            "'hesk_priority' already exists on 'Hesk ticket' as string, not list" in b
            for b in found.blockers
        ), found.blockers

        # without the clash the ticket moves; the value that does not fit is in its history
        # and on its report line, not in the attribute
        prepare(sim, own_source, ledger_url, tmp_path, target="tickets")
        migrate(settings, tmp_path, workers=1, threads=4)
        ticket = _by_ticket(sim.dump())[bad]
        attrs = ticket["ticket_attributes"]
        assert listed["attribute"] not in attrs
        assert "Not an item" in attrs["hesk_history"]
        assert "did not fit their Intercom attribute" in attrs["hesk_history"]
        notes = [
            r.event.note
            for r in res.ledger.read(types=[RecordMigrated.TYPE])
            if r.event.object == "ticket" and r.event.source_id == str(bad)
        ]
        assert any("Not an item" in n and "kept in the history" in n for n in notes), notes
    finally:
        hesk.close_connection()
        res.close()

"""Delta and cutover after real writes to a real Hesk database, against the simulator."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from commands.cutover import CutoverPending, HeskStillWritten, run_cutover
from commands.delta import NoFullCapture, run_delta
from commands.options import MigrateOptions
from engine.resources import Resources
from ledger.events import SourceCaptured, WriteIntended
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource
from tests.helpers.hesk_writes import HeskWriter
from tests.helpers.migration import migrate, prepare

FAST = MigrateOptions(workers=0, stall_seconds=1.0, max_stalls=3)


def _by_ticket(dump: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {
        int(c["custom_attributes"]["hesk_ticket_id"]): c
        for c in dump["conversations"]
        if (c.get("custom_attributes") or {}).get("hesk_ticket_id") is not None
    }


def _bodies(conv: dict[str, Any]) -> str:
    return " ".join(str(p.get("body")) for p in conv["conversation_parts"]["conversation_parts"])


@pytest.fixture
def migrated(
    sim: SimulatorHandle, own_source: HeskSource, ledger_url: str, tmp_path: Path
) -> dict[str, Any]:
    """The help desk migrated once; a Resources on it and a Hesk writer."""
    settings = prepare(sim, own_source, ledger_url, tmp_path)
    migrate(settings, tmp_path, workers=1, threads=4)
    res = Resources.from_settings(settings)
    writer = HeskWriter(own_source.url)
    time.sleep(1.1)  # lastchange has one-second resolution: writes land after the watermark
    yield {"settings": settings, "res": res, "hesk": writer, "tmp": tmp_path}
    writer.close_connection()
    res.close()


def test_delta_before_any_full_run_is_one_clear_error(
    sim: SimulatorHandle, own_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    settings = prepare(sim, own_source, ledger_url, tmp_path)
    res = Resources.from_settings(settings)
    try:
        with pytest.raises(NoFullCapture) as err:
            run_delta(res, FAST)
    finally:
        res.close()
    assert err.value.exit_code == 2
    assert "migrate" in err.value.hint


def test_delta_moves_what_changed_and_nothing_twice(migrated: dict, sim: SimulatorHandle) -> None:
    res, hesk = migrated["res"], migrated["hesk"]
    before = _by_ticket(sim.dump())
    open_ids = sorted(t for t, c in before.items() if c["state"] != "closed")
    closed_ids = sorted(t for t, c in before.items() if c["state"] == "closed")
    assert len(open_ids) >= 3 and closed_ids
    replied, renamed, to_close, gone = open_ids[:4] if len(open_ids) > 3 else (*open_ids, 0)
    reopened = closed_ids[0]
    hesk.add_reply(replied, "Delta reply: the part arrives once")
    hesk.set_subject(renamed, "Renamed during the cutover window")
    hesk.close(to_close)
    hesk.reopen(reopened)
    new_id = hesk.copy_ticket(replied, "DLT-NEW-0001")
    if gone:
        hesk.delete_ticket(gone)
    article = sim.dump()["articles"][0]
    aid = int(
        hesk.query("SELECT id FROM hesk_kb_articles WHERE subject = %s", article["title"])[0]["id"]
    )
    hesk.retitle_article(aid, "Updated by the delta")

    first = run_delta(res, FAST)
    assert first.captured.get("ticket", 0) >= 4 and first.captured.get("reply") == 1
    assert first.writes > 0
    after = _by_ticket(sim.dump())
    assert "Delta reply: the part arrives once" in _bodies(after[replied])
    assert after[renamed]["title"] == "Renamed during the cutover window"
    assert after[to_close]["state"] == "closed"
    assert after[reopened]["state"] == "open", "|".join(
        str(x)
        for x in [
            (
                r.type,
                getattr(r.event, "operation", ""),
                getattr(r.event, "content_hash", ""),
                getattr(r.event, "reason", ""),
            )
            for r in res.ledger.read(objects=["ticket"], source_id=str(reopened))
        ]
    )
    assert new_id in after and len(after) == len(before) + 1
    assert any(a["title"] == "Updated by the delta" for a in sim.dump()["articles"])
    if gone:
        assert first.deleted["ticket"] == [str(gone)]
        assert gone in after  # reported, not applied

    # the same delta again: nothing captured, nothing written
    seq = res.ledger.last_seq()
    second = run_delta(res, FAST)
    assert second.writes == 0 and not second.captured
    assert not list(res.ledger.read(types=[WriteIntended.TYPE, SourceCaptured.TYPE], after_seq=seq))
    assert _by_ticket(sim.dump()) == after

    # a closed-then-reopened ticket closed again is closed again in Intercom
    time.sleep(1.1)
    hesk.close(reopened)
    run_delta(res, FAST)
    assert _by_ticket(sim.dump())[reopened]["state"] == "closed"

    if gone:  # --apply-deletions deletes the conversation this migration created
        applied = run_delta(res, FAST, apply=True)
        assert applied.deletions_applied == {} or gone not in _by_ticket(sim.dump())


def test_apply_deletions_removes_created_conversation(migrated: dict, sim: SimulatorHandle) -> None:
    res, hesk = migrated["res"], migrated["hesk"]
    before = _by_ticket(sim.dump())
    gone = sorted(before)[0]
    hesk.delete_ticket(gone)
    result = run_delta(res, FAST, apply=True)
    assert result.deleted["ticket"] == [str(gone)]
    assert result.deletions_applied == {"ticket": 1}
    assert gone not in _by_ticket(sim.dump())
    assert len(_by_ticket(sim.dump())) == len(before) - 1


def test_cutover_refuses_while_hesk_is_written_then_completes(
    migrated: dict, sim: SimulatorHandle
) -> None:
    res, hesk = migrated["res"], migrated["hesk"]
    ticket = sorted(_by_ticket(sim.dump()))[0]
    from commands.cutover import hesk_now
    from hesk.reader import HeskReader

    with HeskReader.from_settings(res.settings) as reader:
        frozen = hesk_now(reader)
    hesk.add_reply(ticket, "written after the freeze")
    with pytest.raises(HeskStillWritten) as err:
        run_cutover(res, FAST, frozen_at=frozen)
    assert err.value.exit_code == 3
    assert f"ids {ticket}" in err.value.message and "reply" in err.value.message
    time.sleep(1.1)
    done = run_cutover(res, FAST)
    assert done.delta.writes == 0
    assert all(c["pending"] == 0 for c in done.report["objects"].values())


def test_cutover_with_pending_work_refuses(migrated: dict) -> None:
    res = migrated["res"]
    res.ledger.append_one(
        SourceCaptured(
            object="ticket", source_id="999999", content_hash="x" * 16, record={}, capture="test"
        )
    )
    with pytest.raises(CutoverPending) as err:
        run_cutover(res, FAST)
    assert err.value.exit_code == 4

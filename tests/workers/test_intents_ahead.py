"""A ticket's thread is intended ahead: the intents of its next writes go in one statement.

After the create, the intents of the writes into the new object (replies, notes, the
state and the assignment) are recorded together with the outcomes before them, then
their calls are made one by one: each call still follows its own durable intent, and no
call leaves later than ``AHEAD_SECONDS`` after it. A call held longer (by the pacers, or
a 429's wait) is not sent on that intent, which is settled as not made; the write goes
again as its next attempt. A unit that stops in the middle records the intents it never
handed to the client as not made, so its next run looks nothing up for them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import engine.protocol
from engine.protocol import AHEAD_MAX
from engine.resources import Resources
from engine.units import process_unit
from ledger.events import WriteIntended, WriteResolved, WriteSucceeded
from ledger.run_report import runs, timeline
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource
from tests.helpers.migration import migrate, prepare
from tests.helpers.normalise import duplicates, normalise

TXIDS = """
SELECT source_id, count(*), count(DISTINCT txid) FROM events
WHERE migration_id = %(m)s AND object = 'ticket' AND type = 'WriteIntended'
GROUP BY source_id
"""


@dataclass
class Ready:
    """A migration whose set-up and contacts are written, its tickets not yet."""

    settings: Any
    res: Resources
    keys: list[str]  # the tickets' capture keys
    sim: SimulatorHandle
    baseline: dict
    tmp: Path

    def ends_like_the_clean_run(self) -> None:
        """``migrate`` writes the rest: no duplicate, and the clean run's workspace."""
        migrate(self.settings, self.tmp, workers=1, threads=2)
        dump = self.sim.dump()
        assert duplicates(dump) == {}
        assert normalise(dump) == self.baseline["normal"]


@pytest.fixture
def ready(
    sim: SimulatorHandle,
    ticket_chaos_source: HeskSource,
    ticket_baseline: dict,
    ledger_url: str,
    tmp_path: Path,
) -> Iterator[Ready]:
    """The set-up and the contacts written by the workers; the tickets left to the test."""
    settings = prepare(sim, ticket_chaos_source, ledger_url, tmp_path, "tickets")
    migrate(settings, tmp_path, workers=1, threads=2, only="contact")
    res = Resources.from_settings(settings, threads=2)
    keys = [rec.event.key for rec in res.ledger.read(types=["SourceCaptured"], objects=["ticket"])]
    assert keys
    yield Ready(settings, res, keys, sim, ticket_baseline, tmp_path)
    res.close()


def _ticket_events(res: Resources) -> list[Any]:
    return [rec.event for rec in res.ledger.read(objects=["ticket"])]


def _settled_as_not_sent(events: list[Any], why: str) -> list[WriteResolved]:
    """The settlements among ``events``: there are some, and each says ``not sent: why``."""
    not_sent = [e for e in events if isinstance(e, WriteResolved)]
    assert not_sent
    assert all(not e.found and e.detail["proof"] == f"not sent: {why}" for e in not_sent)
    return not_sent


def _timeline_sums(res: Resources) -> tuple[int, int]:
    """Calls and re-attempts of the run's timeline in the report, summed."""
    ledger_id = res.ledger.migration_id
    points = timeline(res.engine, ledger_id, runs(res.engine, ledger_id)[-1])["points"]
    return sum(p["calls"] for p in points), sum(p["reattempts"] for p in points)


def _lookups(sim: SimulatorHandle) -> int:
    """Reads of a ticket back (how a ticket part's in-doubt write is looked up)."""
    return sum((sim.stats()["requests"].get("GET /tickets/{id}") or {}).values())


def test_each_call_follows_its_durable_intent_and_a_thread_takes_few_statements(
    ready: Ready, monkeypatch: pytest.MonkeyPatch
) -> None:
    res, keys = ready.res, ready.keys
    checker = Resources.from_settings(ready.settings, threads=1)  # another session's view
    real_call = engine.protocol._call
    sent: list[str] = []

    def call_after_commit(run: Any, step: Any, intent_key: str, *args: Any, **kw: Any) -> Any:
        # committed: visible from another connection before any byte is sent
        assert checker.ledger.get(intent_key) is not None, f"{intent_key} not durable"
        sent.append(intent_key)
        return real_call(run, step, intent_key, *args, **kw)

    monkeypatch.setattr(engine.protocol, "_call", call_after_commit)
    try:
        for key in keys:
            process_unit(res, key)
    finally:
        checker.close()
    assert len(sent) == len(set(sent)) > len(keys)

    with res.engine.connect() as conn:
        rows = conn.exec_driver_sql(TXIDS, {"m": res.ledger.migration_id}).all()
    threads = [(n, tx) for _sid, n, tx in rows if n >= 3]
    assert threads, "the help desk has tickets with replies"
    for writes, statements in threads:
        # the create's intent alone, then the rest AHEAD_MAX at a time
        assert statements == 1 + -(-(writes - 1) // AHEAD_MAX)
    events = _ticket_events(res)
    assert not [e for e in events if isinstance(e, WriteResolved)]  # nothing in doubt
    ready.ends_like_the_clean_run()


def test_a_call_held_past_its_time_is_not_sent_and_goes_as_its_next_attempt(
    ready: Ready, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if the pacers held every call intended ahead past its time: none is sent on
    that intent, each is settled as not made and sent once as attempt 2."""
    res, keys, sim = ready.res, ready.keys, ready.sim
    monkeypatch.setattr(engine.protocol, "AHEAD_SECONDS", -1.0)
    before_sums = _timeline_sums(res)
    before = sim.stats()["requests_total"]
    for key in keys:
        process_unit(res, key)
    calls = sim.stats()["requests_total"] - before

    events = _ticket_events(res)
    not_sent = _settled_as_not_sent(events, "its time to be sent ran out")
    intents = {e.key: e for e in events if isinstance(e, WriteIntended)}
    succeeded = [e for e in events if isinstance(e, WriteSucceeded)]
    assert calls == len(succeeded)  # no call on an expired intent, no lookup
    retried = {(e.source_id, intents[e.intent_key].operation) for e in not_sent}
    again = Counter(
        (e.source_id, intents[e.intent_key].operation)
        for e in succeeded
        if intents[e.intent_key].attempt == 2
    )
    assert set(again) == retried and set(again.values()) == {1}
    # the report's timeline counts the calls made, not the intents that were never sent
    assert _timeline_sums(res) == (before_sums[0] + calls, before_sums[1])
    ready.ends_like_the_clean_run()


def test_a_unit_stopped_mid_thread_settles_what_it_never_sent(
    ready: Ready, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A unit that raises right after the first call of its batch keeps that call's
    outcome and settles the rest of the batch as not made: nothing is left in doubt, and
    run again it looks nothing up."""
    res, keys, sim = ready.res, ready.keys, ready.sim
    real_call = engine.protocol._call

    def stop_after_first(run: Any, step: Any, intent_key: str, *args: Any, **kw: Any) -> Any:
        outcome = real_call(run, step, intent_key, *args, **kw)
        if kw.get("send_by") is not None:  # a call intended ahead
            raise RuntimeError("the worker stops here")
        return outcome

    monkeypatch.setattr(engine.protocol, "_call", stop_after_first)
    stopped: list[str] = []
    for key in keys:
        try:
            process_unit(res, key)
        except RuntimeError:
            stopped.append(key)
    assert stopped, "some ticket has a batch of two or more writes"
    events = _ticket_events(res)
    _settled_as_not_sent(events, "its unit stopped first")
    outcomes = {e.intent_key for e in events if isinstance(e, WriteSucceeded | WriteResolved)}
    assert [e for e in events if isinstance(e, WriteIntended) and e.key not in outcomes] == []

    monkeypatch.setattr(engine.protocol, "_call", real_call)
    lookups = _lookups(sim)
    for key in stopped:
        process_unit(res, key)
    assert _lookups(sim) == lookups  # nothing was in doubt
    ready.ends_like_the_clean_run()

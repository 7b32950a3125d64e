"""The protocol floor of ``benchmarks/migrate.py`` makes real writes of both shapes: an
intent and an outcome in the ledger for each call the simulator answered, contacts or
conversations with their replies."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.engine import Engine

from simulator.testing import SimulatorHandle
from tests.helpers.benchmarks import load_benchmark
from tests.helpers.simulator import TOKEN

floor = load_benchmark("protocol_floor")

COUNTS = (
    "SELECT count(*) FILTER (WHERE type = 'WriteIntended'), "
    "count(*) FILTER (WHERE type = 'WriteSucceeded') FROM events WHERE migration_id = %(m)s"
)


@pytest.mark.parametrize("shape", floor.SHAPES)
def test_each_write_of_the_floor_is_an_answered_call_between_intent_and_outcome(
    shape: str, sim: SimulatorHandle, engine: Engine, ledger_url: str
) -> None:
    sim.reset()
    migration = f"floor-{uuid.uuid4().hex[:8]}"
    result = floor.run_floor(
        sim.base_url,
        TOKEN,
        ledger_url,
        processes=1,
        threads=2,
        seconds=1.0,
        migration=migration,
        shape=shape,
    )
    assert result.writes > 2 * (floor.REPLIES + 1)  # both threads wrote a whole cycle or more
    with engine.connect() as conn:
        intended, succeeded = conn.exec_driver_sql(COUNTS, {"m": migration}).one()
    assert intended == succeeded == result.writes
    dump = sim.dump()
    if shape == "contacts":
        assert len(dump["contacts"]) == result.writes
        assert dump["conversations"] == []
        return
    assert len(dump["contacts"]) == 2  # one author per thread, made before the writes
    conversations = dump["conversations"]
    replies = [
        part
        for conv in conversations
        for part in conv["conversation_parts"]["conversation_parts"]
        if part["author"]["type"] == "admin"
    ]
    assert len(conversations) + len(replies) == result.writes
    assert all(
        len(conv["conversation_parts"]["conversation_parts"]) <= floor.REPLIES
        for conv in conversations
    )
    assert {part["body"] for part in replies} == {f"<p>{floor.REPLY_TEXT}</p>"}

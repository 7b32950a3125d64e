"""Redis or PostgreSQL restarted in the middle of the write phase: the run still ends in the
same workspace as a clean one, with nothing twice, nothing missing and every intent settled.

The migration under test runs on a private PostgreSQL (its ledger) and a private Redis (its
broker), started for each test by :mod:`tests.helpers.private_services` on free ports; only those
are stopped and started again, never the machine's shared servers. Redis here keeps nothing
on disk, so its restart loses every queued message, the delayed retries and the shared rate
limiter's keys. A PostgreSQL restart (a fast shutdown) kills every connection: the
workers', the coordinator's and this test process's own.
"""

from __future__ import annotations

import io
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from rich.console import Console

from commands.migrate import run_migration
from commands.options import MigrateOptions
from core.settings import Settings
from ledger.database import open_engine
from reports.report import STATES, build_report
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource
from tests.helpers.ledger import unsettled_intents
from tests.helpers.migration import prepare
from tests.helpers.normalise import duplicates, normalise
from tests.helpers.private_services import (
    PrivatePostgres,
    PrivateRedis,
    private_postgres,
    private_redis,
)
from workers.broker import QUEUE, namespace

#: How long a service stays down: long enough for every worker and the coordinator to hit it.
DOWN_SECONDS = 3.0


@pytest.fixture
def own_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of this test's own, to be the ledger and to be restarted."""
    with private_postgres() as pg:
        yield pg


@pytest.fixture
def own_redis() -> Iterator[PrivateRedis]:
    """A Redis server of this test's own, to be the broker and to be restarted."""
    with private_redis() as rd:
        yield rd


def _shared_servers() -> tuple[str, str]:
    """When the machine's shared PostgreSQL started and which Redis server runs: both must
    be the same after a test that restarted its private ones."""
    from tests.helpers.ledger import PG_ADMIN_URL

    engine = sa.create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as conn:
            started = conn.execute(sa.text("SELECT pg_postmaster_start_time()::text")).scalar()
    finally:
        engine.dispose()
    return str(started), redis.Redis(port=6379).info("server")["run_id"]


@pytest.fixture(autouse=True)
def shared_servers_untouched() -> Iterator[None]:
    """The machine's shared servers run on, unrestarted, whatever the test did."""
    before = _shared_servers()
    yield
    assert _shared_servers() == before


def _prepare_private(
    sim: SimulatorHandle,
    source: HeskSource,
    pg: PrivatePostgres,
    rd: PrivateRedis,
    tmp: Path,
) -> tuple[Settings, str]:
    """A migration ready to run with its ledger and broker on the private servers."""
    ledger_url = pg.url("h2i_restart_ledger")
    settings = prepare(sim, source, ledger_url, tmp)
    # intercom_timeout: a write whose lock died with PostgreSQL is looked up again 8 + 5 s on
    return settings.model_copy(update={"redis_url": rd.url, "intercom_timeout": 8.0}), ledger_url


def _scalar(ledger_url: str, sql: str, **params: Any) -> Any:
    """One value from the ledger database, on a fresh engine (old connections may be dead)."""
    engine = open_engine(ledger_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()
    finally:
        engine.dispose()


def _succeeded(ledger_url: str, migration: str) -> int:
    return int(
        _scalar(
            ledger_url,
            "SELECT count(*) FROM events WHERE migration_id = :m AND type = 'WriteSucceeded'",
            m=migration,
        )
    )


def _tickets_written(ledger_url: str, migration: str) -> int:
    return int(
        _scalar(
            ledger_url,
            "SELECT count(*) FROM events WHERE migration_id = :m AND type = 'WriteSucceeded' "
            "AND object = 'ticket'",
            m=migration,
        )
    )


def _migrate_through(
    sim: SimulatorHandle,
    settings: Settings,
    ledger_url: str,
    logs: Path,
    restart: Callable[[], None],
) -> dict[str, Any]:
    """Run ``migrate`` (two real worker processes) and call ``restart`` once tickets are
    being written; returns what happened around the restart.

    Each answer is held 100 ms: the small help desk's tickets are otherwise written in well
    under a second, and the restart must land while they are.
    """
    done: dict[str, Any] = {}

    def coordinate() -> None:
        try:
            done["summary"] = run_migration(
                settings,
                MigrateOptions(workers=2, threads=4, stall_seconds=4, max_stalls=30, log_dir=logs),
                Console(file=io.StringIO()),
            )
        except BaseException as err:  # noqa: BLE001 - reported by the caller
            done["error"] = "".join(traceback.format_exception(err))

    coordinator = threading.Thread(target=coordinate)
    sim.set_faults(latency_ms=100)
    coordinator.start()
    try:
        deadline = time.monotonic() + 90
        while coordinator.is_alive() and _tickets_written(ledger_url, settings.migration) < 3:
            assert time.monotonic() < deadline, "the ticket phase never started"
            time.sleep(0.2)
        assert coordinator.is_alive(), f"the run ended before the restart: {done}"
        done["succeeded_before"] = _succeeded(ledger_url, settings.migration)
        restart()
        done["alive_after_restart"] = coordinator.is_alive()
    finally:
        coordinator.join(timeout=300)
        sim.set_faults()
    assert not coordinator.is_alive(), "the run did not finish after the restart"
    return done


def _assert_same_as_clean_run(
    done: dict[str, Any],
    baseline: dict,
    sim: SimulatorHandle,
    settings: Settings,
    ledger_url: str,
) -> None:
    assert "error" not in done, done.get("error")
    assert done["alive_after_restart"], "the run was over before the service came back"
    # writes really were left to do when the service went away
    assert _succeeded(ledger_url, settings.migration) > done["succeeded_before"]
    dump = sim.dump()
    assert duplicates(dump) == {}
    assert normalise(dump) == baseline["normal"]
    engine = open_engine(ledger_url)
    try:
        report = build_report(engine, settings.migration)
    finally:
        engine.dispose()
    for obj, c in report["objects"].items():
        assert c["pending"] == 0, (obj, c)
        assert c["source"] == sum(c[s] for s in STATES), (obj, c)
    assert report["objects"] == baseline["objects"]
    assert unsettled_intents(ledger_url, settings.migration) == []  # the protocol held


def test_redis_restarted_mid_run_loses_nothing_and_duplicates_nothing(
    baseline: dict,
    sim: SimulatorHandle,
    chaos_source: HeskSource,
    own_postgres: PrivatePostgres,
    own_redis: PrivateRedis,
    tmp_path: Path,
) -> None:
    """Redis loses every queued and delayed message and the limiter's window; the
    coordinator sends the stalled units again and the run finishes by itself."""
    settings, ledger_url = _prepare_private(sim, chaos_source, own_postgres, own_redis, tmp_path)
    client = redis.Redis.from_url(settings.redis_url)
    run_id_before = client.info("server")["run_id"]
    messages = f"{namespace(settings.migration)}:{QUEUE}.msgs"  # Dramatiq's message hash
    lost: list[int] = []

    def restart() -> None:
        lost.append(int(client.hlen(messages)))  # queued or unacknowledged: all lost
        own_redis.restart(down_seconds=DOWN_SECONDS)

    done = _migrate_through(sim, settings, ledger_url, tmp_path / "logs", restart)
    assert client.info("server")["run_id"] != run_id_before  # a new Redis server
    assert lost[0] > 0, "no message was waiting in Redis when it restarted"
    _assert_same_as_clean_run(done, baseline, sim, settings, ledger_url)


def test_postgres_restarted_mid_run_loses_nothing_and_settles_every_intent(
    baseline: dict,
    sim: SimulatorHandle,
    chaos_source: HeskSource,
    own_postgres: PrivatePostgres,
    own_redis: PrivateRedis,
    tmp_path: Path,
) -> None:
    """Every connection dies (the unit locks with them); the workers retry, the coordinator
    waits for the ledger, and every WriteIntended ends with an outcome."""
    settings, ledger_url = _prepare_private(sim, chaos_source, own_postgres, own_redis, tmp_path)
    started = "SELECT pg_postmaster_start_time()::text"
    before = _scalar(ledger_url, started)

    def restart() -> None:
        own_postgres.restart(down_seconds=DOWN_SECONDS)

    done = _migrate_through(sim, settings, ledger_url, tmp_path / "logs", restart)
    assert _scalar(ledger_url, started) != before  # a new PostgreSQL server
    _assert_same_as_clean_run(done, baseline, sim, settings, ledger_url)

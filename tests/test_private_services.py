"""The private servers of :mod:`tests.helpers.private_services` start, stop, die and come back on
their own ports, and the machine's shared servers never notice."""

from __future__ import annotations

import redis
import sqlalchemy as sa

from tests.helpers.ledger import PG_ADMIN_URL
from tests.helpers.private_services import private_postgres, private_redis


def _started(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SELECT pg_postmaster_start_time()")).scalar())
    finally:
        engine.dispose()


def test_private_postgres_restarts_alone() -> None:
    shared_before = _started(PG_ADMIN_URL)
    with private_postgres() as pg:
        assert pg.port != 5432 and pg.running
        engine = sa.create_engine(pg.url())
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE kept (n int)"))
            conn.execute(sa.text("INSERT INTO kept VALUES (1)"))
        engine.dispose()
        seen = {_started(pg.url())}
        for mode in ("fast", "immediate", "kill"):
            pg.restart(mode=mode)
            seen.add(_started(pg.url()))
        assert len(seen) == 4  # four distinct server lives
        engine = sa.create_engine(pg.url())
        with engine.connect() as conn:  # committed data survives even SIGKILL
            assert conn.execute(sa.text("SELECT n FROM kept")).scalar() == 1
        engine.dispose()
        root = pg.root
    assert not root.exists() and not pg.running
    assert _started(PG_ADMIN_URL) == shared_before


def test_private_redis_restarts_alone() -> None:
    shared = redis.Redis(port=6379)
    shared_run = shared.info("server")["run_id"]
    with private_redis() as rd:
        client = redis.Redis.from_url(rd.url)
        client.set("k", "v")
        first = client.info("server")["run_id"]
        rd.restart(kill=True)
        assert client.get("k") is None  # nothing kept on disk: everything is lost
        assert client.info("server")["run_id"] != first
        root = rd.root
    assert not root.exists() and not rd.running
    assert shared.info("server")["run_id"] == shared_run

"""A customer renamed in Hesk updates its Intercom contact on the next run: never a second one."""

from __future__ import annotations

from pathlib import Path

import pymysql
import pytest

from hesk.demo_data import DirtyKnobs, generate
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource
from tests.helpers.migration import migrate, prepare


@pytest.fixture
def small_source(tmp_path: Path) -> HeskSource:
    name = f"h2i_contact_upd_{tmp_path.name[-12:]}".replace("-", "_")
    url = f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    generate(url, tmp_path / "att", tickets=8, seed=31, dirty=DirtyKnobs.clean())
    yield HeskSource(url, tmp_path / "att", 8)
    conn = pymysql.connect(host="127.0.0.1", user="root")
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def test_a_renamed_customer_updates_the_same_contact(
    sim: SimulatorHandle, small_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    settings = prepare(sim, small_source, ledger_url, tmp_path)
    migrate(settings, tmp_path, workers=1, threads=4)
    before = sim.dump()["contacts"]
    database = small_source.url.rsplit("/", 1)[1]
    conn = pymysql.connect(host="127.0.0.1", user="root", database=database, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("SELECT id, email FROM hesk_customers WHERE email <> '' ORDER BY id LIMIT 1")
        customer_id, email = cur.fetchone()
        cur.execute(
            "UPDATE hesk_customers SET name = 'Renamed In Hesk' WHERE id = %s", (customer_id,)
        )
        cur.execute(
            "UPDATE hesk_tickets SET u_name = 'Renamed In Hesk' WHERE u_email = %s", (email,)
        )
    conn.close()
    migrate(settings, tmp_path, workers=1, threads=4)  # a full re-capture finds the change
    after = sim.dump()["contacts"]
    assert len(after) == len(before)
    renamed = [c for c in after if str(c.get("email")).casefold() == email.casefold()]
    assert [c["name"] for c in renamed] == ["Renamed In Hesk"]


def _rename_first_customer(source: HeskSource, name: str) -> str:
    database = source.url.rsplit("/", 1)[1]
    conn = pymysql.connect(host="127.0.0.1", user="root", database=database, autocommit=True)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id, email FROM hesk_customers WHERE email <> '' ORDER BY id DESC LIMIT 1"
        )
        customer_id, email = cur.fetchone()
        cur.execute("UPDATE hesk_customers SET name = %s WHERE id = %s", (name, customer_id))
    conn.close()
    return str(email)


def test_delta_with_customers_finds_an_edited_customer(
    sim: SimulatorHandle, small_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    from commands.delta import run_delta
    from commands.options import MigrateOptions
    from commands.worker_pool import unit_runner
    from engine.resources import Resources

    settings = prepare(sim, small_source, ledger_url, tmp_path)
    migrate(settings, tmp_path, workers=1, threads=4)
    email = _rename_first_customer(small_source, "Edited Between Runs")

    def names() -> list[str]:
        return [
            c["name"]
            for c in sim.dump()["contacts"]
            if str(c.get("email")).casefold() == email.casefold()
        ]

    res = Resources.from_settings(settings)
    opts = MigrateOptions(workers=0)
    try:
        with unit_runner(res, opts) as send:
            run_delta(res, opts, send=send)  # cheap delta: customers have no edit time
        assert names() != ["Edited Between Runs"]
        with unit_runner(res, opts) as send:
            run_delta(res, opts, send=send, customers=True)
    finally:
        res.close()
    assert names() == ["Edited Between Runs"]

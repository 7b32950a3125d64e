"""A customer renamed in Hesk updates its Intercom contact on the next run: never a second one."""

from __future__ import annotations

from pathlib import Path

import pymysql
import pytest

from hesk.demo_data import DirtyKnobs, generate
from simulator.testing import SimulatorHandle
from tests.workers.conftest import HeskSource, migrate, prepare


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
    simulator: SimulatorHandle, small_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    settings = prepare(simulator, small_source, ledger_url, tmp_path)
    migrate(settings, tmp_path, workers=1, threads=4)
    before = simulator.dump()["contacts"]
    database = small_source.url.rsplit("/", 1)[1]
    conn = pymysql.connect(host="127.0.0.1", user="root", database=database, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("SELECT id, email FROM hesk_customers WHERE email <> '' ORDER BY id LIMIT 1")
        customer_id, email = cur.fetchone()
        cur.execute("UPDATE hesk_customers SET name = 'Renamed In Hesk' WHERE id = %s",
                    (customer_id,))
        cur.execute("UPDATE hesk_tickets SET u_name = 'Renamed In Hesk' WHERE u_email = %s",
                    (email,))
    conn.close()
    migrate(settings, tmp_path, workers=1, threads=4)  # a full re-capture finds the change
    after = simulator.dump()["contacts"]
    assert len(after) == len(before)
    renamed = [c for c in after if str(c.get("email")).casefold() == email.casefold()]
    assert [c["name"] for c in renamed] == ["Renamed In Hesk"]

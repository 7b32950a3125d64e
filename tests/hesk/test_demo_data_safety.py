"""The demo generator drops and remakes only databases it made: a database that may be a
real help desk is never touched, whatever URL it is given."""

from __future__ import annotations

import os
from pathlib import Path

import pymysql
import pytest

from hesk.demo_claim import MARKER_TABLE, NotOurs
from hesk.demo_data import generate

SERVER = "mysql+pymysql://root@127.0.0.1:3306"


def _sql(*statements: str) -> list[tuple]:
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)
    rows: list[tuple] = []
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
            rows = list(cur.fetchall())
    conn.close()
    return rows


def test_a_database_it_did_not_make_is_left_alone(tmp_path: Path) -> None:
    name = f"helpdesk_not_ours_{os.getpid()}"  # no h2i_ prefix, no marker: maybe real
    _sql(
        f"CREATE DATABASE `{name}`",
        f"CREATE TABLE `{name}`.hesk_tickets (id int)",
        f"INSERT INTO `{name}`.hesk_tickets VALUES (42)",
    )
    try:
        with pytest.raises(NotOurs, match="did not"):
            generate(f"{SERVER}/{name}", tmp_path / "att", tickets=3, seed=1)
        assert _sql(f"SELECT id FROM `{name}`.hesk_tickets") == [(42,)]
        assert not (tmp_path / "att").exists()
    finally:
        _sql(f"DROP DATABASE IF EXISTS `{name}`")


def test_an_empty_or_generated_database_is_remade(tmp_path: Path) -> None:
    name = f"demo_remade_{os.getpid()}"
    _sql(f"CREATE DATABASE `{name}`")
    try:
        generate(f"{SERVER}/{name}", tmp_path / "att", tickets=3, seed=1)  # empty: made
        assert _sql(f"SELECT count(*) FROM `{name}`.`{MARKER_TABLE}`") == [(1,)]
        summary = generate(f"{SERVER}/{name}", tmp_path / "att", tickets=4, seed=1)  # ours
        assert summary.tickets == 4
    finally:
        _sql(f"DROP DATABASE IF EXISTS `{name}`")

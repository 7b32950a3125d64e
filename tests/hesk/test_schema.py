"""The packaged schema is Hesk's real one, and the demo database is built from it."""

from __future__ import annotations

import hashlib

import pymysql

from hesk.demo_claim import MARKER_TABLE
from hesk.schema import schema_sql, split_statements, table_names

#: sha256 of Hesk 3.7.11's schema.sql as extracted from the installer (see its header).
ORIGINAL_SHA256 = "94476525afc31b7827ba58e9207c22386332c403f3d4018eedc5c4b0a746fdc7"


def test_packaged_schema_is_the_original() -> None:
    assert hashlib.sha256(schema_sql().encode("utf-8")).hexdigest() == ORIGINAL_SHA256


def test_schema_has_44_tables_and_splits_cleanly() -> None:
    names = table_names()
    assert len(names) == 44 and "hesk_tickets" in names
    assert all(not s.startswith("--") for s in split_statements(schema_sql()))


def test_demo_database_has_every_table(demo) -> None:
    conn = pymysql.connect(host="127.0.0.1", user="root", password="",
                           database=demo.url.rsplit("/", 1)[1])
    with conn.cursor() as cur:
        cur.execute("SHOW TABLES")
        tables = {r[0] for r in cur.fetchall()}
        cur.execute("SHOW COLUMNS FROM hesk_tickets")
        columns = [r[0] for r in cur.fetchall()]
    conn.close()
    assert tables == set(table_names()) | {MARKER_TABLE}  # + the demo's ownership marker
    assert columns[:3] == ["id", "trackid", "u_name"] and "custom100" in columns

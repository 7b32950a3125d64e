"""The packaged schema is Hesk's real one, and the demo database is built from it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pymysql

from hesk.demo_claim import MARKER_TABLE
from hesk.schema import schema_sql, split_statements, table_names

RECORD = Path(__file__).resolve().parents[2] / "vendor" / "vendored.json"


def test_packaged_schema_is_the_original() -> None:
    """The schema the package loads hashes to the recorded original's sha256."""
    entry = next(
        e
        for e in json.loads(RECORD.read_text(encoding="utf-8"))["files"]
        if e["path"] == "hesk/schema.sql"
    )
    packaged = hashlib.sha256(schema_sql().encode("utf-8")).hexdigest()
    assert packaged == entry["original_sha256"]


def test_schema_has_44_tables_and_splits_cleanly() -> None:
    names = table_names()
    assert len(names) == 44 and "hesk_tickets" in names
    assert all(not s.startswith("--") for s in split_statements(schema_sql()))


def test_demo_database_has_every_table(demo) -> None:
    conn = pymysql.connect(
        host="127.0.0.1", user="root", password="", database=demo.url.rsplit("/", 1)[1]
    )
    with conn.cursor() as cur:
        cur.execute("SHOW TABLES")
        tables = {r[0] for r in cur.fetchall()}
        cur.execute("SHOW COLUMNS FROM hesk_tickets")
        columns = [r[0] for r in cur.fetchall()]
    conn.close()
    assert tables == {*table_names(), MARKER_TABLE}
    assert columns[:3] == ["id", "trackid", "u_name"] and "custom100" in columns

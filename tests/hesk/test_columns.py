"""The columns the reader needs: a missing one is a clear error, a bad prefix exit 2.

Each case builds Hesk 3.7.11's real schema (no rows) in its own MariaDB database, then
alters it the way an odd or half-upgraded help desk would look.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from core.errors import ConfigError
from hesk.columns import LAYOUT_COLUMNS, TABLES, check_table_prefix
from hesk.errors import HeskSchemaError
from hesk.reader import HeskReader
from hesk.schema import schema_sql, schema_statements

SERVER = "mysql+pymysql://root@127.0.0.1:3306"
BIN = Path(sys.executable).with_name("hesk2intercom")


@pytest.fixture
def empty_hesk() -> Iterator[tuple[str, pymysql.cursors.Cursor]]:
    """A fresh database holding Hesk's schema: (URL, a cursor to alter it)."""
    name = f"h2i_test_cols_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)
    cur = conn.cursor()
    cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8")
    cur.execute(f"USE `{name}`")
    for stmt in schema_statements():
        cur.execute(stmt)
    try:
        yield f"{SERVER}/{name}", cur
    finally:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


def test_the_complete_schema_opens_with_customer_accounts(empty_hesk) -> None:
    url, _ = empty_hesk
    with HeskReader(url) as reader:
        assert reader.layout.customer_accounts
        assert reader.layout.snapshot_columns == ("u_name", "u_email")


def test_a_missing_column_names_the_table_and_the_column(empty_hesk) -> None:
    url, cur = empty_hesk
    cur.execute("ALTER TABLE hesk_replies DROP COLUMN staffid")
    with pytest.raises(HeskSchemaError) as err:
        HeskReader(url)
    assert err.value.message == (
        "the Hesk table hesk_replies has no column staffid, which the reader needs"
    )
    assert "update.php" in err.value.hint and err.value.exit_code == 2


def test_several_missing_columns_are_listed_in_one_line(empty_hesk) -> None:
    url, cur = empty_hesk
    cur.execute("ALTER TABLE hesk_tickets DROP COLUMN owner")
    cur.execute("ALTER TABLE hesk_notes DROP COLUMN who")
    with pytest.raises(HeskSchemaError) as err:
        HeskReader(url)
    assert "hesk_tickets.owner" in err.value.message
    assert "hesk_notes.who" in err.value.message and "\n" not in str(err.value)


def test_customer_tables_without_the_35_columns_is_not_read_as_older_hesk(empty_hesk) -> None:
    # Customer tables say 3.5+, so u_name/u_email must be there: never fall back to
    # name/email silently.
    url, cur = empty_hesk
    cur.execute(
        "ALTER TABLE hesk_tickets CHANGE u_name name varchar(255) NOT NULL DEFAULT '',"
        " CHANGE u_email email varchar(1000) NOT NULL DEFAULT ''"
    )
    with pytest.raises(HeskSchemaError) as err:
        HeskReader(url)
    assert "hesk_tickets.u_name" in err.value.message
    assert "hesk_tickets.u_email" in err.value.message
    assert "3.5" in err.value.hint


def test_half_of_the_customer_tables_is_an_unfinished_upgrade(empty_hesk) -> None:
    url, cur = empty_hesk
    cur.execute("DROP TABLE hesk_ticket_to_customer")
    with pytest.raises(HeskSchemaError, match="hesk_customers but no hesk_ticket_to_customer"):
        HeskReader(url)


def test_pre_35_without_the_reply_author_column_is_an_error(empty_hesk) -> None:
    url, cur = empty_hesk
    cur.execute("DROP TABLE hesk_customers, hesk_ticket_to_customer")
    cur.execute(
        "ALTER TABLE hesk_tickets CHANGE u_name name varchar(255) NOT NULL DEFAULT '',"
        " CHANGE u_email email varchar(1000) NOT NULL DEFAULT ''"
    )
    cur.execute("ALTER TABLE hesk_replies DROP COLUMN customer_id")
    with pytest.raises(HeskSchemaError, match="hesk_replies has no column name"):
        HeskReader(url)
    cur.execute("ALTER TABLE hesk_replies ADD name varchar(255) NOT NULL DEFAULT ''")
    with HeskReader(url) as reader:
        assert not reader.layout.customer_accounts
        assert reader.layout.snapshot_columns == ("name", "email")


def test_columns_added_by_later_hesk_versions_may_be_absent(empty_hesk) -> None:
    url, cur = empty_hesk
    cur.execute("ALTER TABLE hesk_users DROP COLUMN nickname, DROP COLUMN active")
    cur.execute("ALTER TABLE hesk_replies DROP COLUMN message_html")
    with HeskReader(url) as reader:
        assert not reader.layout.has("users", "active")
        [admin] = reader.iter_records("staff")  # the installer's administrator
        assert admin.active and admin.nickname == ""


def test_a_missing_optional_table_is_checked_only_when_present(empty_hesk) -> None:
    url, cur = empty_hesk
    cur.execute("DROP TABLE hesk_kb_articles")
    with HeskReader(url) as reader:
        assert list(reader.iter_records("kb_article")) == []
    cur.execute("ALTER TABLE hesk_kb_categories DROP COLUMN parent")
    with pytest.raises(HeskSchemaError, match="hesk_kb_categories has no column parent"):
        HeskReader(url)


def test_every_column_the_reader_reads_exists_in_hesk_3_7_11() -> None:
    created: dict[str, set[str]] = {}
    for table, body in re.findall(r"CREATE TABLE `hesk_(\w+)` \((.*?)\n\)", schema_sql(), re.S):
        created[table] = set(re.findall(r"^\s*`(\w+)`", body, re.M))
    for table, spec in TABLES.items():
        wanted = {*spec.required, *spec.added, *LAYOUT_COLUMNS.get(table, ((), ()))[0]}
        assert wanted <= created[table], (table, wanted - created[table])


@pytest.mark.parametrize("prefix", ["hesk_`; DROP TABLE x; --", "my-hesk_", "hesk.", "é_"])
def test_a_prefix_outside_letters_digits_underscore_is_refused(prefix: str) -> None:
    with pytest.raises(ConfigError, match="H2I_HESK_TABLE_PREFIX") as err:
        HeskReader(f"{SERVER}/never_connected", prefix)
    assert err.value.exit_code == 2
    with pytest.raises(ConfigError):
        schema_statements(prefix)
    assert check_table_prefix("Hd_2024_") == "Hd_2024_" and check_table_prefix("") == ""


def test_a_bad_prefix_is_one_line_and_exit_2_from_the_command_line() -> None:
    env = {**os.environ, "H2I_HESK_URL": f"{SERVER}/hesk", "H2I_HESK_TABLE_PREFIX": "hesk`x"}
    out = subprocess.run(
        [str(BIN), "discover"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    first = out.stderr.strip().splitlines()[0]
    assert "H2I_HESK_TABLE_PREFIX 'hesk`x' may hold only letters, digits and _" in first

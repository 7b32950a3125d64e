"""The Hesk database connection: read-only, UTC, bytes-exact text; errors translated here.

Every session runs ``SET time_zone='+00:00'`` (TIMESTAMPs as true UTC),
``SET SESSION TRANSACTION READ ONLY`` and ``SET character_set_results = binary`` so text
arrives as the stored bytes; :meth:`HeskDB.query` decodes them (UTF-8, else cp1252) and
repairs double-encoded UTF-8, listing the affected columns under the row key ``__legacy__``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pymysql
import pymysql.cursors
from sqlalchemy.engine import make_url

from core.settings import redact_url
from hesk.errors import HeskConnectionError, HeskError, HeskSchemaError
from hesk.text import decode_bytes, repair_mojibake

LEGACY_KEY = "__legacy__"
_UNREACHABLE = {2002, 2003, 2005, 2006, 2013}


def connect_kwargs(url: str) -> dict[str, Any]:
    """pymysql.connect keyword arguments from an SQLAlchemy-style MySQL URL."""
    try:
        u = make_url(url)
    except Exception as exc:
        raise HeskConnectionError(
            f"H2I_HESK_URL {redact_url(url)!r} is not a database URL"
        ) from exc
    if not u.drivername.startswith(("mysql", "mariadb")):
        raise HeskConnectionError(
            f"H2I_HESK_URL {redact_url(url)!r} is not a MySQL/MariaDB URL",
            hint="use mysql+pymysql://USER:PASSWORD@HOST:3306/DATABASE",
        )
    return {
        "host": u.host or "127.0.0.1",
        "port": u.port or 3306,
        "user": u.username or "root",
        "password": u.password or "",
        "database": u.database,
    }


def translate_error(exc: Exception, url: str) -> HeskError:
    """Map a pymysql error to the most specific HeskError (never showing the password)."""
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    where = redact_url(url)
    if code in _UNREACHABLE:
        return HeskConnectionError(f"cannot reach the Hesk database at {where}")
    if code in (1044, 1045):
        return HeskConnectionError(
            f"access denied to the Hesk database at {where}",
            hint="check the user and password in H2I_HESK_URL",
        )
    if code == 1049:
        return HeskConnectionError(
            f"the database in {where} does not exist",
            hint="check the database name in H2I_HESK_URL",
        )
    if code in (1146, 1054):
        return HeskSchemaError(f"Hesk schema problem: {exc.args[1] if len(exc.args) > 1 else exc}")
    return HeskError(f"Hesk database error {code}: {exc.args[1] if len(exc.args) > 1 else exc}")


def to_utc(value: Any) -> datetime | None:
    """A TIMESTAMP read in a UTC session as an aware datetime; zero/invalid dates -> None."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def is_zero_date(value: Any) -> bool:
    """True for MySQL zero dates (``0000-00-00 ...``), which pymysql returns as text."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return isinstance(value, str) and value.startswith("0000-00-00")


def format_duration(value: Any) -> str:
    """A TIME column (timedelta) as ``HH:MM:SS`` (hours may exceed 24)."""
    if isinstance(value, timedelta):
        total = int(value.total_seconds())
        sign = "-" if total < 0 else ""
        total = abs(total)
        return f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
    return str(value or "00:00:00")


class HeskDB:
    """One read-only connection to a Hesk database with table-prefix helpers."""

    def __init__(self, url: str, table_prefix: str = "hesk_") -> None:
        from hesk.columns import check_table_prefix

        self.url = url
        self.prefix = check_table_prefix(table_prefix)
        self._columns: dict[str, frozenset[str]] | None = None
        try:
            self.conn = pymysql.connect(
                **connect_kwargs(url),
                charset="utf8mb4",
                autocommit=True,
                connect_timeout=10,
                cursorclass=pymysql.cursors.DictCursor,
            )
            with self.conn.cursor() as cur:
                cur.execute("SET time_zone = '+00:00'")
                cur.execute("SET SESSION TRANSACTION READ ONLY")
                cur.execute("SET character_set_results = binary")
        except pymysql.MySQLError as exc:
            raise translate_error(exc, url) from None

    def close(self) -> None:
        """Close the connection."""
        with contextlib.suppress(pymysql.MySQLError):
            self.conn.close()

    def t(self, name: str) -> str:
        """The quoted, prefixed table name, e.g. ``t("tickets")`` -> `` `hesk_tickets` ``."""
        return f"`{self.prefix}{name}`"

    def columns(self, name: str) -> frozenset[str]:
        """The column names of a (prefixed) table; empty if the table does not exist."""
        if self._columns is None:
            rows = self.query(
                "SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE()"
            )
            found: dict[str, set[str]] = {}
            for row in rows:
                found.setdefault(row["t"], set()).add(row["c"])
            self._columns = {t: frozenset(c) for t, c in found.items()}
        return self._columns.get(self.prefix + name, frozenset())

    def has_table(self, name: str) -> bool:
        """True if the prefixed table exists."""
        return bool(self.columns(name))

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        """Run a SELECT and return decoded rows (see module docstring)."""
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql, params)
                rows = cur.fetchall()
        except pymysql.MySQLError as exc:
            raise translate_error(exc, self.url) from None
        return [_decode_row(r) for r in rows]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None."""
        rows = self.query(sql, params)
        return next(iter(rows[0].values())) if rows else None

    def keyset(
        self,
        table: str,
        columns: str,
        *,
        key: str = "id",
        after: int | None = None,
        where: str = "",
        params: Sequence[Any] = (),
        batch: int = 1000,
    ) -> Iterator[list[dict[str, Any]]]:
        """Batches of rows ``WHERE key > :last ORDER BY key LIMIT :batch`` (bounded memory)."""
        last = -1 if after is None else after
        extra = f" AND ({where})" if where else ""
        sql = (
            f"SELECT {columns} FROM {self.t(table)} WHERE `{key}` > %s{extra} "
            f"ORDER BY `{key}` LIMIT {int(batch)}"
        )
        while True:
            rows = self.query(sql, (last, *params))
            if not rows:
                return
            yield rows
            last = rows[-1][key]
            if len(rows) < batch:
                return


def _decode_row(row: dict[str, Any]) -> dict[str, Any]:
    legacy: list[str] = []
    for key, value in row.items():
        if isinstance(value, bytes | bytearray):
            text, bad = decode_bytes(bytes(value))
            text, fixed = repair_mojibake(text)
            if "\x00" in text:
                text = text.replace("\x00", "")
            if bad or fixed:
                legacy.append(key)
            row[key] = text
    if legacy:
        row[LEGACY_KEY] = legacy
    return row

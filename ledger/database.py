"""Opening the ledger: create its database if missing, upgrade it, map connection errors.

Every command that needs the ledger calls :func:`open_engine`; it is cheap when the database
is already at the newest revision (one query to Alembic's version table).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg.types.json import set_json_loads
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from core import json_codec
from core.settings import redact_url
from ledger.errors import LedgerError, LedgerPermissionDenied, LedgerUnavailable

# Every psycopg connection of the process decodes json/jsonb with the hot-path codec.
set_json_loads(json_codec.loads)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_upgraded: set[str] = set()


def parse_ledger_url(url: str) -> URL:
    """The ledger URL parsed, or a ConfigError-like LedgerError saying what is wrong."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LedgerError(
            "H2I_LEDGER_URL is not a database URL",
            hint="use e.g. postgresql+psycopg://postgres@127.0.0.1:5432/hesk2intercom",
        ) from None
    if not parsed.drivername.startswith("postgresql"):
        raise LedgerError(
            f"H2I_LEDGER_URL must point at PostgreSQL, not {parsed.drivername}",
            hint="use a postgresql+psycopg:// URL",
        )
    if not parsed.database:
        raise LedgerError("H2I_LEDGER_URL names no database", hint="add /hesk2intercom to it")
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


#: SQLSTATEs of a server that is away for now: too many connections, and the server shutting
#: down (fast/immediate: every session is terminated), crashed, starting up, or ending an
#: idle session. Each passes; the caller may retry.
_UNAVAILABLE = ("53300", "57P01", "57P02", "57P03", "57P05")


def translate_db_error(err: DBAPIError, url: URL) -> LedgerError:
    """Turn a driver error into a one-line LedgerError without any secret in it."""
    where = redact_url(url.render_as_string(hide_password=False))
    sqlstate = getattr(err.orig, "sqlstate", None)
    text = str(err.orig).splitlines()[0] if err.orig else type(err).__name__
    if sqlstate == "42501" or "permission denied" in text:
        return LedgerPermissionDenied(
            f"the ledger user may not do this on {where}: {text}",
            hint="grant the user CREATE on the database (or CREATEDB), or use another user",
        )
    if sqlstate in ("28P01", "28000"):
        return LedgerError(
            f"PostgreSQL refused the login for {where}",
            hint="check the user and password in H2I_LEDGER_URL",
        )
    if sqlstate is None or sqlstate.startswith("08") or sqlstate in _UNAVAILABLE:
        return LedgerUnavailable(
            f"cannot reach the ledger at {where}",
            hint="start PostgreSQL or fix host/port in H2I_LEDGER_URL",
        )
    return LedgerError(f"ledger error on {where}: {text}")


def ensure_database(url: URL) -> None:
    """Create the ledger's database if it does not exist yet."""
    name = url.database
    if not name:  # parse_ledger_url refuses such a URL
        raise LedgerError("H2I_LEDGER_URL names no database", hint="add /hesk2intercom to it")
    admin = create_engine_for(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": name}
            ).scalar()
            if not exists:
                quoted = conn.dialect.identifier_preparer.quote(name)
                try:
                    conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
                except DBAPIError as err:
                    if getattr(err.orig, "sqlstate", None) != "42P04":  # raced: exists now
                        raise
    except DBAPIError as err:
        raise translate_db_error(err, url) from None
    finally:
        admin.dispose()


def create_engine_for(url: URL, **kwargs: object) -> Engine:
    """A SQLAlchemy engine on the ledger URL, with errors mapped to LedgerError."""
    kwargs.setdefault("pool_pre_ping", True)
    try:
        return sa.create_engine(url, **kwargs)
    except (NoSuchModuleError, ArgumentError) as err:
        raise LedgerError(f"unusable H2I_LEDGER_URL: {type(err).__name__}") from None


def alembic_config(url: URL) -> Config:
    """An Alembic Config pointing at the packaged revisions and the given URL."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option(
        "sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return cfg


def upgrade(engine: Engine, url: URL) -> None:
    """Bring the ledger schema to the newest Alembic revision (no-op when already there)."""
    cfg = alembic_config(url)
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.begin() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        if current == head:
            return
        # Serialise concurrent upgrades (several workers starting at once).
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(724410001)")
        if MigrationContext.configure(conn).get_current_revision() == head:
            return
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_engine(ledger_url: str, *, pool_size: int = 5, pre_ping: bool = True) -> Engine:
    """An engine on an existing, up-to-date ledger: created and upgraded when needed.

    ``pool_size``: connections kept per process (a worker thread may hold two at once).
    ``pre_ping=False`` skips the liveness query on each checkout (workers: a dead connection
    fails the unit with a transient error, the pool drops it, and the message is retried).
    """
    url = parse_ledger_url(ledger_url)
    key = url.render_as_string(hide_password=False)
    engine = create_engine_for(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=pre_ping
    )
    if key in _upgraded:
        return engine
    try:
        ensure_database(url)
        upgrade(engine, url)
    except DBAPIError as err:
        engine.dispose()
        raise translate_db_error(err, url) from None
    _upgraded.add(key)
    return engine


#: One SQL statement and its parameters, as the driver takes them.
Statement = tuple[str, dict[str, Any] | tuple[Any, ...]]


def driver_rows(conn: Connection, sql: str, params: dict[str, Any] | tuple[Any, ...]) -> list[Any]:
    """Every row of ``sql``, run straight on the driver's connection under ``conn``
    (SQLAlchemy's statement bookkeeping cost as much as psycopg's own work on the hot
    appends and reads of a unit).

    A driver error comes out as SQLAlchemy would raise it (a ``DBAPIError`` subclass, the
    connection invalidated when the server dropped it), so callers see no difference.
    """
    raw = conn.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        return list(conn.exec_driver_sql(sql, params))
    try:
        return raw.execute(sql, params).fetchall()
    except psycopg.Error as err:
        lost = raw.closed or raw.broken
        if lost:
            conn.invalidate()
        raise DBAPIError.instance(
            sql, params, err, psycopg.Error, connection_invalidated=lost
        ) from None


def driver_pipeline(conn: Connection, statements: Sequence[Statement]) -> list[list[Any]]:
    """The rows of each statement (none for a command such as ``BEGIN``), every statement
    sent in one round trip (psycopg's pipeline mode) on the driver's connection under
    ``conn``, an autocommit one.

    Each statement starts once the one before it has finished. Between two syncs they form
    one transaction (``BEGIN``/``COMMIT`` among them make it explicit), and an error skips
    the rest. On an error the connection is closed, so the server rolls back what was left
    open and releases the session's advisory locks; the error comes out as from
    :func:`driver_rows`.
    """
    raw = conn.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        results = [conn.exec_driver_sql(sql, params) for sql, params in statements]
        return [list(r) if r.returns_rows else [] for r in results]
    # A libpq older than 14 has no pipeline mode: the same statements, a round trip each.
    batch = raw.pipeline() if psycopg.Pipeline.is_supported() else nullcontext()
    try:
        with batch:
            cursors = [raw.execute(sql, params) for sql, params in statements]
        return [cur.fetchall() if cur.description is not None else [] for cur in cursors]
    except psycopg.Error as err:
        conn.invalidate()
        sql = "; ".join(sql for sql, _ in statements)
        raise DBAPIError.instance(
            sql, None, err, psycopg.Error, connection_invalidated=True
        ) from None

"""The PostgreSQL server the tests make their throwaway ledger databases on, and what the
tests read of a ledger directly (independent of the projections they check)."""

from __future__ import annotations

import os

import sqlalchemy as sa

from ledger.database import open_engine

#: The shared server's maintenance database (databases are created and dropped through it).
PG_ADMIN_URL = os.environ.get(
    "H2I_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def drop_database(name: str) -> None:
    """Drop a database of the shared server (connections to it are closed first)."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def unsettled_intents(ledger_url: str, migration: str) -> list[str]:
    """Keys of WriteIntended events with no succeeded, failed or resolved outcome."""
    engine = open_engine(ledger_url)
    sql = (
        "SELECT i.key FROM events i WHERE i.migration_id = :m AND i.type = 'WriteIntended' "
        "AND NOT EXISTS (SELECT 1 FROM events o WHERE o.migration_id = i.migration_id "
        "AND o.key IN (i.key || '|ok', i.key || '|failed', i.key || '|resolved'))"
    )
    try:
        with engine.connect() as conn:
            return [k for (k,) in conn.execute(sa.text(sql), {"m": migration})]
    finally:
        engine.dispose()

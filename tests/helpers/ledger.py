"""The PostgreSQL server the tests make their throwaway ledger databases on."""

from __future__ import annotations

import os

import sqlalchemy as sa

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

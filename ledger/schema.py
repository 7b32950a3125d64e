"""The ledger's tables (SQLAlchemy Core). Alembic revisions in ``migrations/`` create them.

``events`` is append-only: a trigger rejects UPDATE and DELETE. ``txid`` records the writing
transaction so projections can read only what is certainly committed (see projections.py).
The two ``projection_*`` tables are derived state, rebuildable from ``events`` at any time.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()


class XID8(sa.types.UserDefinedType[str]):
    """PostgreSQL's 64-bit transaction id type (psycopg reads it as text)."""

    cache_ok = True

    def get_col_spec(self, **_kw: object) -> str:
        return "xid8"


events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(always=False), primary_key=True),
    sa.Column("migration_id", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("object", sa.Text, nullable=False),
    sa.Column("source_id", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column(
        "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("txid", XID8, nullable=False, server_default=sa.text("pg_current_xact_id()")),
    sa.UniqueConstraint("migration_id", "key", name="events_migration_key"),
)
sa.Index("events_by_type", events.c.migration_id, events.c.type, events.c.seq)
sa.Index("events_by_object", events.c.migration_id, events.c.object, events.c.source_id)
sa.Index("events_by_txid", events.c.migration_id, events.c.txid)

projection_checkpoints = sa.Table(
    "projection_checkpoints",
    metadata,
    sa.Column("projection", sa.Text, primary_key=True),
    sa.Column("migration_id", sa.Text, primary_key=True),
    sa.Column("snapshot", sa.Text, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
)

projection_rows = sa.Table(
    "projection_rows",
    metadata,
    sa.Column("projection", sa.Text, primary_key=True),
    sa.Column("migration_id", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", JSONB, nullable=False),
)

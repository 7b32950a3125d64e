"""A unit's last events and its lock's release in one statement: ``h2i_append_unlock``.

A worker ends a unit by appending its last events (the last write's outcome, the records
it settled) and letting the unit's advisory lock go. As two statements that cost the
worker a round trip per unit; as one, the unlock must not make the unit free before those
events are visible to its next holder, who would take the last write for one in doubt.
So the function first takes the same lock at transaction level (the session already
holds it, so this never waits), appends, then lets the session-level lock go: the
transaction's lock keeps the unit until the statement's transaction commits.

An error before the unlock (an event PostgreSQL refuses) leaves the session's lock held,
as it was: the caller lets it go as before (``ledger.sessions.held_lock``).

Its INSERT is ``ledger.store``'s ``_INSERT`` (arrays of keys, types, objects, source ids
and payloads), answering the keys that were new.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

APPEND_UNLOCK = """
CREATE FUNCTION h2i_append_unlock(lock_name text, m text, k text[], t text[], o text[],
                                  s text[], p text[])
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(lock_name, 0));
  RETURN QUERY
    INSERT INTO events (migration_id, key, type, object, source_id, payload)
    SELECT m, x.k, x.t, x.o, x.s, x.p::jsonb
    FROM unnest(k, t, o, s, p) AS x(k, t, o, s, p)
    ON CONFLICT (migration_id, key) DO NOTHING
    RETURNING events.key;
  PERFORM pg_advisory_unlock(hashtextextended(lock_name, 0));
END $$
"""


def upgrade() -> None:
    op.execute(APPEND_UNLOCK)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION h2i_append_unlock(text, text, text[], text[], text[], text[], text[])"
    )

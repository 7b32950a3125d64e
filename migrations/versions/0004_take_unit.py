"""A unit's lock and its reads in one statement: ``h2i_take_unit``.

A worker starting a unit tries the unit's advisory lock and, once it holds it, reads the
unit's own events and, for a ticket, the newest capture of each of its replies, notes and
attachments. As one function call this is a single statement for the driver (psycopg's
pipeline of the same five statements cost the worker about four times the CPU).

Each query in a VOLATILE function takes a fresh snapshot under READ COMMITTED, so the
reads see everything the lock's last holder committed. Under a stricter isolation one
snapshot would serve the whole call, taken before the lock was granted: the function then
does nothing and answers a single row of part -1, and the caller takes the lock and reads
in a READ COMMITTED transaction of its own instead (``ledger.sessions.HeldLock``).

Its two queries are ``ledger.store``'s ``_OF_RECORD`` and ``_TICKET_CHILDREN`` (the
statements the caller falls back on); ``tests/ledger/test_held_lock.py`` checks that both
ways answer the same rows.

Rows: ``part`` 0 (one row: the lock is held elsewhere), 1 (the unit's events, in seq
order), 2 (a ticket's thread, when ``ticket_id`` is not null); then the columns
``ledger.store.recorded_from_row`` takes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TAKE_UNIT = """
CREATE FUNCTION h2i_take_unit(lock_name text, m text, o text, s text, ticket_id text)
RETURNS TABLE (part int, seq bigint, recorded_at timestamptz, type text, object text,
               source_id text, payload jsonb)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    part := -1;
    RETURN NEXT;
    RETURN;
  END IF;
  IF NOT pg_try_advisory_lock(hashtextextended(lock_name, 0)) THEN
    part := 0;
    RETURN NEXT;
    RETURN;
  END IF;
  RETURN QUERY
    SELECT 1, e.seq, e.recorded_at, e.type, e.object, e.source_id, e.payload
    FROM events e
    WHERE e.migration_id = m AND e.object = o AND e.source_id = s
    ORDER BY e.seq;
  IF ticket_id IS NOT NULL THEN
    RETURN QUERY
      SELECT DISTINCT ON (e.object, e.source_id)
             2, e.seq, e.recorded_at, e.type, e.object, e.source_id, e.payload
      FROM events e
      WHERE e.migration_id = m AND e.type = 'SourceCaptured'
        AND (e.payload->'record'->>'ticket_id') = ticket_id
      ORDER BY e.object, e.source_id, e.seq DESC;
  END IF;
END $$
"""


def upgrade() -> None:
    op.execute(TAKE_UNIT)


def downgrade() -> None:
    op.execute("DROP FUNCTION h2i_take_unit(text, text, text, text, text)")

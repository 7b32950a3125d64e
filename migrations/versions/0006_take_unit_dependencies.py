"""A ticket's dependencies' settlements read with its lock: ``h2i_take_unit`` (7 arguments).

Planning a ticket needs the Intercom ids of what it depends on (its contacts, attributes,
ticket type, category): one more round trip per unit after the lock and its reads. This
version of ``h2i_take_unit`` reads them in the same call, as part 3: the newest
settlement (``RecordMigrated``, ``RecordQuarantined`` or ``RecordSkipped``) of each pair
asked for in ``dep_o``/``dep_s`` (what every ticket of the map needs) and of each pair the
unit's newest capture names in the fields of a ticket record (``requester_contact_id``,
``follower_contact_ids``, ``custom_fields[].field_id``, ``category_id``). Every pair comes
back, settled or not (``seq`` null when not), so the caller knows what was read: a
dependency the worker works out (``mapping.dependencies``) and this did not read is read
on its own (``Ledger.settlements``), so the two may differ without any harm but a round
trip. Without ``dep_o`` there is no part 3, as in 0004.

Parts 0, -1, 1 and 2 are as in migration 0004, whose 5-argument function this replaces.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TAKE_UNIT = """
CREATE FUNCTION h2i_take_unit(lock_name text, m text, o text, s text, ticket_id text,
                              dep_o text[], dep_s text[])
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
  IF dep_o IS NOT NULL THEN
    RETURN QUERY
      WITH captured AS (
        SELECT e.payload->'record' AS r
        FROM events e
        WHERE e.migration_id = m AND e.object = o AND e.source_id = s
          AND e.type = 'SourceCaptured'
        ORDER BY e.seq DESC
        LIMIT 1
      ), listed AS (
        SELECT CASE WHEN jsonb_typeof(c.r->'follower_contact_ids') = 'array'
                    THEN c.r->'follower_contact_ids' ELSE '[]'::jsonb END AS followers,
               CASE WHEN jsonb_typeof(c.r->'custom_fields') = 'array'
                    THEN c.r->'custom_fields' ELSE '[]'::jsonb END AS fields,
               c.r
        FROM captured c
      ), wanted AS (
        SELECT w.o, w.s FROM unnest(dep_o, dep_s) AS w(o, s)
        UNION SELECT 'contact', l.r->>'requester_contact_id' FROM listed l
        UNION SELECT 'contact', f.value FROM listed l, jsonb_array_elements_text(l.followers) f
        UNION SELECT 'custom_field', v.value->>'field_id'
              FROM listed l, jsonb_array_elements(l.fields) v
        UNION SELECT 'category', l.r->>'category_id' FROM listed l
      )
      SELECT 3, x.seq, x.recorded_at, x.type, w.o, w.s, x.payload
      FROM wanted w
      LEFT JOIN LATERAL (
        SELECT e.seq, e.recorded_at, e.type, e.payload
        FROM events e
        WHERE e.migration_id = m AND e.object = w.o AND e.source_id = w.s
          AND e.type IN ('RecordMigrated', 'RecordQuarantined', 'RecordSkipped')
        ORDER BY e.seq DESC
        LIMIT 1
      ) x ON true
      WHERE w.o IS NOT NULL AND w.s IS NOT NULL;
  END IF;
END $$
"""


def _take_unit_of_0004() -> str:
    spec = importlib.util.spec_from_file_location(
        "take_unit_0004", Path(__file__).with_name("0004_take_unit.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.TAKE_UNIT)


def upgrade() -> None:
    op.execute("DROP FUNCTION h2i_take_unit(text, text, text, text, text)")
    op.execute(TAKE_UNIT)


def downgrade() -> None:
    op.execute("DROP FUNCTION h2i_take_unit(text, text, text, text, text, text[], text[])")
    op.execute(_take_unit_of_0004())

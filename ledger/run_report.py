"""How the runs went, from the ledger: each run's window, its write timeline, its phases,
and a few migrated tickets to show. Aggregates run inside PostgreSQL (a few rows come back
whatever the ledger's size).

A run is the stretch of the ledger from one ``RunStarted`` (``migrate``, ``delta``) to the
next. Its timeline counts, per time bucket, the write intents (calls), intents that are
re-attempts, the transient errors the client retried (``detail.retried`` on outcomes: 429s,
5xx, dropped connections), and writes in doubt or refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from core.objects import TICKET_THREAD

#: Records settled by their ticket's unit: their settlements time the tickets, not a phase.
CHILDREN = TICKET_THREAD
_WRITES = ("WriteIntended", "WriteSucceeded", "WriteFailed", "WriteInDoubt", "WriteResolved")
_SETTLED = ("RecordMigrated", "RecordQuarantined", "RecordSkipped")


@dataclass(frozen=True)
class Run:
    """One run: its name, kind, where it starts and ends in the ledger, and when."""

    run: str
    kind: str
    first_seq: int
    end_seq: int  # exclusive: the next run's first seq (or past the last event)
    started_at: datetime
    ended_at: datetime  # when its last event was recorded
    writes: int


_RUNS = """
WITH starts AS (
  SELECT seq, recorded_at, payload->>'run' AS run, payload->>'kind' AS kind,
         lead(seq) OVER (ORDER BY seq) AS next_seq
  FROM events WHERE migration_id = %(m)s AND type = 'RunStarted'
)
SELECT s.run, s.kind, s.seq, coalesce(s.next_seq, %(last)s + 1), s.recorded_at,
  (SELECT e.recorded_at FROM events e WHERE e.migration_id = %(m)s
     AND e.seq < coalesce(s.next_seq, %(last)s + 1) ORDER BY e.seq DESC LIMIT 1),
  (SELECT count(*) FROM events e WHERE e.migration_id = %(m)s AND e.type = 'WriteIntended'
     AND e.seq >= s.seq AND e.seq < coalesce(s.next_seq, %(last)s + 1))
FROM starts s ORDER BY s.seq
"""
_ALL = """
SELECT min(seq), max(seq), min(recorded_at), max(recorded_at),
  count(*) FILTER (WHERE type = 'WriteIntended')
FROM events WHERE migration_id = %(m)s
"""


def runs(engine: Engine, migration_id: str) -> list[Run]:
    """Every run of a migration in order; a ledger without ``RunStarted`` is one run."""
    with engine.connect() as conn:
        first, last, t0, t1, writes = conn.exec_driver_sql(_ALL, {"m": migration_id}).one()
        if first is None:
            return []
        found = [
            Run(str(run), str(kind or "migrate"), int(s), int(e), started, ended or started, int(n))
            for run, kind, s, e, started, ended, n in conn.exec_driver_sql(
                _RUNS, {"m": migration_id, "last": last}
            )
        ]
    if not found:
        return [Run("all", "ledger", int(first), int(last) + 1, t0, t1, int(writes))]
    return found


_SPAN = """
SELECT min(recorded_at), max(recorded_at) FROM events
WHERE migration_id = %(m)s AND type = ANY(%(t)s) AND seq >= %(a)s AND seq < %(b)s
"""
_BUCKETS = """
SELECT floor(extract(epoch FROM recorded_at - %(t0)s) / %(w)s)::int AS bucket,
  greatest(0, count(*) FILTER (WHERE type = 'WriteIntended') - count(*) FILTER (WHERE {unsent})),
  greatest(0, count(*) FILTER (WHERE type = 'WriteIntended' AND (payload->>'attempt')::int > 1)
    - count(*) FILTER (WHERE {unsent})),
  coalesce(sum((payload->'detail'->'retried'->>'rate_limited')::int), 0),
  coalesce(sum((payload->'detail'->'retried'->>'server_error')::int), 0)
    + coalesce(sum((payload->'detail'->'retried'->>'unavailable')::int), 0),
  count(*) FILTER (WHERE type = 'WriteInDoubt'),
  count(*) FILTER (WHERE type = 'WriteFailed')
FROM events
WHERE migration_id = %(m)s AND type = ANY(%(t)s) AND seq >= %(a)s AND seq < %(b)s
GROUP BY 1 ORDER BY 1
""".format(unsent="type = 'WriteResolved' AND payload->'detail'->>'proof' LIKE 'not sent:%%'")


def timeline(engine: Engine, migration_id: str, run: Run, *, buckets: int = 60) -> dict[str, Any]:
    """A run's writes over time, in at most ``buckets`` equal buckets of whole seconds.

    Calls are intents, less those settled as never sent (recorded ahead, their time ran
    out: the write went again as its next attempt, which is not counted a re-attempt).

    ``{"start": ISO time, "bucket_seconds": w, "points": [{"t": offset s, "calls",
    "calls_per_s", "reattempts", "rate_limited", "server_errors", "in_doubt", "failed"}]}``
    """
    window = {"m": migration_id, "t": list(_WRITES), "a": run.first_seq, "b": run.end_seq}
    with engine.connect() as conn:
        t0, t1 = conn.exec_driver_sql(_SPAN, window).one()
        if t0 is None:
            return {"start": None, "bucket_seconds": 1, "points": []}
        span = max((t1 - t0).total_seconds(), 1.0)
        width = max(1, math.ceil(span / buckets))
        rows = conn.exec_driver_sql(_BUCKETS, {**window, "t0": t0, "w": width}).all()
    points = [
        {
            "t": int(b) * width,
            "calls": int(c),
            "calls_per_s": round(int(c) / width, 2),
            "reattempts": int(r),
            "rate_limited": int(q),
            "server_errors": int(s),
            "in_doubt": int(d),
            "failed": int(f),
        }
        for b, c, r, q, s, d, f in rows
    ]
    return {"start": t0.isoformat(timespec="seconds"), "bucket_seconds": width, "points": points}


_BY_OBJECT = """
SELECT object, min(recorded_at), max(recorded_at),
  count(*) FILTER (WHERE type = 'WriteIntended')
FROM events
WHERE migration_id = %(m)s AND type = ANY(%(t)s) AND seq >= %(a)s AND seq < %(b)s
  AND object = ANY(%(o)s) AND (type = ANY(%(w)s) OR object <> ALL(%(c)s))
GROUP BY object
"""
_CAPTURE_END = """
SELECT max(recorded_at) FROM events
WHERE migration_id = %(m)s AND type = 'CaptureCompleted' AND seq >= %(a)s AND seq < %(b)s
"""


Phases = tuple[tuple[str, tuple[str, ...]], ...]


def phase_times(
    engine: Engine, migration_id: str, run: Run, phases: Phases
) -> list[dict[str, Any]]:
    """Per phase of a run: when it started (seconds after the run began), how long it took,
    and its writes. A write phase spans its units' writes and settlements (a ticket's
    replies, notes and files are settled by the ticket's unit, so they time no phase of
    their own); ``capture`` spans the run's start to its ``CaptureCompleted``."""
    owners = [o for _name, objects in phases for o in objects]
    params = {"m": migration_id, "a": run.first_seq, "b": run.end_seq}
    with engine.connect() as conn:
        captured = conn.exec_driver_sql(_CAPTURE_END, params).scalar()
        spans = {
            obj: (start, end, int(n))
            for obj, start, end, n in conn.exec_driver_sql(
                _BY_OBJECT,
                {
                    **params,
                    "t": [*_WRITES, *_SETTLED],
                    "o": owners,
                    "w": list(_WRITES),
                    "c": list(CHILDREN),
                },
            )
        }
    out: list[dict[str, Any]] = []
    if captured is not None:
        out.append(
            {
                "phase": "capture",
                "offset_s": 0.0,
                "seconds": round((captured - run.started_at).total_seconds(), 1),
                "writes": 0,
            }
        )
    for name, objects in phases:
        found = [spans[o] for o in objects if o in spans]
        if not found:
            continue
        start = min(s for s, _e, _n in found)
        end = max(e for _s, e, _n in found)
        out.append(
            {
                "phase": name,
                "offset_s": round((start - run.started_at).total_seconds(), 1),
                "seconds": round((end - start).total_seconds(), 1),
                "writes": sum(n for _s, _e, n in found),
            }
        )
    return out


_TICKETS = """
SELECT p.value->>'source_id', p.value->>'intercom_id', e.payload->'record'->>'trackid',
       e.payload->'record'->>'subject'
FROM projection_rows p
JOIN events e ON e.migration_id = p.migration_id
  AND e.key = 'src:ticket:' || (p.value->>'source_id') || ':' || (p.value->>'hash')
WHERE p.projection = 'dispositions' AND p.migration_id = %(m)s
  AND p.value->>'object' = 'ticket' AND p.value->>'state' = 'migrated'
ORDER BY length(p.value->>'source_id'), p.value->>'source_id'
LIMIT %(n)s
"""


def migrated_tickets(engine: Engine, migration_id: str, limit: int = 10) -> list[dict[str, str]]:
    """The first few migrated tickets (by Hesk id) with their tracking id, subject and
    Intercom id, from the ``Dispositions`` projection table (caught up by the caller)."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(_TICKETS, {"m": migration_id, "n": limit}).all()
    return [
        {"source_id": s, "intercom_id": i or "", "tracking_id": t or "", "subject": j or ""}
        for s, i, t, j in rows
    ]

"""The ID map of a large migration: rows/s and peak memory of ``idmap`` over a big ledger.

Builds, in a database of its own, the ledger a finished migration of N tickets leaves: per
ticket its capture, its history record and R replies captured, the conversation's create,
one part per reply, the history note and the update (each intent with its outcome), and
every record settled; contacts (one per five tickets) captured, created and settled; a few
KB articles with their public URL; and the ``Dispositions`` projection table caught up (a
real migration keeps it caught up as it goes; here it is built by one INSERT … SELECT, which
a test checks against a real rebuild). Each kind of event is made once by the real event
classes (``ledger.events``, records from the test factories), then copied N times inside
PostgreSQL (``INSERT … SELECT … generate_series``) with its ids substituted, so building
100,000 tickets takes seconds, not the hours of a real run.

Then ``commands.idmap.write_idmap`` (what ``hesk2intercom idmap`` runs, with ``--app-id`` so
no Intercom is needed) writes the CSV while a thread samples the process's RSS. Printed:
rows, seconds, rows/s and the CPU time of this process; the RSS before, at 10 % of the rows
and at the end, and the peak; PostgreSQL's own time for the query (EXPLAIN ANALYZE, run
again after) and the load average (on a shared host, wall time is mostly waiting for a CPU).
The database is dropped at the end (``--keep`` keeps it).

    .venv/bin/python benchmarks/idmap.py [--tickets 100000] [--replies 4] [--keep]
    .venv/bin/python benchmarks/idmap.py --database h2i_bench_idmap_NNN   # a kept ledger
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from commands import idmap as idmap_command  # noqa: E402
from core.settings import load_settings  # noqa: E402
from ledger.database import open_engine  # noqa: E402
from ledger.events import (  # noqa: E402
    Event,
    RecordMigrated,
    SourceCaptured,
    WriteIntended,
    WriteSucceeded,
)
from ledger.idmap import _ROWS, CHILDREN, NOT_HESK  # noqa: E402
from ledger.keys import outcome_key  # noqa: E402
from tests.helpers import report_factories as factories  # noqa: E402

PG = os.environ.get("H2I_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
MIGRATION = "bench-idmap"
# Placeholders in the event templates, replaced per copy inside PostgreSQL.
TID, RID, TRACK, HASH, CONV, MAIL = (
    "987654321",
    "876543210",
    "@TRACK@",
    "@HASH@",
    "@CONV@",
    "@MAIL@",
)
_SUBST = {  # placeholder -> SQL expression (i: the ticket, k: the reply of the ticket)
    TID: "i::text",
    RID: "(i * 16 + k)::text",
    TRACK: "'TRK-' || lpad(i::text, 7, '0')",
    HASH: "substr(md5(i::text || '/' || k::text), 1, 16)",
    CONV: "substr(md5('c' || i::text), 1, 24)",
    MAIL: "'c' || mod(i, {contacts})::text || '@example.com'",
}


def ticket_events() -> tuple[list[Event], list[Event]]:
    """The events of one ticket (with placeholders): per ticket, and per reply."""
    ticket = factories.ticket(
        int(TID),
        trackid=TRACK,
        requester_contact_id=MAIL,
        requester_email=MAIL,
        snapshot_email=MAIL,
    )
    reply = factories.reply(int(RID), int(TID), 60, "<p>Thanks, it works again.</p>" * 8)
    common = {"object": "ticket", "source_id": TID}

    def write(op: str, creates: str) -> list[Event]:
        intent = WriteIntended(
            **common,
            operation=op,
            content_hash=HASH,
            target={"method": "POST", "path": f"/conversations/{CONV}", "creates": creates},
        )
        return [
            intent,
            WriteSucceeded(
                **common,
                intent_key=intent.key,
                intercom_id=CONV,
                intercom_type=creates,
                created=bool(creates),
            ),
        ]

    per_ticket: list[Event] = [
        SourceCaptured(**common, content_hash=HASH, record=ticket.to_payload(), capture="c1"),
        SourceCaptured(
            object="history",
            source_id=TID,
            content_hash=HASH,
            record={"ticket_id": int(TID), "raw": ticket.history_raw},
            capture="c1",
        ),
        *write("create", "conversation"),
        *write("part:history", ""),
        *write("update", ""),
        RecordMigrated(
            **common, content_hash=HASH, intercom_id=CONV, intercom_type="conversation_part"
        ),
        RecordMigrated(
            object="history",
            source_id=TID,
            content_hash=HASH,
            intercom_id=CONV,
            intercom_type="conversation_part",
        ),
    ]
    per_reply: list[Event] = [
        SourceCaptured(
            object="reply",
            source_id=RID,
            content_hash=HASH,
            record=reply.to_payload(),
            capture="c1",
        ),
        *write(f"part:reply:{RID}", ""),
        RecordMigrated(
            object="reply",
            source_id=RID,
            content_hash=HASH,
            intercom_id=CONV,
            intercom_type="conversation_part",
        ),
    ]
    return per_ticket, per_reply


def contact_events() -> list[Event]:
    """The events of one contact (with placeholders)."""
    contact = factories.contact(MAIL)
    common = {"object": "contact", "source_id": MAIL}
    intent = WriteIntended(
        **common,
        operation="create",
        content_hash=HASH,
        target={"method": "POST", "path": "/contacts", "creates": "contact"},
    )
    return [
        SourceCaptured(**common, content_hash=HASH, record=contact.to_payload(), capture="c1"),
        intent,
        WriteSucceeded(
            **common, intent_key=intent.key, intercom_id=CONV, intercom_type="contact", created=True
        ),
        RecordMigrated(**common, content_hash=HASH, intercom_id=CONV, intercom_type="contact"),
    ]


def _sql_text(text: str, contacts: int) -> str:
    """``text`` with every placeholder replaced by its SQL expression (a SQL expression,
    ready for a driver statement: ``%`` doubled)."""
    expr = "'" + text.replace("'", "''").replace("%", "%%") + "'"
    for token, sql in _SUBST.items():
        if token in text:
            expr = f"replace({expr}, '{token}', {sql.format(contacts=contacts)})"
    return expr


def _insert(
    conn: sa.Connection, event: Event, n: int, replies: int | None, contacts: int, migration: str
) -> None:
    row = event.to_row(migration)
    key = (
        event.key if not isinstance(event, WriteSucceeded) else outcome_key(event.intent_key, "ok")
    )
    series = "generate_series(1, %(n)s) AS i"
    series += (
        f" CROSS JOIN generate_series(0, {replies - 1}) AS k"
        if replies
        else " CROSS JOIN (SELECT 0 AS k) AS one"
    )
    payload = json.dumps(row["payload"], separators=(",", ":"), default=str)
    sql = (
        "INSERT INTO events (migration_id, key, type, object, source_id, payload) "
        f"SELECT %(m)s, {_sql_text(key, contacts)}, %(t)s, %(o)s, "
        f"{_sql_text(row['source_id'], contacts)}, ({_sql_text(payload, contacts)})::jsonb "
        f"FROM {series}"
    )
    conn.exec_driver_sql(sql, {"m": migration, "t": row["type"], "o": row["object"], "n": n})


def build(engine: sa.Engine, tickets: int, replies: int, *, migration: str = MIGRATION) -> int:
    """Fill the ledger of ``migration``; returns the number of events."""
    per_ticket, per_reply = ticket_events()
    contacts = max(tickets // 5, 1)
    with engine.begin() as conn:
        for event in per_ticket:
            _insert(conn, event, tickets, None, contacts, migration)
        for event in per_reply:
            _insert(conn, event, tickets, replies, contacts, migration)
        for event in contact_events():  # i runs over 1..contacts: each contact once
            _insert(conn, event, contacts, None, contacts + 1, migration)
        for n in range(1, 51):  # a few published articles, with the URL Intercom answered
            conn.exec_driver_sql(
                "INSERT INTO events (migration_id, key, type, object, source_id, payload) "
                "VALUES (%(m)s, %(k)s, 'WriteSucceeded', 'kb_article', %(s)s, %(p)s::jsonb)",
                {
                    "m": migration,
                    "k": f"dst:create:kb_article:{n}:x|ok",
                    "s": str(n),
                    "p": json.dumps(
                        {
                            "intent_key": "x",
                            "intercom_id": str(n),
                            "created": True,
                            "intercom_type": "article",
                            "detail": {
                                "url": f"https://intercom.help/acme/en/articles/{n}",
                                "state": "published",
                            },
                        }
                    ),
                },
            )
        return int(
            conn.exec_driver_sql(
                "SELECT count(*) FROM events WHERE migration_id = %(m)s", {"m": migration}
            ).scalar_one()
        )


_DISPOSITIONS = """
INSERT INTO projection_rows (projection, migration_id, key, value)
SELECT 'dispositions', c.migration_id, c.object || ':' || c.source_id, jsonb_build_object(
  'object', c.object, 'source_id', c.source_id, 'captured', true,
  'hash', c.payload->>'content_hash', 'state', 'migrated', 'reason', '',
  'settled', jsonb_build_object(c.payload->>'content_hash', jsonb_build_array('migrated', '')),
  'intercom_id', r.payload->>'intercom_id')
FROM events c JOIN events r ON r.migration_id = c.migration_id
  AND r.key = 'migrated:' || c.object || ':' || c.source_id || ':' || (c.payload->>'content_hash')
WHERE c.migration_id = %(m)s AND c.type = 'SourceCaptured'
"""


def build_dispositions(engine: sa.Engine, *, migration: str = MIGRATION) -> None:
    """The ``Dispositions`` projection table as its catch-up would leave it (every record
    captured once and migrated), checkpointed at the ledger's end; a real migration keeps
    it caught up as it goes (tests/idmap checks this equals a real rebuild)."""
    with engine.begin() as conn:
        conn.exec_driver_sql(_DISPOSITIONS, {"m": migration})
        conn.exec_driver_sql(
            "INSERT INTO projection_checkpoints (projection, migration_id, snapshot, seq) "
            "SELECT 'dispositions', %(m)s, pg_current_snapshot()::text, max(seq) FROM events "
            "WHERE migration_id = %(m)s",
            {"m": migration},
        )


class RssSampler:
    """Samples this process's resident memory every 50 ms in a thread."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def now(self) -> int:
        """The resident memory now."""
        return int(self.process.memory_info().rss)

    def __enter__(self) -> RssSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()


def _mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


def server_seconds(engine: sa.Engine) -> float:
    """PostgreSQL's own time for the ID map's query (EXPLAIN ANALYZE), in seconds."""
    params = {"m": MIGRATION, "not_hesk": list(NOT_HESK), "direct": ["ticket", *CHILDREN]}
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + _ROWS.format(objects=""), params
        ).scalar_one()
    return float(plan[0]["Execution Time"]) / 1000


def measure(url: str, tickets: int, replies: int) -> None:
    """Write the ID map of the ledger at ``url``; print rows/s, CPU and memory."""
    settings = load_settings(ledger_url=url, migration=MIGRATION, intercom_token=None)
    marks: list[int] = []
    process = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp, RssSampler() as rss:
        before = rss.now()
        out = Path(tmp) / "idmap.csv"
        tenth = max((tickets * (replies + 2)) // 10, 1)
        real_rows = idmap_command.idmap_rows

        def counted(*a: Any, **k: Any) -> Iterator[Any]:
            for n, row in enumerate(real_rows(*a, **k), 1):
                if n == tenth:
                    marks.append(rss.now())
                yield row

        idmap_command.idmap_rows = counted
        cpu0, t1 = process.cpu_times(), time.monotonic()
        result = idmap_command.write_idmap(settings, out, app_id="bench")
        seconds, cpu1 = time.monotonic() - t1, process.cpu_times()
        idmap_command.idmap_rows = real_rows
        end = rss.now()
        size = out.stat().st_size
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    print(
        f"idmap: {result.rows:,} rows ({size / 1e6:,.0f} MB of CSV) in {seconds:.1f} s = "
        f"{result.rows / seconds:,.0f} rows/s; this process used {cpu:.1f} CPU-s"
    )
    print(
        f"RSS: before {_mb(before)}, at 10 % of rows {_mb(marks[0] if marks else end)}, "
        f"at the end {_mb(end)}, peak {_mb(rss.peak)}"
    )
    engine = open_engine(url)
    try:
        print(
            f"PostgreSQL's time for the query (EXPLAIN ANALYZE): "
            f"{server_seconds(engine):.1f} s; load average {os.getloadavg()[0]:.1f} on "
            f"{os.cpu_count()} CPUs"
        )
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    """Build the ledger (or reuse a kept one), write its ID map, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--replies", type=int, default=4, help="replies per ticket (<= 16)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--database", help="reuse this kept benchmark database (no build)")
    args = parser.parse_args(argv)
    name = args.database or f"h2i_bench_idmap_{os.getpid()}"
    url = f"{PG}/{name}"
    admin = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    try:
        if not args.database:
            engine = open_engine(url)
            try:
                with engine.begin() as conn:  # a throwaway ledger needs no WAL: loads faster
                    conn.exec_driver_sql("ALTER TABLE events SET UNLOGGED")
                t0 = time.monotonic()
                events = build(engine, args.tickets, args.replies)
                built = time.monotonic() - t0
                build_dispositions(engine)
                with engine.connect() as conn:
                    conn.exec_driver_sql("ANALYZE events")
                    conn.exec_driver_sql("ANALYZE projection_rows")
            finally:
                engine.dispose()
            print(
                f"ledger {name}: {events:,} events for {args.tickets:,} tickets with "
                f"{args.replies} replies each, built in {built:.1f} s, its projection in "
                f"{time.monotonic() - t0 - built:.1f} s",
                flush=True,
            )
        measure(url, args.tickets, args.replies)
    finally:
        if not args.keep and not args.database:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()

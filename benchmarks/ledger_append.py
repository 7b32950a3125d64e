"""The ledger's append and catch-up rates, beside raw psycopg doing the same on the same table.

Runs against the local PostgreSQL in a throwaway database ``h2i_bench_<pid>`` (created and
upgraded by ``open_engine``, dropped at the end). The raw side writes to ``raw_events``,
created ``LIKE events INCLUDING ALL`` (same columns, identity, defaults, the unique
``(migration_id, key)`` index, the jsonb payload and the other indexes), with plain psycopg 3
on one connection. Both sides get the same events, serialise the payload with ``json.dumps``
and run in rounds, alternating which goes first, so machine noise hits both alike; each
figure is the median over the rounds.

    (a) single appends, one transaction each: ``ledger.append_one(e)`` vs
        ``INSERT … ON CONFLICT DO NOTHING`` + commit per row;
    (b) batches of 100 and of 1,000, one transaction per batch: ``ledger.append(batch)`` vs
        the fastest of raw ``executemany``, a multi-row VALUES insert and an unnest insert;
    (c) the same appends again (every event already recorded);
    (d) ``ProjectionTable(..., Dispositions()).catch_up()`` over ``--catch-up`` events,
        an incremental catch-up of 10% more, and ``rebuild()``.

    .venv/bin/python benchmarks/ledger_append.py [--events 20000] [--single 2000]
        [--catch-up 100000] [--rounds 3] [--payload ticket|small] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.hashing import content_hash  # noqa: E402
from ledger.database import open_engine  # noqa: E402
from ledger.dispositions import Dispositions  # noqa: E402
from ledger.events import (  # noqa: E402
    Event,
    RecordMigrated,
    RecordQuarantined,
    SourceCaptured,
)
from ledger.projections import ProjectionTable  # noqa: E402
from ledger.store import Ledger  # noqa: E402

RAW_COLUMNS = "(migration_id, key, type, object, source_id, payload)"
RAW_ONE = (
    f"INSERT INTO raw_events {RAW_COLUMNS} VALUES (%s, %s, %s, %s, %s, %s::jsonb) "
    "ON CONFLICT (migration_id, key) DO NOTHING"
)
RAW_UNNEST = (
    f"INSERT INTO raw_events {RAW_COLUMNS} SELECT %s, k, t, o, s, p::jsonb "
    "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) AS x(k, t, o, s, p) "
    "ON CONFLICT (migration_id, key) DO NOTHING"
)
RAW_UNNEST_BINARY = RAW_UNNEST.replace("%s::text[]", "%b::text[]")

# --- the events ------------------------------------------------------------------------


def ticket(n: int) -> dict[str, Any]:
    """A Hesk ticket row of a realistic size (~600 bytes of JSON)."""
    return {
        "id": n,
        "trackid": f"ABC-{n:07d}",
        "name": f"Customer {n % 5000}",
        "email": f"customer{n % 5000}@example.test",
        "category": 1 + n % 7,
        "priority": n % 4,
        "subject": f"Order {n} arrived damaged, please advise",
        "message": "<p>Hello, the parcel arrived today and the box was crushed. "
        "Could you send a replacement? Thanks.</p>" * 2,
        "dt": "2024-03-01 10:15:00",
        "lastchange": "2024-03-02 08:00:00",
        "status": n % 4,
        "owner": n % 9,
        "custom1": "Premium",
        "custom2": "",
    }


PAYLOAD = {"ticket": ticket, "small": lambda n: {"id": n}}
RECORD = ticket


def captures(prefix: str, n: int) -> list[Event]:
    """``n`` SourceCaptured events with unique keys (``prefix`` keeps rounds apart)."""
    out: list[Event] = []
    for i in range(n):
        record = RECORD(i)
        record["round"] = prefix
        out.append(
            SourceCaptured(
                object="ticket",
                source_id=str(i),
                content_hash=content_hash(record),
                record=record,
                capture=prefix,
            )
        )
    return out


def dispositions_mix(n: int) -> list[Event]:
    """A Dispositions-shaped stream: captures, then settlements and some re-captures."""
    out: list[Event] = []
    objects = ("ticket", "reply", "contact", "attachment")
    records = n * 6 // 10
    for i in range(records):
        obj = objects[i % len(objects)]
        rec = ticket(i)
        out.append(
            SourceCaptured(object=obj, source_id=str(i), content_hash=content_hash(rec), record=rec)
        )
    i = 0
    while len(out) < n:
        obj = objects[i % len(objects)]
        rec = ticket(i % records)
        digest = content_hash(rec)
        kind = i % 10
        if kind < 8:
            ev: Event = RecordMigrated(
                object=obj,
                source_id=str(i % records),
                content_hash=digest,
                intercom_id=str(10_000_000 + i),
                intercom_type="conversation",
            )
        elif kind == 8:
            ev = RecordQuarantined(
                object=obj, source_id=str(i % records), content_hash=digest, reason="no email"
            )
        else:
            rec2 = dict(rec, status=9, round=i)
            ev = SourceCaptured(
                object=obj,
                source_id=str(i % records),
                content_hash=content_hash(rec2),
                record=rec2,
            )
        out.append(ev)
        i += 1
    return out


def as_raw_rows(events: Sequence[Event]) -> list[tuple[str, str, str, str, dict[str, Any]]]:
    """The plain (key, type, object, source_id, payload dict) a raw caller would hold."""
    return [(e.key, e.TYPE, e.object, e.source_id, e.payload()) for e in events]


def dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str)


# --- raw psycopg ------------------------------------------------------------------------


def raw_single(conn: psycopg.Connection, mid: str, rows: list) -> None:
    with conn.cursor() as cur:
        for k, t, o, s, p in rows:
            cur.execute(RAW_ONE, (mid, k, t, o, s, dumps(p)))
            conn.commit()


def raw_single_autocommit(conn: psycopg.Connection, mid: str, rows: list) -> None:
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for k, t, o, s, p in rows:
                cur.execute(RAW_ONE, (mid, k, t, o, s, dumps(p)))
    finally:
        conn.autocommit = False


def raw_executemany(conn: psycopg.Connection, mid: str, batch: list) -> None:
    with conn.cursor() as cur:
        cur.executemany(RAW_ONE, [(mid, k, t, o, s, dumps(p)) for k, t, o, s, p in batch])
    conn.commit()


def raw_values(conn: psycopg.Connection, mid: str, batch: list) -> None:
    placeholders = ",".join(["(%s,%s,%s,%s,%s,%s::jsonb)"] * len(batch))
    sql = (
        f"INSERT INTO raw_events {RAW_COLUMNS} VALUES {placeholders} "
        "ON CONFLICT (migration_id, key) DO NOTHING"
    )
    params: list[Any] = []
    for k, t, o, s, p in batch:
        params += (mid, k, t, o, s, dumps(p))
    with conn.cursor() as cur:
        cur.execute(sql, params)
    conn.commit()


def raw_unnest(conn: psycopg.Connection, mid: str, batch: list, sql: str = RAW_UNNEST) -> None:
    params = (
        mid,
        [r[0] for r in batch],
        [r[1] for r in batch],
        [r[2] for r in batch],
        [r[3] for r in batch],
        [dumps(r[4]) for r in batch],
    )
    with conn.cursor() as cur:
        cur.execute(sql, params)
    conn.commit()


def raw_unnest_binary(conn: psycopg.Connection, mid: str, batch: list) -> None:
    raw_unnest(conn, mid, batch, RAW_UNNEST_BINARY)


RAW_BATCH = {
    "executemany": raw_executemany,
    "values": raw_values,
    "unnest": raw_unnest,
    "unnest-binary": raw_unnest_binary,
}


def chunks(seq: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [seq[i : i + size] for i in range(0, len(seq), size)]


# --- measuring ---------------------------------------------------------------------------


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class Bench:
    """Both sides of every measurement, on one database."""

    def __init__(self, engine: sa.Engine, raw_dsn: str, rounds: int) -> None:
        self.engine = engine
        self.raw = psycopg.connect(raw_dsn)
        self.rounds = rounds
        self.results: list[tuple[str, float, float | None]] = []
        self._n = 0

    def mid(self, label: str) -> str:
        self._n += 1
        return f"bench-{label}-{self._n}"

    def pair(self, label: str, n: int, make: Callable[[int], tuple[Callable, Callable]]) -> None:
        """Median rate of each side over the rounds, alternating which side goes first."""
        ledger_rates: list[float] = []
        raw_rates: list[float] = []
        for r in range(self.rounds):
            ledger_fn, raw_fn = make(r)
            order = [(ledger_fn, ledger_rates), (raw_fn, raw_rates)]
            for fn, rates in order if r % 2 == 0 else reversed(order):
                rates.append(n / timed(fn))
        self.report(label, statistics.median(ledger_rates), statistics.median(raw_rates))

    def report(self, label: str, ledger_rate: float, raw_rate: float | None) -> None:
        self.results.append((label, ledger_rate, raw_rate))
        if raw_rate is None:
            print(f"  {label:<44} {ledger_rate:>10,.0f}/s", flush=True)
        else:
            print(
                f"  {label:<44} {ledger_rate:>10,.0f}/s {raw_rate:>10,.0f}/s "
                f"{ledger_rate / raw_rate:>6.0%}",
                flush=True,
            )

    # (a) single appends -------------------------------------------------------------

    def single(self, n: int) -> None:
        def make(_r: int) -> tuple[Callable, Callable]:
            mid = self.mid("single")
            events = captures(mid, n)
            rows = as_raw_rows(events)
            ledger = Ledger(self.engine, mid)

            def ledger_fn() -> None:
                for e in events:
                    ledger.append_one(e)

            return ledger_fn, lambda: raw_single(self.raw, mid, rows)

        self.pair("(a) single append, 1 txn each", n, make)

        def make_ac(_r: int) -> tuple[Callable, Callable]:
            mid = self.mid("single-ac")
            events = captures(mid, n)
            rows = as_raw_rows(events)
            ledger = Ledger(self.engine, mid)

            def ledger_fn() -> None:
                for e in events:
                    ledger.append_one(e)

            return ledger_fn, lambda: raw_single_autocommit(self.raw, mid, rows)

        self.pair("(a') single append vs raw autocommit", n, make_ac)
        self.single_mid = self.mid("single-dup")
        self._single_dup(n)

    def _single_dup(self, n: int) -> None:
        mid = self.single_mid
        events = captures(mid, n)
        rows = as_raw_rows(events)
        Ledger(self.engine, mid).append(events)
        raw_unnest(self.raw, mid, rows)
        ledger = Ledger(self.engine, mid)

        def make(_r: int) -> tuple[Callable, Callable]:
            def ledger_fn() -> None:
                for e in events:
                    assert not ledger.append_one(e)

            return ledger_fn, lambda: raw_single(self.raw, mid, rows)

        self.pair("(c) single append, already recorded", n, make)

    # (b) batches ---------------------------------------------------------------------

    def pick_raw(self, size: int, n: int) -> str:
        """The fastest raw batch method at this size (one untimed warm-up, then one try each)."""
        best, best_rate = "", 0.0
        for name, fn in RAW_BATCH.items():
            mid = self.mid(f"pick-{name}")
            rows = as_raw_rows(captures(mid, n))
            rate = n / timed(
                lambda fn=fn, mid=mid, rows=rows: [
                    fn(self.raw, mid, list(b)) for b in chunks(rows, size)
                ]
            )
            print(f"      raw {name:<13} batch {size:>5}: {rate:>10,.0f}/s", flush=True)
            if rate > best_rate:
                best, best_rate = name, rate
        return best

    def batched(self, size: int, n: int) -> None:
        method = self.pick_raw(size, n)
        raw_fn_of = RAW_BATCH[method]
        dup: dict[str, Any] = {}

        def make(_r: int) -> tuple[Callable, Callable]:
            mid = self.mid(f"batch{size}")
            events = captures(mid, n)
            rows = as_raw_rows(events)
            ledger = Ledger(self.engine, mid)
            dup.update(mid=mid, events=events, rows=rows)

            def ledger_fn() -> None:
                for b in chunks(events, size):
                    ledger.append(b)

            def raw_fn() -> None:
                for b in chunks(rows, size):
                    raw_fn_of(self.raw, mid, list(b))

            return ledger_fn, raw_fn

        self.pair(f"(b) batch of {size:,} (raw: {method})", n, make)

        # (c) the last round's events again: every one already recorded on both sides.
        ledger = Ledger(self.engine, dup["mid"])

        def make_dup(_r: int) -> tuple[Callable, Callable]:
            def ledger_fn() -> None:
                for b in chunks(dup["events"], size):
                    assert not any(ledger.append(b))

            def raw_fn() -> None:
                for b in chunks(dup["rows"], size):
                    raw_fn_of(self.raw, dup["mid"], list(b))

            return ledger_fn, raw_fn

        self.pair(f"(c) batch of {size:,}, already recorded", n, make_dup)

    # (d) projection catch-up -------------------------------------------------------------

    def catch_up(self, n: int) -> None:
        mid = self.mid("projection")
        ledger = Ledger(self.engine, mid)
        events = dispositions_mix(n + n // 10)
        first, more = events[:n], events[n:]
        for b in chunks(first, 1000):
            ledger.append(b)
        table = ProjectionTable(self.engine, mid, Dispositions())
        with self.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE events")
        self.report(f"(d) catch-up from empty, {n:,} events", n / timed(table.catch_up), None)
        for b in chunks(more, 1000):
            ledger.append(b)
        applied: list[int] = []
        secs = timed(lambda: applied.append(table.catch_up()))
        self.report(f"(d) incremental catch-up, {applied[0]:,} events", applied[0] / secs, None)
        total = len(events)
        self.report(f"(d) rebuild, {total:,} events", total / timed(table.rebuild), None)
        rows = sum(1 for _ in table.items())
        print(f"      ({rows:,} projection rows)", flush=True)

    def close(self) -> None:
        self.raw.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20_000, help="events per batched measurement")
    ap.add_argument("--single", type=int, default=2_000, help="events per single-append run")
    ap.add_argument("--catch-up", type=int, default=100_000, help="events for the projection")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per measurement (median)")
    ap.add_argument(
        "--payload",
        choices=sorted(PAYLOAD),
        default="ticket",
        help="captured record: a ~600-byte ticket, or {'id': n} (0 --catch-up skips (d))",
    )
    ap.add_argument(
        "--pg-url",
        default=os.environ.get("H2I_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432"),
        help="server URL without a database name",
    )
    args = ap.parse_args(argv)
    global RECORD
    RECORD = PAYLOAD[args.payload]

    name = f"h2i_bench_{os.getpid()}"
    base = args.pg_url.rstrip("/")
    engine = open_engine(f"{base}/{name}")
    raw_dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    bench: Bench | None = None
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE raw_events (LIKE events INCLUDING ALL)")
            server = conn.exec_driver_sql("SHOW server_version").scalar_one()
            sync = conn.exec_driver_sql("SHOW synchronous_commit").scalar_one()
        print(
            f"ledger_append — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, PostgreSQL {server} "
            f"(synchronous_commit={sync}), psycopg {psycopg.__version__}, "
            f"sqlalchemy {sa.__version__}; {args.payload} payloads; median of {args.rounds} rounds"
        )
        print(f"  {'operation':<44} {'ledger':>12} {'raw psycopg':>12} {'ratio':>6}")
        bench = Bench(engine, raw_dsn, args.rounds)
        bench.single(args.single)
        bench.batched(100, args.events)
        bench.batched(1000, args.events)
        if args.catch_up:
            bench.catch_up(args.catch_up)
    finally:
        if bench is not None:
            bench.close()
        engine.dispose()
        admin = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

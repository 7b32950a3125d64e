"""The protocol floor: the least one exactly-once write can cost, measured like the engine.

Per write, on one thread: one autocommit ``INSERT`` of the intent into the ledger's
``events`` table (same indexes and triggers as the engine's), one keep-alive ``POST
/contacts`` to the simulator over ``http.client`` (its JSON answer parsed), one autocommit
``INSERT`` of the outcome, JSON through the engine's codec (``core/json_codec.py``). No
planning, no reads, no pacing, no Dramatiq, no httpx: what is left when everything the
engine adds on top of the protocol itself is taken away.

``run_floor()`` starts ``processes`` child processes of this script with ``threads``
threads each, for ``seconds``, and answers writes and elapsed time; ``benchmarks/migrate.py``
runs it on the same worker and thread counts as the engine and samples CPU by process role.

    .venv/bin/python benchmarks/protocol_floor.py --base-url URL --token T --ledger-url URL \
        [--processes 2] [--threads 8] [--seconds 10]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from core import json_codec

#: Marks the child processes in /proc (the CPU sampler finds them by it).
CHILD_FLAG = "--floor-child"
INSERT = (
    "INSERT INTO events (migration_id, key, type, object, source_id, payload) "
    "VALUES (%s, %s, %s, 'contact', %s, %s::jsonb) ON CONFLICT (migration_id, key) DO NOTHING"
)


@dataclass
class FloorResult:
    """Writes made by every thread of every process, and the wall time they took."""

    processes: int
    threads: int
    writes: int
    seconds: float
    #: wall time the writes started (children connected and waiting until then)
    started_at: float = 0.0

    @property
    def writes_per_s(self) -> float:
        """Writes per second, all processes together."""
        return self.writes / self.seconds if self.seconds else 0.0


def _raw_pg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _thread(
    base_url: str,
    token: str,
    pg_url: str,
    migration: str,
    deadline: float,
    counts: list[int],
    slot: int,
) -> None:
    parts = urlsplit(base_url)
    conn = psycopg.connect(_raw_pg(pg_url), autocommit=True)
    web = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
    headers = {
        "Authorization": f"Bearer {token}",
        "Intercom-Version": "2.16",
        "Accept": "application/json",
        "Content-Type": "application/json",
    }
    n = 0
    tag = f"{os.getpid()}-{slot}"
    while time.monotonic() < deadline:
        source_id = f"{tag}-{n}"
        key = f"dst:create:contact:{source_id}:0123456789abcdef"
        body = {
            "role": "user",
            "external_id": f"floor:{source_id}",
            "email": f"floor-{source_id}@floor.example",
            "name": f"Floor {source_id}",
        }
        intent = {
            "operation": "create",
            "content_hash": "0123456789abcdef",
            "attempt": 1,
            "target": {"method": "POST", "path": "/contacts", "creates": "contact"},
        }
        conn.execute(INSERT, (migration, key, "WriteIntended", source_id, json_codec.dumps(intent)))
        web.request("POST", "/contacts", body=json_codec.dumps_bytes(body), headers=headers)
        response = web.getresponse()
        answer = json_codec.loads(response.read())
        outcome = {
            "intent_key": key,
            "intercom_id": str(answer.get("id", "")),
            "intercom_type": "contact",
            "created": True,
            "detail": {},
        }
        conn.execute(
            INSERT, (migration, key + "|ok", "WriteSucceeded", source_id, json_codec.dumps(outcome))
        )
        n += 1
    counts[slot] = n
    web.close()
    conn.close()


def child(
    base_url: str,
    token: str,
    pg_url: str,
    migration: str,
    threads: int,
    start_at: float,
    seconds: float,
) -> None:
    """One process: ``threads`` threads making floor writes from ``start_at`` (wall clock)
    for ``seconds``; prints the count."""
    time.sleep(max(0.0, start_at - time.time()))
    deadline = time.monotonic() + seconds
    counts = [0] * threads
    workers = [
        threading.Thread(
            target=_thread, args=(base_url, token, pg_url, migration, deadline, counts, i)
        )
        for i in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(json.dumps({"writes": sum(counts)}), flush=True)


def run_floor(
    base_url: str,
    token: str,
    pg_url: str,
    *,
    processes: int,
    threads: int,
    seconds: float,
    migration: str,
) -> FloorResult:
    """Run the floor in ``processes`` child processes × ``threads`` threads."""
    start_at = time.time() + 1.5  # every child connected and waiting by then
    args = [
        sys.executable,
        str(Path(__file__).resolve()),
        CHILD_FLAG,
        "--base-url",
        base_url,
        "--token",
        token,
        "--ledger-url",
        pg_url,
        "--migration",
        migration,
        "--threads",
        str(threads),
        "--seconds",
        str(seconds),
        "--start-at",
        str(start_at),
    ]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, text=True) for _ in range(processes)]
    writes = 0
    for proc in procs:
        out, _ = proc.communicate(timeout=seconds + 120)
        if proc.returncode != 0:
            raise RuntimeError(f"a floor process failed (exit {proc.returncode})")
        writes += int(json.loads(out.strip().splitlines()[-1])["writes"])
    return FloorResult(processes, threads, writes, seconds, start_at)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(CHILD_FLAG, action="store_true", dest="child")
    p.add_argument("--base-url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--ledger-url", required=True)
    p.add_argument("--migration", default=f"floor-{os.getpid()}")
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--start-at", type=float, default=0.0)
    args = p.parse_args(argv)
    if args.child:
        child(
            args.base_url,
            args.token,
            args.ledger_url,
            args.migration,
            args.threads,
            args.start_at,
            args.seconds,
        )
        return 0
    r = run_floor(
        args.base_url,
        args.token,
        args.ledger_url,
        processes=args.processes,
        threads=args.threads,
        seconds=args.seconds,
        migration=args.migration,
    )
    print(
        f"{r.writes:,} writes in {r.seconds:.1f} s = {r.writes_per_s:,.0f} writes/s "
        f"({r.processes} × {r.threads})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The protocol floor: the least one exactly-once write can cost, measured like the engine.

Per write, on one thread: one autocommit ``INSERT`` of the intent into the ledger's
``events`` table (same indexes and triggers as the engine's), one keep-alive ``POST
/contacts`` to the simulator over ``http.client`` (its JSON answer parsed), one autocommit
``INSERT`` of the outcome, JSON through the engine's codec (``core/json_codec.py``). No
planning, no reads, no pacing, no Dramatiq, no httpx: what is left when everything the
engine adds on top of the protocol itself is taken away.

``--shape conversations`` makes the same writes the way a ticket's unit does, for a
second look at the yardstick: per thread, one conversation created from a contact, then
``REPLIES`` admin replies of a Hesk reply's size into it (each answer is the whole
conversation, as Intercom's), then the next conversation. Its contact and admin are read
before the writes start. The target is judged against the default shape (contacts).

``run_floor()`` starts ``processes`` child processes of this script with ``threads``
threads each, for ``seconds``, and answers writes and elapsed time; ``benchmarks/migrate.py``
runs it on the same worker and thread counts as the engine and samples CPU by process role.

    .venv/bin/python benchmarks/protocol_floor.py --base-url URL --token T --ledger-url URL \
        [--processes 2] [--threads 8] [--seconds 10] [--shape contacts|conversations]
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
from typing import Any
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


#: The shapes of the floor's writes: contacts (the target's yardstick) or a ticket's thread.
SHAPES = ("contacts", "conversations")
#: Replies written into each conversation of the ``conversations`` shape (a ticket of the
#: benchmark's help desk has ~4.4).
REPLIES = 4
#: A reply's text, the length of a generated Hesk reply (~140 characters).
REPLY_TEXT = (
    "Thanks for the details. I checked the account settings and reset the export job; "
    "please try again and tell us whether the report arrives."
)


def _headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Intercom-Version": "2.16",
        "Accept": "application/json",
        "Content-Type": "application/json",
    }


def _connect(base_url: str) -> http.client.HTTPConnection:
    parts = urlsplit(base_url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)


def _call(
    web: http.client.HTTPConnection, headers: dict[str, str], method: str, path: str, body: Any
) -> dict[str, Any]:
    payload = None if body is None else json_codec.dumps_bytes(body)
    web.request(method, path, body=payload, headers=headers)
    answer: dict[str, Any] = json_codec.loads(web.getresponse().read())
    return answer


def thread_start(base_url: str, token: str, shape: str, slot: int) -> dict[str, str]:
    """What a thread of ``shape`` writes with, read before the writes start: for
    ``conversations``, its own contact (the conversations' author) and the admin (GET /me)."""
    if shape == "contacts":
        return {}
    web, headers = _connect(base_url), _headers(token)
    try:
        tag = f"{os.getpid()}-{slot}"
        contact = _call(
            web,
            headers,
            "POST",
            "/contacts",
            {"role": "user", "email": f"floor-{tag}@floor.example", "name": f"Floor {tag}"},
        )
        me = _call(web, headers, "GET", "/me", None)
        return {"contact_id": str(contact["id"]), "admin_id": str(me["id"])}
    finally:
        web.close()


def _write(
    n: int, tag: str, shape: str, start: dict[str, str], conversation: str
) -> tuple[str, str, str, dict[str, Any], str]:
    """The ``n``-th write of a thread: (source id, operation, path, body, creates)."""
    source_id = f"{tag}-{n}"
    body: dict[str, Any]
    if shape == "contacts":
        body = {
            "role": "user",
            "external_id": f"floor:{source_id}",
            "email": f"floor-{source_id}@floor.example",
            "name": f"Floor {source_id}",
        }
        return source_id, "create", "/contacts", body, "contact"
    at = 1_600_000_000 + n * 60
    if n % (REPLIES + 1) == 0:  # a new conversation, then its replies
        body = {
            "from": {"type": "user", "id": start["contact_id"]},
            "body": f"Ticket {source_id}: the monthly export stops halfway.",
            "created_at": at,
        }
        return source_id, "create", "/conversations", body, "conversation"
    body = {
        "message_type": "comment",
        "type": "admin",
        "admin_id": start["admin_id"],
        "body": f"<p>{REPLY_TEXT}</p>",
        "created_at": at,
        "skip_notifications": True,
    }
    return source_id, f"part:reply:{n}", f"/conversations/{conversation}/reply", body, ""


def _thread(
    base_url: str,
    token: str,
    pg_url: str,
    migration: str,
    deadline: float,
    counts: list[int],
    slot: int,
    shape: str = "contacts",
    start: dict[str, str] | None = None,
) -> None:
    conn = psycopg.connect(_raw_pg(pg_url), autocommit=True)
    web, headers = _connect(base_url), _headers(token)
    n = 0
    tag = f"{os.getpid()}-{slot}"
    conversation = ""
    while time.monotonic() < deadline:
        source_id, operation, path, body, creates = _write(n, tag, shape, start or {}, conversation)
        key = f"dst:{operation}:contact:{source_id}:0123456789abcdef"
        intent = {
            "operation": operation,
            "content_hash": "0123456789abcdef",
            "attempt": 1,
            "target": {"method": "POST", "path": path, "creates": creates},
        }
        conn.execute(INSERT, (migration, key, "WriteIntended", source_id, json_codec.dumps(intent)))
        web.request("POST", path, body=json_codec.dumps_bytes(body), headers=headers)
        response = web.getresponse()
        answer = json_codec.loads(response.read())
        made = str(answer.get("conversation_id") or answer.get("id", ""))
        if creates == "conversation":
            conversation = made
        outcome = {
            "intent_key": key,
            "intercom_id": made,
            "intercom_type": creates,
            "created": bool(creates),
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
    shape: str = "contacts",
) -> None:
    """One process: ``threads`` threads making floor writes of ``shape`` from ``start_at``
    (wall clock) for ``seconds``; prints the count."""
    starts = [thread_start(base_url, token, shape, i) for i in range(threads)]
    time.sleep(max(0.0, start_at - time.time()))
    deadline = time.monotonic() + seconds
    counts = [0] * threads
    workers = [
        threading.Thread(
            target=_thread,
            args=(base_url, token, pg_url, migration, deadline, counts, i, shape, starts[i]),
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
    shape: str = "contacts",
) -> FloorResult:
    """Run the floor in ``processes`` child processes × ``threads`` threads."""
    start_at = time.time() + 2.5  # every child connected and waiting by then
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
        "--shape",
        shape,
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
    p.add_argument("--shape", choices=SHAPES, default="contacts")
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
            args.shape,
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
        shape=args.shape,
    )
    print(
        f"{r.writes:,} writes in {r.seconds:.1f} s = {r.writes_per_s:,.0f} writes/s "
        f"({r.processes} × {r.threads})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

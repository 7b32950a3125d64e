"""End-to-end ``migrate`` throughput against the simulator (a real HTTP server, own process).

    (a) unthrottled simulator: writes/s over the write phase and tickets/s end to end with
        1, 2 and 4 worker processes (target >= 830 writes/s, 5x Intercom's ceiling);
    (b) throttled at Intercom's default (1,666 calls per 10 s): achieved share of the
        ceiling over the write phase (target >= 95%) and share of calls answered 429
        (target <= 1%);
    (c) API calls per migrated message (ticket first messages + replies + notes migrated;
        target <= 1.05), and calls per intended write (the protocol's own overhead);
    (d) the same figures with faults injected (5% lost responses, 2% 5xx, 2% 429, as the
        chaos test): what resolving in-doubt writes and retrying costs in calls;
    (e) both targets on the same generated Hesk at Intercom's default limit: conversations
        and tickets, calls per ticket and per message (every call counted: set-up,
        contacts, articles, lookups), calls per write and tickets per minute (target:
        tickets >= 25% fewer calls per ticket, 1.000 call per write).
    (f) several Intercom apps at Intercom's real limits (1,666 calls per 10 s per app, 4,166
        per 10 s for the workspace): 1, 2 and 3 apps (tokens), achieved calls per minute as
        a share of min(apps × 10,000, 25,000) (target >= 95%), share answered 429
        (target <= 1%), and whether any app ever went over its own limit (target: never);
        first the pacers alone (GET /me from 16 threads through the workers' shared pacers,
        no engine), then whole migrations, whose engine may be what binds on a small host;
    (g) the protocol floor (benchmarks/protocol_floor.py: intent INSERT, keep-alive POST,
        outcome INSERT, nothing else) on the same processes × threads as (a), in the same
        run, once just before and once just after each engine run, taken together (a
        shared host's speed drifts within a minute by as much as the gap being measured;
        with --skip-unthrottled, the floor alone at --workers):
        the engine's unthrottled writes/s as a share of the floor's (target >= 70%)
        and CPU ms per write by process, over the write phase only (target: workers +
        Postgres + coordinator <= 3.0 ms per write); with --rounds N, N engine runs, each
        between two floor runs, and the median of their ratios.

Each run: a fresh simulator process (``python -m simulator.server``), seeded with the help
desk's staff and categories, a fresh migration id in a throwaway ledger database, map
propose + confirm, then ``commands.migrate.run_migration`` in this process (the
coordinator) with N real Dramatiq worker processes. Writes are counted from the ledger
(WriteIntended / WriteSucceeded), API calls from the simulator's ``/_sim/stats`` (all
requests, lookups included, counted after the map was confirmed). The write phase runs
from the first WriteIntended to the last event (ledger ``recorded_at``); capture is timed
from the RunStarted to the CaptureCompleted event. A sampler reads ``/proc`` every 0.25 s
for the CPU time of the simulator, the workers, this process and the Postgres backends
connected to the bench ledger, so each run also says where the CPU went.

The Hesk databases (one per size, clean data) are generated once and dropped at the end,
with the ledger database, the Redis keys of the runs' migrations and the simulator
processes, unless ``--keep``.

    .venv/bin/python benchmarks/migrate.py [--tickets 1000] [--workers 1,2,4] [--threads 8]
        [--throttled-tickets 1200] [--throttled-workers 2] [--skip-throttled]
        [--skip-unthrottled] [--faulted-tickets 150] [--skip-faulted] [--rate-limit 1666]
        [--apps 1,2,3] [--apps-seconds 60] [--skip-apps] [--pacing-seconds 40] [--skip-pacing]
        [--floor-seconds 15] [--skip-floor] [--rounds 1] [--floor-shapes contacts]
        [--no-validate] [--profile DIR] [--keep] [--targets-tickets 300] [--skip-targets]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pymysql
import redis
from pydantic import SecretStr
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from commands.map import confirm, propose  # noqa: E402
from commands.migrate import run_migration  # noqa: E402
from commands.options import MigrateOptions  # noqa: E402
from core.intercom_limits import (  # noqa: E402
    APP_CALLS_PER_WINDOW,
    RATE_WINDOW_SECONDS,
    WORKSPACE_CALLS_PER_WINDOW,
)
from core.ports import free_port  # noqa: E402
from core.settings import Settings, load_settings  # noqa: E402
from hesk.demo_data import DirtyKnobs, generate  # noqa: E402
from hesk.reader import HeskReader  # noqa: E402
from ledger.database import open_engine  # noqa: E402
from ledger.generations import active_ledger_id  # noqa: E402
from mapping.mapfile import dump_map_yaml  # noqa: E402
from reports.report import build_report  # noqa: E402
from workers.broker import namespace  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol_floor import CHILD_FLAG, SHAPES, FloorResult, run_floor  # noqa: E402

#: One token per private app of the simulated workspace; runs use the first N.
TOKENS = ["bench-token-0123456789", "bench-token-app2-98765", "bench-token-app3-45678"]
TOKEN = TOKENS[0]
#: The simulator's admin API (/_sim) takes any of its tokens.
ADMIN_HEADERS = {"Authorization": f"Bearer {TOKEN}"}
INTERCOM_DEFAULT_LIMIT = APP_CALLS_PER_WINDOW  # calls per 10 s per app
INTERCOM_WORKSPACE_LIMIT = WORKSPACE_CALLS_PER_WINDOW  # per 10 s for the workspace
UNTHROTTLED = 10_000_000
CLK = os.sysconf("SC_CLK_TCK")
MESSAGES = ("ticket", "reply", "note")
#: Reads of the workspace's catalog that do not grow with the tickets: the token check
#: (``GET /me``), and the look-ups that precede the create of a named object (find-or-create
#: of the ticket type, pre-checks of tags, attributes, collections and articles). Every
#: other read (a contact, a ticket, a conversation, a search) counts against the writes.
SETUP_READS = (
    "GET /me",
    "GET /ticket_types",
    "GET /ticket_types/{ticket_type_id}",
    "GET /ticket_states",
    "GET /tags",
    "GET /conversations/attributes",
    "GET /data_attributes",
    "GET /help_center/collections",
    "GET /articles",
    "GET /admins",
    "GET /teams",
)
FAULTS = "rate_lost_response=0.05,rate_5xx=0.02,rate_429=0.02,seed=5"
#: API calls per ticket of a generated help desk (about 9.8 measured), to size runs by time.
CALLS_PER_TICKET = 9.8


# --- processes and CPU ------------------------------------------------------------------


def host_speed() -> float:
    """CPU seconds for 10⁷ Python additions: shared hosts vary run to run (0.86 to 1.64 s
    seen on one machine in one day), and every figure here scales with it."""
    t0 = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.process_time() - t0


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of one process from /proc (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields_ = f.read().rsplit(b")", 1)[1].split()
        return (int(fields_[11]) + int(fields_[12])) / CLK
    except (OSError, IndexError, ValueError):
        return None


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def stat_fields(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None


#: A process this old (seconds) that is not ours is never looked at again: its title is
#: set (a new Postgres backend names its database once authenticated, a forked child
#: its program once it execs).
SETTLED_AGE = 2.0


class CpuSampler:
    """Last-seen cumulative CPU of the run's processes, by role, sampled in a thread.

    Roles: ``simulator`` (its pid), ``workers`` (dramatiq processes and floor children
    under this one), ``postgres`` (backends whose title names the bench ledger database),
    ``redis`` (the server at ``redis_address``, host:port, when it runs on this machine)
    and ``coordinator`` (this process, less the sampler thread's own CPU).

    Each process is classified once it has settled (SETTLED_AGE), so a sample reads the
    stat of the run's own processes only, not the title of every process on the machine:
    reading them all four times a second cost about 40 ms of CPU per second.
    """

    def __init__(
        self, simulator_pid: int, ledger_db: str, interval: float = 0.25, redis_address: str = ""
    ) -> None:
        self.simulator_pid = simulator_pid
        self.ledger_db = ledger_db
        self.redis_address = redis_address
        self.interval = interval
        self.start_cpu: dict[int, float] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self.worker_pids: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._t0 = os.times()
        #: role of every process looked at: a role, "" for one of ours without a role
        #: (yet), None for one that is not ours
        self._me = os.getpid()
        self._roles: dict[int, str | None] = {self._me: ""}
        self._sampler_cpu = 0.0  # the sampler thread's own CPU, left out of coordinator
        #: (wall time, totals by role) at every sample, to cut out a phase afterwards
        self.history: list[tuple[float, dict[str, float]]] = []

    def _age(self, fields: list[bytes]) -> float:
        with open("/proc/uptime", "rb") as f:
            uptime = float(f.read().split()[0])
        return uptime - int(fields[19]) / CLK  # field 22 of stat: start time, in ticks

    def _classify(self, pid: int) -> None:
        fields = stat_fields(pid)
        if fields is None:
            self._roles[pid] = None
            return
        line = cmdline(pid)
        ppid = int(fields[1])
        role: str | None
        if pid == self.simulator_pid:
            role = "simulator"
        elif line.startswith("postgres:") and f" {self.ledger_db} " in line:
            role = "postgres"
        elif self.redis_address and line.startswith("redis-server") and self.redis_address in line:
            role = "redis"
        elif self._roles.get(ppid) is not None:  # a descendant of this process
            role = "workers" if "dramatiq" in line or CHILD_FLAG in line else ""
        else:
            role = None
        if role or self._age(fields) > SETTLED_AGE:
            self._roles[pid] = role
            if role == "workers" and pid not in self.worker_pids:
                self.worker_pids.append(pid)

    def _sample(self) -> None:
        for pid in sorted(int(e) for e in os.listdir("/proc") if e.isdigit()):
            if pid != self._me and self._roles.get(pid, "") == "":  # new, or ours without a role
                self._classify(pid)
        for pid, role in self._roles.items():
            if not role:
                continue
            cpu = cpu_seconds(pid)
            if cpu is None:
                continue
            if pid not in self.start_cpu:
                # A process first seen now: count it from zero unless it predates the run
                # (the simulator and old Postgres backends): then from this reading.
                self.start_cpu[pid] = cpu if role in ("simulator", "redis") else 0.0
            self.last[pid] = (role, cpu)
        self.history.append((time.time(), self.totals()))

    def _loop(self) -> None:
        while not self._stop.is_set():
            t0 = time.thread_time()
            with suppress(Exception):
                self._sample()
            self._sampler_cpu += time.thread_time() - t0
            self._stop.wait(self.interval)

    def __enter__(self) -> CpuSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def totals(self) -> dict[str, float]:
        out = {"simulator": 0.0, "workers": 0.0, "postgres": 0.0, "redis": 0.0}
        for pid, (role, cpu) in self.last.items():
            out[role] += cpu - self.start_cpu.get(pid, 0.0)
        t1 = os.times()
        own = (t1.user - self._t0.user) + (t1.system - self._t0.system)
        out["coordinator"] = own - self._sampler_cpu
        return out

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds by role from wall time ``start`` to ``end`` (nearest samples)."""
        if not self.history:
            return self.totals()

        def at(t: float) -> dict[str, float]:
            return min(self.history, key=lambda h: abs(h[0] - t))[1]

        a, b = at(start), at(end)
        return {role: b[role] - a.get(role, 0.0) for role in b}


class Simulator:
    """The Intercom simulator in its own process (so it does not share our GIL)."""

    def __init__(
        self,
        rate_limit: int,
        validate: bool,
        log_dir: Path,
        faults: str = "",
        workspace_rate_limit: int | None = None,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        args = [
            sys.executable,
            "-m",
            "simulator.server",
            "--port",
            str(self.port),
            "--rate-limit",
            str(rate_limit),
            "--tokens",
            ",".join(TOKENS),
            "--workspace-rate-limit",
            str(workspace_rate_limit or rate_limit),
        ]
        if not validate:
            args.append("--no-validate")
        if faults:
            args += ["--faults", faults]
        env = {
            **os.environ,
            "H2I_INTERCOM_TOKEN": TOKEN,
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log = (log_dir / f"simulator-{self.port}.log").open("ab")
        self.proc = subprocess.Popen(
            args,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        self.http = httpx.Client(base_url=self.base_url, timeout=30, headers=ADMIN_HEADERS)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.http.get("/_sim/stats").raise_for_status()
                return
            except httpx.HTTPError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"the simulator did not start (see {self.log.name})"
                    ) from None
                time.sleep(0.2)

    def stats(self) -> dict[str, Any]:
        return self.http.get("/_sim/stats").json()

    def seed(self, body: dict[str, Any]) -> None:
        self.http.post("/_sim/reset", json={}).raise_for_status()
        self.http.post("/_sim/seed", json=body).raise_for_status()

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


# --- sources and ledger -----------------------------------------------------------------


@dataclass
class Source:
    url: str
    database: str
    attachments: Path
    tickets: int
    replies: int
    notes: int
    seed_body: dict[str, Any] = field(default_factory=dict)


def make_source(tickets: int, seed: int, hesk_server: str, work: Path) -> Source:
    database = f"h2i_bench_migrate_hesk_{tickets}_{os.getpid()}"
    url = f"{hesk_server.rstrip('/')}/{database}"
    folder = work / f"attachments-{tickets}"
    t0 = time.monotonic()
    summary = generate(url, folder, tickets=tickets, seed=seed, dirty=DirtyKnobs.clean())
    print(
        f"  generated {database}: {summary.tickets} tickets, {summary.replies} replies, "
        f"{summary.notes} notes in {time.monotonic() - t0:.1f} s",
        flush=True,
    )
    with HeskReader(url) as reader:
        staff = [s for s in reader.iter_records("staff") if s.email]
        categories = list(reader.iter_records("category"))
    body = {
        "admins": [{"name": s.name, "email": s.email} for s in staff],
        "teams": [{"name": c.name} for c in categories],
        "contacts": [],
    }
    return Source(url, database, folder, summary.tickets, summary.replies, summary.notes, body)


def drop_hesk(source: Source) -> None:
    conn = pymysql.connect(host="127.0.0.1", user="root")
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{source.database}`")
    finally:
        conn.close()


def pg_admin(pg_server: str) -> psycopg.Connection:
    raw = pg_server.replace("postgresql+psycopg://", "postgresql://").rstrip("/")
    return psycopg.connect(raw + "/postgres", autocommit=True)


def drop_ledger(pg_server: str, name: str) -> None:
    with pg_admin(pg_server) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


#: Redis URL and namespace of each migration this run made (its queues' keys are dropped
#: with its databases, unless --keep).
NAMESPACES: list[tuple[str, str]] = []


def drop_namespaces() -> None:
    """Delete the Redis keys of the migrations this run made (their workers are gone)."""
    for url, name in NAMESPACES:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{name}:*", count=1000))
        if keys:
            client.delete(*keys)
    NAMESPACES.clear()


def pg_counters(pg_server: str, name: str) -> tuple[int, int]:
    """Committed transactions and rows inserted in the ledger database so far."""
    with pg_admin(pg_server) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT xact_commit + xact_rollback, tup_inserted FROM pg_stat_database "
            "WHERE datname = %s",
            (name,),
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def redis_commands(url: str) -> int:
    """Commands the Redis server has run (all clients: other users add noise)."""
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("stats")["total_commands_processed"])
    finally:
        client.close()


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- one run ----------------------------------------------------------------------------


@dataclass
class RunResult:
    label: str
    workers: int
    threads: int
    rate_limit: int
    tickets: int
    capture_s: float
    write_s: float
    total_s: float
    writes_intended: int
    writes_succeeded: int
    #: distinct writes (steps): re-attempts after a proven miss are not counted again
    writes: int
    api_calls: int
    rate_limited: int
    messages: int
    migrated: dict[str, int]
    pending: int
    quarantined: int
    pg_xacts: int
    redis_cmds: int
    by_operation: dict[str, int]
    cpu: dict[str, float]
    load_before: str
    load_after: str
    apps: int = 1
    #: per app (by the simulator's id): requests, 429s, and requests over the app's own limit
    app_stats: dict[str, dict[str, int]] = field(default_factory=dict)
    workspace_rate_limit: int = 0
    #: CPU seconds by role from the first write to the last event (start-up excluded)
    write_cpu: dict[str, float] = field(default_factory=dict)
    #: calls that are set-up reads (SETUP_READS): fixed by the catalog, not by the tickets
    setup_reads: int = 0

    @property
    def calls_per_write(self) -> float:
        """(calls - set-up reads) / distinct writes: 1.000 = no call besides the writes."""
        return (self.api_calls - self.setup_reads) / max(self.writes, 1)

    @property
    def writes_per_s(self) -> float:
        return self.writes_intended / self.write_s if self.write_s else 0.0

    @property
    def calls_per_s(self) -> float:
        return self.api_calls / self.write_s if self.write_s else 0.0

    @property
    def tickets_per_s(self) -> float:
        return self.migrated.get("ticket", 0) / self.total_s if self.total_s else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out.update(
            writes_per_s=round(self.writes_per_s, 1),
            calls_per_s=round(self.calls_per_s, 1),
            tickets_per_s=round(self.tickets_per_s, 2),
        )
        return out


PHASE_SQL = """
SELECT
  (SELECT min(recorded_at) FROM events WHERE migration_id = %(m)s AND type = 'RunStarted'),
  (SELECT max(recorded_at) FROM events WHERE migration_id = %(m)s AND type = 'CaptureCompleted'),
  (SELECT min(recorded_at) FROM events WHERE migration_id = %(m)s AND type = 'WriteIntended'),
  (SELECT max(recorded_at) FROM events WHERE migration_id = %(m)s),
  (SELECT count(*) FROM events WHERE migration_id = %(m)s AND type = 'WriteIntended'),
  (SELECT count(*) FROM events WHERE migration_id = %(m)s AND type = 'WriteSucceeded'),
  (SELECT count(DISTINCT regexp_replace(key, '#[0-9]+$', '')) FROM events
   WHERE migration_id = %(m)s AND type = 'WriteIntended')
"""


def run_once(
    label: str,
    source: Source,
    *,
    workers: int,
    threads: int,
    rate_limit: int,
    validate: bool,
    pg_server: str,
    ledger_db: str,
    work: Path,
    profile: Path | None,
    faults: str = "",
    target: str = "conversations",
    apps: int = 1,
    workspace_rate_limit: int | None = None,
) -> RunResult:
    ledger_url = f"{pg_server.rstrip('/')}/{ledger_db}"
    sim = Simulator(rate_limit, validate, work / "logs", faults, workspace_rate_limit)
    spies: list[subprocess.Popen[bytes]] = []
    try:
        sim.seed(source.seed_body)
        settings: Settings = load_settings(
            ledger_url=ledger_url,
            hesk_url=source.url,
            hesk_attachments_dir=source.attachments,
            intercom_base_url=sim.base_url,
            intercom_token=SecretStr(",".join(TOKENS[:apps])),
            # the workspace's budget: Intercom's where it is simulated, else out of the way
            intercom_workspace_rate=(workspace_rate_limit or max(rate_limit, 4_166)) * 6,
            migration=f"bench-{label}-{uuid.uuid4().hex[:6]}",
        )
        NAMESPACES.append((settings.redis_url, namespace(settings.migration)))
        map_file = work / f"{settings.migration}.yaml"
        map_file.write_text(dump_map_yaml(propose(settings, target)), encoding="utf-8")
        confirm(settings, map_file)
        before = sim.stats()
        options = MigrateOptions(
            workers=workers, threads=threads, log_dir=work / "logs" / settings.migration
        )
        load_before = load_average()
        pg_before = pg_counters(pg_server, ledger_db)
        redis_before = redis_commands(settings.redis_url)
        redis_at = urlsplit(settings.redis_url)
        address = f":{redis_at.port or 6379}"  # its process title names the port
        with CpuSampler(sim.proc.pid, ledger_db, redis_address=address) as sampler:
            if profile is not None:
                start_profilers(sampler, sim.proc.pid, profile, label, spies)
            t0 = time.monotonic()
            run_migration(settings, options, Console(file=io.StringIO()))
            total_s = time.monotonic() - t0
            cpu = sampler.totals()
            history = sampler
        load_after = load_average()
        after = sim.stats()
        time.sleep(0.6)  # backends that just exited flush their statistics
        pg_after = pg_counters(pg_server, ledger_db)
        redis_after = redis_commands(settings.redis_url)
        engine = open_engine(ledger_url)
        try:
            ledger_id = active_ledger_id(engine, settings.migration)
            with engine.connect() as conn:
                started, captured, first_write, last, intended, succeeded, steps = (
                    conn.exec_driver_sql(PHASE_SQL, {"m": ledger_id}).one()
                )
            report = build_report(engine, ledger_id)
            with engine.connect() as conn:
                by_operation = dict(
                    conn.exec_driver_sql(
                        "SELECT object || ' ' || regexp_replace(payload->>'operation', "
                        "':[0-9]+$', ''), count(*) FROM events WHERE migration_id = %(m)s "
                        "AND type = 'WriteIntended' GROUP BY 1 ORDER BY 2 DESC",
                        {"m": ledger_id},
                    ).all()
                )
        finally:
            engine.dispose()
        objects = report["objects"]
        migrated = {o: objects[o]["migrated"] for o in objects}
        app_stats = {
            app: {k: n - before["apps"].get(app, {}).get(k, 0) for k, n in counts.items()}
            for app, counts in after["apps"].items()
        }
        write_cpu = (
            history.between(first_write.timestamp(), last.timestamp()) if first_write else {}
        )
        return RunResult(
            label=label,
            workers=workers,
            threads=threads,
            rate_limit=rate_limit,
            tickets=source.tickets,
            capture_s=(captured - started).total_seconds(),
            write_s=(last - first_write).total_seconds() if first_write else 0.0,
            total_s=total_s,
            writes_intended=int(intended),
            writes_succeeded=int(succeeded),
            writes=int(steps),
            api_calls=after["requests_total"] - before["requests_total"],
            rate_limited=after["rate_limited"] - before["rate_limited"],
            messages=sum(migrated.get(o, 0) for o in MESSAGES),
            migrated=migrated,
            pending=sum(c["pending"] for c in objects.values()),
            quarantined=sum(c["quarantined"] for c in objects.values()),
            pg_xacts=pg_after[0] - pg_before[0],
            redis_cmds=redis_after - redis_before,
            by_operation={str(k): int(v) for k, v in by_operation.items()},
            cpu={k: round(v, 2) for k, v in cpu.items()},
            load_before=load_before,
            load_after=load_after,
            apps=apps,
            app_stats=app_stats,
            workspace_rate_limit=workspace_rate_limit or 0,
            write_cpu={k: round(v, 3) for k, v in write_cpu.items()},
            setup_reads=setup_reads(before, after),
        )
    finally:
        for spy in spies:
            with suppress(ProcessLookupError):
                os.killpg(spy.pid, signal.SIGINT)
            try:
                spy.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(spy.pid, signal.SIGKILL)
        sim.stop()


def setup_reads(before: dict[str, Any], after: dict[str, Any]) -> int:
    """How many calls between two ``/_sim/stats`` readings were set-up reads."""

    def total(stats: dict[str, Any], key: str) -> int:
        return sum((stats.get("requests") or {}).get(key, {}).values())

    return sum(total(after, k) - total(before, k) for k in SETUP_READS)


@dataclass
class PacingRun:
    """The shared pacers alone (no engine): calls per minute several apps achieve."""

    apps: int
    seconds: float
    calls: int
    rate_limited: int
    over_app_limit: int
    per_app: list[int]
    #: CPU seconds of this (the calling) process per wall second: near 1, the GIL binds
    client_cpu_per_s: float = 0.0


def pacing_once(apps: int, seconds: float, threads: int, work: Path) -> PacingRun:
    """``threads`` threads calling ``GET /me`` as fast as the pacers allow, through one
    AppSet of ``apps`` tokens paced as the workers pace (per-app and workspace windows in
    Redis), against a simulator at Intercom's limits: what the pacing can reach when the
    engine is not the bottleneck."""
    import redis as redis_lib

    from intercom_api.apps import AppSet
    from intercom_api.client import IntercomClient
    from workers.pacing import SharedPacer

    sim = Simulator(
        INTERCOM_DEFAULT_LIMIT, False, work / "logs", workspace_rate_limit=INTERCOM_WORKSPACE_LIMIT
    )
    client = redis_lib.Redis.from_url("redis://127.0.0.1:6379/0")
    base = f"h2i-bench-pacing-{uuid.uuid4().hex[:6]}:pace"
    try:
        app_set = AppSet(
            TOKENS[:apps],
            pacer_for=lambda fp: SharedPacer(client, f"{base}:{fp}"),
            workspace=SharedPacer(client, f"{base}:workspace", limit=25_000 // 6, learn=False),
        )
        before = sim.stats()
        stop = time.monotonic() + seconds

        def call() -> None:
            with IntercomClient(sim.base_url, app_set) as api:
                while time.monotonic() < stop:
                    api.me()

        pool = [threading.Thread(target=call) for _ in range(threads)]
        cpu0 = time.process_time()
        t0 = time.monotonic()
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        elapsed = time.monotonic() - t0
        cpu = time.process_time() - cpu0
        after = sim.stats()
        per_app = [
            after["apps"][a]["requests_total"] - before["apps"][a]["requests_total"]
            for a in after["apps"]
        ]
        return PacingRun(
            apps,
            elapsed,
            after["requests_total"] - before["requests_total"],
            after["rate_limited"] - before["rate_limited"],
            sum(a["over_app_limit"] for a in after["apps"].values()),
            [n for n in per_app if n],
            cpu / elapsed,
        )
    finally:
        for key in client.scan_iter(f"{base}*"):
            client.delete(key)
        client.close()
        sim.stop()


@dataclass
class FloorRun:
    """The protocol floor at one processes × threads, with its CPU by role."""

    result: FloorResult
    cpu: dict[str, float]
    load: str
    #: writes/s of each run taken together here (before and after an engine run)
    parts: tuple[float, ...] = ()


def together(runs: list[FloorRun]) -> FloorRun:
    """Several floor runs as one: their writes over their seconds, their CPU summed."""
    first = runs[0].result
    result = FloorResult(
        first.processes,
        first.threads,
        sum(r.result.writes for r in runs),
        sum(r.result.seconds for r in runs),
    )
    cpu = {k: round(sum(r.cpu.get(k, 0.0) for r in runs), 3) for k in runs[0].cpu}
    parts = tuple(r.result.writes_per_s for r in runs)
    return FloorRun(result, cpu, " / ".join(r.load for r in runs), parts)


def floor_once(
    *,
    workers: int,
    threads: int,
    seconds: float,
    validate: bool,
    pg_server: str,
    ledger_db: str,
    work: Path,
    shape: str = "contacts",
) -> FloorRun:
    """The floor (benchmarks/protocol_floor.py) of ``shape`` against a fresh unthrottled
    simulator."""
    ledger_url = f"{pg_server.rstrip('/')}/{ledger_db}"
    sim = Simulator(UNTHROTTLED, validate, work / "logs")
    try:
        sim.seed({"admins": [], "teams": [], "contacts": []})
        with CpuSampler(sim.proc.pid, ledger_db, interval=0.2) as sampler:
            result = run_floor(
                sim.base_url,
                TOKEN,
                ledger_url,
                processes=workers,
                threads=threads,
                seconds=seconds,
                migration=f"floor-{uuid.uuid4().hex[:6]}",
                shape=shape,
            )
            time.sleep(0.3)
        cpu = sampler.between(result.started_at, result.started_at + seconds)
        return FloorRun(result, {k: round(v, 3) for k, v in cpu.items()}, load_average())
    finally:
        sim.stop()


def start_profilers(
    sampler: CpuSampler,
    simulator_pid: int,
    out: Path,
    label: str,
    spies: list[subprocess.Popen[bytes]],
) -> None:
    """py-spy folded stacks: the workers (threads holding the GIL only) and the simulator."""
    out.mkdir(parents=True, exist_ok=True)
    spy = str(Path(sys.executable).with_name("py-spy"))

    def record(pid: int, name: str, *extra: str) -> None:
        spies.append(
            subprocess.Popen(
                [
                    spy,
                    "record",
                    "--nonblocking",
                    "-r",
                    os.environ.get("H2I_BENCH_SPY_RATE", "100"),
                    "-f",
                    "raw",
                    *extra,
                    "-o",
                    str(out / f"{label}-{name}.txt"),
                    "--pid",
                    str(pid),
                ],
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    def wait_for_workers() -> None:
        for _ in range(600):
            if sampler.worker_pids:
                record(sampler.worker_pids[0], "workers", "--subprocesses", "--gil")
                return
            time.sleep(0.05)

    record(simulator_pid, "simulator")
    threading.Thread(target=wait_for_workers, daemon=True).start()


# --- output -----------------------------------------------------------------------------


def print_unthrottled(results: list[RunResult]) -> None:
    print("\n(a) unthrottled simulator")
    print(
        "| workers × threads | tickets | capture (s) | write phase (s) | end to end (s) "
        "| writes | writes/s | tickets/s (end to end) | API calls/s | CPU s: workers / "
        "simulator / postgres / coordinator | load avg before → after |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for r in results:
        c = r.cpu
        print(
            f"| {r.workers} × {r.threads} | {r.tickets:,} | {r.capture_s:.1f} | "
            f"{r.write_s:.1f} | {r.total_s:.1f} | {r.writes_intended:,} | "
            f"{r.writes_per_s:,.0f} | {r.tickets_per_s:,.1f} | {r.calls_per_s:,.0f} | "
            f"{c['workers']:.1f} / {c['simulator']:.1f} / {c['postgres']:.1f} / "
            f"{c['coordinator']:.1f} | {r.load_before.split()[0]} → "
            f"{r.load_after.split()[0]} |"
        )


def print_throttled(r: RunResult) -> None:
    ceiling = r.rate_limit / 10
    print(f"\n(b) throttled at {r.rate_limit} calls / 10 s (ceiling {ceiling:.1f} calls/s)")
    print(
        "| workers × threads | tickets | write phase (s) | API calls | calls/s | share of "
        "ceiling | 429 answers | share 429 | load avg before → after |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    print(
        f"| {r.workers} × {r.threads} | {r.tickets:,} | {r.write_s:.1f} | {r.api_calls:,} | "
        f"{r.calls_per_s:.1f} | {r.calls_per_s / ceiling:.1%} | {r.rate_limited:,} | "
        f"{r.rate_limited / max(r.api_calls, 1):.2%} | {r.load_before.split()[0]} → "
        f"{r.load_after.split()[0]} |"
    )


def print_calls(results: list[RunResult]) -> None:
    print(
        "\nround trips per intended write (Postgres transactions from pg_stat_database; "
        "Redis commands from INFO, all clients) and CPU ms per write"
    )
    print(
        "| run | writes | Postgres xacts / write | Redis cmds / write | CPU ms / write: "
        "workers / simulator / postgres / coordinator |"
    )
    print("|---|---:|---:|---:|---|")
    for r in results:
        n = max(r.writes_intended, 1)
        c = r.cpu
        print(
            f"| {r.label} | {r.writes_intended:,} | {r.pg_xacts / n:.2f} | "
            f"{r.redis_cmds / n:.2f} | {1000 * c['workers'] / n:.2f} / "
            f"{1000 * c['simulator'] / n:.2f} / {1000 * c['postgres'] / n:.2f} / "
            f"{1000 * c['coordinator'] / n:.2f} |"
        )
    print("\n(c) API calls per migrated message")
    print(
        "| run | messages migrated (tickets + replies + notes) | writes intended | "
        "API calls | set-up reads | calls per message | calls per write | "
        "writes per message |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(
        "(calls per write = (API calls - set-up reads) / distinct writes: lookups, re-sends "
        "and 429s included; 1.000 = the protocol costs nothing on top of the writes "
        "themselves. Set-up reads: GET /me and the catalog look-ups before a named object's "
        "create, fixed by the catalog; calls per message counts them)"
    )
    for r in results:
        print(
            f"| {r.label} | {r.messages:,} ({r.migrated.get('ticket', 0):,} + "
            f"{r.migrated.get('reply', 0):,} + {r.migrated.get('note', 0):,}) | "
            f"{r.writes_intended:,} | {r.api_calls:,} | {r.setup_reads:,} | "
            f"{r.api_calls / max(r.messages, 1):.3f} | "
            f"{r.calls_per_write:.3f} | "
            f"{r.writes_intended / max(r.messages, 1):.3f} |"
        )


def print_apps(results: list[RunResult]) -> None:
    print(
        "\n(f) several Intercom apps at Intercom's limits (1,666 calls / 10 s per app, "
        "4,166 / 10 s per workspace)"
    )
    print(
        "| apps | tickets | write phase (s) | API calls | calls/min | ceiling/min | share | "
        "429 answers | share 429 | over an app's own limit | calls per app | load avg |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for r in results:
        ceiling = min(r.apps * 10_000, 25_000)
        per_min = r.calls_per_s * 60
        over = sum(a.get("over_app_limit", 0) for a in r.app_stats.values())
        per_app = " / ".join(
            str(a["requests_total"]) for a in r.app_stats.values() if a["requests_total"]
        )
        print(
            f"| {r.apps} | {r.tickets:,} | {r.write_s:.1f} | {r.api_calls:,} | "
            f"{per_min:,.0f} | {ceiling:,} | {per_min / ceiling:.1%} | {r.rate_limited:,} | "
            f"{r.rate_limited / max(r.api_calls, 1):.2%} | {over} | {per_app} | "
            f"{r.load_before.split()[0]} → {r.load_after.split()[0]} |"
        )


def print_pacing(runs: list[PacingRun]) -> None:
    print("\n(f) the pacers alone at Intercom's limits (GET /me from 16 threads; no engine)")
    print(
        "| apps | seconds | calls | calls/min | ceiling/min | share | 429 answers | "
        "over an app's own limit | calls per app | caller CPU s per s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in runs:
        ceiling = min(r.apps * 10_000, 25_000)
        per_min = r.calls / r.seconds * 60
        print(
            f"| {r.apps} | {r.seconds:.1f} | {r.calls:,} | {per_min:,.0f} | {ceiling:,} | "
            f"{per_min / ceiling:.1%} | {r.rate_limited} | {r.over_app_limit} | "
            f"{' / '.join(map(str, r.per_app))} | {r.client_cpu_per_s:.2f} |"
        )


def print_floor(pairs: list[tuple[RunResult | None, FloorRun]], shape: str) -> None:
    print(
        f"\n(g) the engine against the protocol floor, {shape} (same processes × threads; CPU "
        "over the write phase only, start-up excluded)"
        + ("" if shape == "contacts" else "; a second look: the target is judged on contacts")
    )
    print(
        "| workers × threads | floor writes/s (before / after the engine) | engine writes/s "
        "| engine / floor | CPU ms "
        "per write, floor: workers / postgres / simulator | engine: workers / postgres / "
        "coordinator / simulator | engine CPU (workers + postgres + coordinator) | engine: "
        "Redis | engine / floor by CPU per write (every process measured) |"
    )
    print("|---|---:|---:|---:|---|---|---:|---:|---:|")
    ratios: dict[int, list[tuple[float, float]]] = {}  # workers -> (by writes/s, by CPU)
    for engine, floor in pairs:
        f, n = floor.cpu, max(floor.result.writes, 1)
        rate = f"{floor.result.writes_per_s:,.0f}"
        if len(floor.parts) > 1:
            rate += " (" + " / ".join(f"{p:,.0f}" for p in floor.parts) + ")"
        floor_cpu = (
            f"{1000 * f['workers'] / n:.2f} / {1000 * f['postgres'] / n:.2f} / "
            f"{1000 * f['simulator'] / n:.2f}"
        )
        if engine is None:  # (a) skipped: the floor alone
            print(
                f"| {floor.result.processes} × {floor.result.threads} | {rate} | — | — | "
                f"{floor_cpu} | — | — | — | — |"
            )
            continue
        e, m = engine.write_cpu, max(engine.writes_intended, 1)
        own = 1000 * (e.get("workers", 0) + e.get("postgres", 0) + e.get("coordinator", 0)) / m
        every = own + 1000 * (e.get("simulator", 0) + e.get("redis", 0)) / m
        by_rate = engine.writes_per_s / max(floor.result.writes_per_s, 1)
        by_cpu = 1000 * sum(f.values()) / n / max(every, 1e-9)
        print(
            f"| {engine.workers} × {engine.threads} | {rate} | {engine.writes_per_s:,.0f} | "
            f"{by_rate:.0%} | "
            f"{1000 * f['workers'] / n:.2f} / {1000 * f['postgres'] / n:.2f} / "
            f"{1000 * f['simulator'] / n:.2f} | "
            f"{1000 * e.get('workers', 0) / m:.2f} / {1000 * e.get('postgres', 0) / m:.2f} / "
            f"{1000 * e.get('coordinator', 0) / m:.2f} / {1000 * e.get('simulator', 0) / m:.2f}"
            f" | {own:.2f} ms | {1000 * e.get('redis', 0) / m:.2f} | {by_cpu:.0%} |"
        )
        ratios.setdefault(engine.workers, []).append((by_rate, by_cpu))
    for workers, found in ratios.items():
        if len(found) > 1:
            rate_median = statistics.median(r for r, _ in found)
            cpu_median = statistics.median(c for _, c in found)
            print(
                f"| {workers} × …, median of {len(found)} rounds | | | {rate_median:.0%} | "
                f"| | | | {cpu_median:.0%} |"
            )


def print_targets(results: list[RunResult]) -> None:
    print(
        "\n(e) the same help desk into each target, at the rate limit of the runs "
        "(calls per ticket and per message: every call; calls per write = (API calls - "
        "set-up reads) / writes; set-up reads = GET /me and the catalog look-ups before "
        "creating a ticket type, tag, attribute, collection or article)"
    )
    print(
        "| target | tickets migrated | messages | API calls | set-up reads | writes | "
        "calls per ticket | calls per message | calls per write | tickets per minute | "
        "calls/min over the write phase | share of the ceiling | share 429 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    per_ticket = {}
    for r in results:
        tickets = max(r.migrated.get("ticket", 0), 1)
        per_ticket[r.label] = r.api_calls / tickets
        per_s = r.api_calls / max(r.write_s, 1e-9)
        ceiling_per_s = r.rate_limit / RATE_WINDOW_SECONDS
        print(
            f"| {r.label.removeprefix('target-')} | {r.migrated.get('ticket', 0):,} | "
            f"{r.messages:,} | {r.api_calls:,} | {r.setup_reads:,} | {r.writes:,} | "
            f"{r.api_calls / tickets:.2f} | {r.api_calls / max(r.messages, 1):.3f} | "
            f"{r.calls_per_write:.3f} "
            f"| {60 * r.migrated.get('ticket', 0) / max(r.total_s, 1e-9):,.0f} "
            f"| {60 * per_s:,.0f} | {per_s / ceiling_per_s:.1%} "
            f"| {r.rate_limited / max(r.api_calls, 1):.2%} |"
        )
    conv, tick = per_ticket.get("target-conversations"), per_ticket.get("target-tickets")
    if conv and tick:
        print(f"tickets take {1 - tick / conv:.1%} fewer calls per ticket than conversations")


# --- main -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--tickets", type=int, default=1000, help="tickets for (a) [1000]")
    p.add_argument("--workers", default="1,2,4", help="worker processes for (a) [1,2,4]")
    p.add_argument("--threads", type=int, default=8, help="threads per worker [8]")
    p.add_argument("--throttled-tickets", type=int, default=1200, help="tickets for (b) [1200]")
    p.add_argument("--throttled-workers", type=int, default=2, help="workers for (b) [2]")
    p.add_argument(
        "--rate-limit",
        type=int,
        default=INTERCOM_DEFAULT_LIMIT,
        help="calls per 10 s for (b) [1666, Intercom's default]",
    )
    p.add_argument("--skip-throttled", action="store_true", help="skip (b)")
    p.add_argument("--skip-unthrottled", action="store_true", help="skip (a)")
    p.add_argument("--faulted-tickets", type=int, default=150, help="tickets for (d) [150]")
    p.add_argument("--skip-faulted", action="store_true", help="skip (d)")
    p.add_argument("--targets-tickets", type=int, default=300, help="tickets for (e) [300]")
    p.add_argument("--skip-targets", action="store_true", help="skip (e)")
    p.add_argument("--apps", default="1,2,3", help="apps (tokens) for (f) [1,2,3]")
    p.add_argument(
        "--apps-seconds",
        type=float,
        default=60.0,
        help="about how long each (f) run writes; sizes its help desk [60]",
    )
    p.add_argument("--apps-workers", type=int, default=2, help="workers for (f) [2]")
    p.add_argument("--skip-apps", action="store_true", help="skip (f)'s migrations")
    p.add_argument(
        "--pacing-seconds",
        type=float,
        default=40.0,
        help="length of each pacers-alone run of (f) [40]",
    )
    p.add_argument("--skip-pacing", action="store_true", help="skip (f)'s pacers-alone runs")
    p.add_argument("--floor-seconds", type=float, default=15.0, help="length of (g) [15]")
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="unthrottled engine runs (a) per worker count, each between two floor runs, "
        "with the median of (g)'s ratios [1]",
    )
    p.add_argument("--skip-floor", action="store_true", help="skip (g)")
    p.add_argument(
        "--floor-shapes",
        default="contacts",
        help="the floor's writes: contacts (the target's yardstick), conversations (a "
        "ticket's create and replies, as a second look), or both, comma-separated [contacts]",
    )
    p.add_argument(
        "--no-validate", action="store_true", help="run the simulator without OpenAPI validation"
    )
    p.add_argument("--seed", type=int, default=5)
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="py-spy (raw folded stacks) of one worker and the simulator per run",
    )
    p.add_argument(
        "--pg-url",
        default=os.environ.get("H2I_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432"),
    )
    p.add_argument("--hesk-server", default="mysql+pymysql://root@127.0.0.1:3306")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--keep", action="store_true", help="keep the databases")
    args = p.parse_args(argv)
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]

    print(
        f"machine: {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"load average {load_average()}, host speed {host_speed():.2f} s",
        flush=True,
    )
    ledger_db = f"h2i_bench_migrate_{os.getpid()}"
    ledger_url = f"{args.pg_url.rstrip('/')}/{ledger_db}"
    work = Path(tempfile.mkdtemp(prefix="h2i-bench-migrate-"))
    sources: dict[int, Source] = {}
    results: list[RunResult] = []
    shapes = [x for x in args.floor_shapes.split(",") if x.strip()]
    unknown = set(shapes) - set(SHAPES)
    if unknown or not shapes:
        p.error(f"--floor-shapes: one or more of {', '.join(SHAPES)}")
    floors: dict[str, list[tuple[RunResult | None, FloorRun]]] = {x: [] for x in shapes}
    pacing: list[PacingRun] = []
    interrupted = False

    def source(n: int) -> Source:
        if n not in sources:
            sources[n] = make_source(n, args.seed, args.hesk_server, work)
        return sources[n]

    def handle_term(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handle_term)
    try:
        open_engine(ledger_url).dispose()  # creates and upgrades the ledger database
        common = {
            "validate": not args.no_validate,
            "pg_server": args.pg_url,
            "ledger_db": ledger_db,
            "work": work,
            "profile": args.profile,
        }
        floor_common = {k: v for k, v in common.items() if k != "profile"}

        def floor_at(w: int, shape: str) -> FloorRun:
            print(
                f"  (g) floor ({shape}) at {w} × {args.threads}, {args.floor_seconds:.0f} s, "
                f"load {load_average()} …",
                flush=True,
            )
            floor = floor_once(
                workers=w,
                threads=args.threads,
                seconds=args.floor_seconds,
                shape=shape,
                **floor_common,
            )
            print(
                f"      {floor.result.writes:,} writes = "
                f"{floor.result.writes_per_s:,.0f} writes/s; cpu {floor.cpu}",
                flush=True,
            )
            return floor

        if not args.skip_unthrottled:
            for w in worker_counts:
                # The floor runs before each engine run and after it; N rounds share N + 1.
                before = {} if args.skip_floor else {x: floor_at(w, x) for x in shapes}
                for round_no in range(1, args.rounds + 1):
                    print(
                        f"  (a) {w} worker(s) × {args.threads} threads, {args.tickets} tickets"
                        + (f", round {round_no} of {args.rounds}" if args.rounds > 1 else "")
                        + f", load {load_average()} …",
                        flush=True,
                    )
                    r = run_once(
                        f"unthrottled-{w}w" + (f"-{round_no}" if args.rounds > 1 else ""),
                        source(args.tickets),
                        workers=w,
                        threads=args.threads,
                        rate_limit=UNTHROTTLED,
                        **common,
                    )
                    print(
                        f"      {r.writes_intended:,} writes in {r.write_s:.1f} s = "
                        f"{r.writes_per_s:,.0f} writes/s; {r.tickets_per_s:.1f} tickets/s end "
                        f"to end; cpu {r.cpu}",
                        flush=True,
                    )
                    results.append(r)
                    if before:  # the engine between two floor runs of each shape
                        after = {x: floor_at(w, x) for x in shapes}
                        for x in shapes:
                            floors[x].append((r, together([before[x], after[x]])))
                        before = after
        if not args.skip_throttled:
            w = args.throttled_workers
            print(
                f"  (b) {w} worker(s) × {args.threads} threads, {args.throttled_tickets} "
                f"tickets at {args.rate_limit}/10 s, load {load_average()} …",
                flush=True,
            )
            r = run_once(
                f"throttled-{w}w",
                source(args.throttled_tickets),
                workers=w,
                threads=args.threads,
                rate_limit=args.rate_limit,
                **common,
            )
            print(
                f"      {r.api_calls:,} calls in {r.write_s:.1f} s = {r.calls_per_s:.1f}/s, "
                f"{r.rate_limited} answered 429",
                flush=True,
            )
            results.append(r)
        if not args.skip_floor and args.skip_unthrottled:  # the floor alone at --workers
            for x in shapes:
                floors[x] += [(None, floor_at(w, x)) for w in worker_counts]
        if not args.skip_pacing:
            for n in [int(a) for a in args.apps.split(",") if a.strip()]:
                print(
                    f"  (f) pacers alone, {n} app(s), {args.pacing_seconds:.0f} s, "
                    f"load {load_average()} …",
                    flush=True,
                )
                pr = pacing_once(n, args.pacing_seconds, 16, work)
                print(
                    f"      {pr.calls:,} calls = {pr.calls / pr.seconds * 60:,.0f}/min, "
                    f"{pr.rate_limited} answered 429, per app {pr.per_app}",
                    flush=True,
                )
                pacing.append(pr)
        if not args.skip_apps:
            for n in [int(a) for a in args.apps.split(",") if a.strip()]:
                per_s = min(n * 10_000, 25_000) / 60
                tickets = max(50, int(args.apps_seconds * per_s / CALLS_PER_TICKET))
                print(
                    f"  (f) {n} app(s), {args.apps_workers} worker(s) × {args.threads} "
                    f"threads, {tickets} tickets, load {load_average()} …",
                    flush=True,
                )
                r = run_once(
                    f"apps-{n}",
                    source(tickets),
                    workers=args.apps_workers,
                    threads=args.threads,
                    rate_limit=INTERCOM_DEFAULT_LIMIT,
                    workspace_rate_limit=INTERCOM_WORKSPACE_LIMIT,
                    apps=n,
                    **common,
                )
                print(
                    f"      {r.api_calls:,} calls in {r.write_s:.1f} s = "
                    f"{r.calls_per_s * 60:,.0f}/min, {r.rate_limited} answered 429; "
                    f"apps {r.app_stats}",
                    flush=True,
                )
                results.append(r)
        if not args.skip_faulted:
            print(
                f"  (d) 2 worker(s) × {args.threads} threads, {args.faulted_tickets} tickets, "
                f"faults {FAULTS} …",
                flush=True,
            )
            r = run_once(
                "faulted-2w",
                source(args.faulted_tickets),
                workers=2,
                threads=args.threads,
                rate_limit=UNTHROTTLED,
                faults=FAULTS,
                **common,
            )
            print(f"      {r.api_calls:,} calls for {r.writes:,} writes", flush=True)
            results.append(r)
        if not args.skip_targets:
            for target in ("conversations", "tickets"):
                print(
                    f"  (e) {target}: 2 worker(s) × {args.threads} threads, "
                    f"{args.targets_tickets} tickets at {args.rate_limit}/10 s …",
                    flush=True,
                )
                r = run_once(
                    f"target-{target}",
                    source(args.targets_tickets),
                    workers=2,
                    threads=args.threads,
                    rate_limit=args.rate_limit,
                    target=target,
                    **common,
                )
                print(
                    f"      {r.api_calls:,} calls for {r.migrated.get('ticket', 0):,} "
                    f"tickets in {r.total_s:.1f} s",
                    flush=True,
                )
                results.append(r)
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted: cleaning up", file=sys.stderr)
    finally:
        if not args.keep:
            with suppress(Exception):
                drop_ledger(args.pg_url, ledger_db)
            for s in sources.values():
                with suppress(Exception):
                    drop_hesk(s)
            with suppress(Exception):
                drop_namespaces()
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(
                f"kept: ledger {ledger_url}, Hesk "
                f"{', '.join(s.database for s in sources.values())}, files {work}"
            )

    unthrottled = [r for r in results if r.rate_limit == UNTHROTTLED and "faulted" not in r.label]
    targets = [r for r in results if r.label.startswith("target-")]
    several = [r for r in results if r.workspace_rate_limit]
    throttled = [
        r for r in results if r.rate_limit != UNTHROTTLED and r not in targets and r not in several
    ]
    if unthrottled:
        print_unthrottled(unthrottled)
    for r in throttled:
        print_throttled(r)
    if targets:
        print_targets(targets)
    if pacing:
        print_pacing(pacing)
    if several:
        print_apps(several)
    for x, pairs in floors.items():
        if pairs:
            print_floor(pairs, x)
    if results:
        print_calls(results)
        ops = results[-1].by_operation
        print(
            f"\nwrites by operation ({results[-1].label}): "
            + ", ".join(f"{op} {n:,}" for op, n in ops.items())
        )
        for r in results:
            if r.pending:
                print(f"WARNING: {r.label} left {r.pending} records pending")
    if args.json:
        args.json.write_text(json.dumps([r.as_dict() for r in results], indent=2, default=str))
    return 130 if interrupted else 0


if __name__ == "__main__":
    raise SystemExit(main())

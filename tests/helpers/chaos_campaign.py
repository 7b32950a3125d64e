"""A chaos campaign: ``migrate``, ``delta`` and ``rollback`` run as a user runs them, while
their processes are killed (SIGKILL) at random instants, the simulator loses responses,
answers 5xx and has 429 storms, and a private PostgreSQL (the ledger) and Redis (the broker)
are restarted. Each killed process is started again with the same command, and a command
that exits non-zero is run again, as a user would.

Two simulators run side by side: on one a clean migration (then a clean delta) gives the
expected workspace; the other takes the chaos. At the end the chaos workspace equals the
clean one object by object after normalising ids, with no duplicate; the report adds up
with nothing pending; every WriteIntended has its outcome; no notification was sent. Then
``rollback`` is killed half-way, again and again: at the end only what the migration created
is gone (the workspace is back to what it was before).

Used by ``benchmarks/chaos.py`` (full size) and ``tests/workers/test_chaos_campaign.py``.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql
import sqlalchemy as sa

from core.settings import Settings
from hesk.demo_data import generate
from ledger.database import open_engine
from reports.report import STATES, build_report
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource
from tests.helpers.hesk_writes import HeskWriter
from tests.helpers.ledger import unsettled_intents
from tests.helpers.migration import prepare
from tests.helpers.normalise import duplicates, normalise
from tests.helpers.private_services import (
    PrivatePostgres,
    PrivateRedis,
    private_postgres,
    private_redis,
)
from tests.helpers.simulator import TOKEN, simulator_with

BIN = Path(sys.executable).parent / "hesk2intercom"
#: The machine's own servers, for the clean run (never stopped here).
SHARED_PG = os.environ.get(
    "H2I_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/x"
).rsplit("/", 1)[0]
SHARED_REDIS = os.environ.get("H2I_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class Plan:
    """How big the campaign is."""

    tickets: int = 1000
    kills: int = 100
    pg_restarts: int = 2
    redis_restarts: int = 2
    storms: int = 3
    storm_seconds: float = 20.0
    delta_kills: int = 10
    rollback_kills: int = 20
    workers: int = 2
    threads: int = 4
    gap: tuple[float, float] = (0.5, 3.0)
    down_seconds: float = 3.0
    lost: float = 0.05
    rate_5xx: float = 0.02
    seed: int = field(default_factory=lambda: random.randrange(1_000_000))
    #: H2I_STALL_SECONDS and H2I_INTERCOM_TIMEOUT of every command (None: the defaults)
    stall_seconds: float | None = None
    client_timeout: float | None = None
    #: the map's ``target``: tickets become Intercom conversations or Intercom tickets
    target: str = "conversations"
    #: run the clean migration beside the chaos one (faster) or first (fair timing)
    clean_beside: bool = True


@dataclass
class Tally:
    """What one chaos phase did."""

    kills: int = 0
    reruns: int = 0
    pg_restarts: int = 0
    redis_restarts: int = 0
    storms: int = 0
    seconds: float = 0.0
    #: the non-zero exit codes of the commands run again, with how often each came
    exits: dict[int, int] = field(default_factory=dict)


class Proc:
    """One command, run as its own process group, restarted with the same command."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.argv, self.env, self.cwd, self.log = argv, env, cwd, log
        self.popen = self._spawn()

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL the whole group (a worker's Dramatiq children too)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(30)

    def restart(self) -> None:
        """Start the same command again."""
        self.popen = self._spawn()


def _env(settings: Settings, redis_url: str, plan: Plan) -> dict[str, str]:
    timings = {"H2I_STALL_SECONDS": plan.stall_seconds, "H2I_INTERCOM_TIMEOUT": plan.client_timeout}
    return {
        **os.environ,
        "H2I_LEDGER_URL": settings.ledger_url,
        "H2I_HESK_URL": settings.hesk_url or "",
        "H2I_HESK_ATTACHMENTS_DIR": str(settings.hesk_attachments_dir),
        "H2I_INTERCOM_BASE_URL": settings.intercom_base_url,
        "H2I_INTERCOM_TOKEN": TOKEN,
        "H2I_MIGRATION": settings.migration,
        "H2I_REDIS_URL": redis_url,
        **{k: str(v) for k, v in timings.items() if v is not None},
    }


class Background:
    """A command left to run on its own (the clean run); :meth:`wait` says how long it took."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.argv = argv
        self.started = time.monotonic()
        self.err = (cwd / "clean.err").open("w+b")
        self.popen = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=self.err,
            start_new_session=True,
        )

    def wait(self, timeout: float = 1800) -> float:
        """Seconds the command took; AssertionError unless it exited 0."""
        if self.err.closed:
            return self.seconds
        code = self.popen.wait(timeout)
        seconds = time.monotonic() - self.started
        self.err.seek(0)
        tail = self.err.read()[-2000:].decode(errors="replace")
        self.err.close()
        if code != 0:
            raise AssertionError(f"{' '.join(self.argv[1:])} exited {code}: {tail}")
        self.seconds = seconds
        return seconds


class Chaos:
    """Drives one command to its end under kills, faults and service restarts."""

    def __init__(
        self,
        plan: Plan,
        rng: random.Random,
        sim: SimulatorHandle,
        pg: PrivatePostgres,
        rd: PrivateRedis,
    ) -> None:
        self.plan, self.rng, self.sim, self.pg, self.rd = plan, rng, sim, pg, rd

    def faults(self, storm: float = 0.0) -> None:
        """The campaign's fault rates (and a storm starting now, if asked)."""
        self.sim.set_faults(
            rate_lost_response=self.plan.lost,
            rate_5xx=self.plan.rate_5xx,
            seed=self.rng.randrange(1 << 30),
            storm_seconds=storm,
        )

    def drive(
        self,
        main: list[str],
        env: dict[str, str],
        cwd: Path,
        *,
        kills: int,
        workers: int = 0,
        services: bool = False,
        storms: int = 0,
        deadline_s: float = 3600,
    ) -> Tally:
        """Run ``main`` (and ``workers`` worker processes) through the actions, shuffled,
        one every few seconds, then until ``main`` exits 0 (run again when it does not)."""
        tally = Tally()
        actions = ["kill"] * kills + ["storm"] * storms
        if services:
            actions += ["pg"] * self.plan.pg_restarts + ["redis"] * self.plan.redis_restarts
        self.rng.shuffle(actions)
        logs = cwd / "logs"
        logs.mkdir(exist_ok=True)
        worker_argv = [str(BIN), "worker", "--processes", "1", "--threads", str(self.plan.threads)]
        pool = [Proc(worker_argv, env, cwd, logs / f"worker-{n}.log") for n in range(workers)]
        coordinator = Proc(main, env, cwd, logs / "main.log")
        started = time.monotonic()
        try:
            while True:
                code = coordinator.popen.poll()
                if code == 0:
                    break
                if code is not None:  # exit 4 (pending), or 2 while a service was away
                    tally.reruns += 1
                    tally.exits[code] = tally.exits.get(code, 0) + 1
                    coordinator.restart()
                assert time.monotonic() - started < deadline_s, "the campaign did not end"
                if not actions:
                    time.sleep(0.5)
                    continue
                time.sleep(self.rng.uniform(*self.plan.gap))
                action = actions.pop()
                if action == "kill":
                    victim = self.rng.choice([coordinator, *pool])
                    victim.kill()
                    victim.restart()
                    tally.kills += 1
                elif action == "storm":
                    self.faults(self.plan.storm_seconds)
                    tally.storms += 1
                elif action == "pg":
                    self.pg.restart(down_seconds=self.plan.down_seconds)
                    tally.pg_restarts += 1
                elif action == "redis":
                    self.rd.restart(down_seconds=self.plan.down_seconds)
                    tally.redis_restarts += 1
        finally:
            for proc in [coordinator, *pool]:
                proc.kill()
        tally.seconds = round(time.monotonic() - started, 1)
        return tally


def _check(clean: dict[str, Any], chaos: dict[str, Any]) -> None:
    assert duplicates(chaos) == {}, duplicates(chaos)
    want, got = normalise(clean), normalise(chaos)
    for kind in want:
        assert got[kind] == want[kind], f"{kind} differ from the clean run's"


def _check_target(target: str, dump: dict[str, Any], tickets: int) -> None:
    """The Hesk tickets went where the map sends them (and only there)."""
    kinds = {"conversations": len(dump["conversations"]), "tickets": len(dump.get("tickets", []))}
    other = "tickets" if target == "conversations" else "conversations"
    assert kinds[target] >= tickets // 2, f"only {kinds[target]} {target} for {tickets} tickets"
    assert kinds[other] == 0, f"{kinds[other]} {other} with the target {target}"


def _report(settings: Settings) -> dict[str, Any]:
    engine = open_engine(settings.ledger_url)
    try:
        report = build_report(engine, settings.migration)
    finally:
        engine.dispose()
    for obj, c in report["objects"].items():
        assert c["pending"] == 0, (obj, c)
        assert c["source"] == sum(c[s] for s in STATES), (obj, c)
    assert unsettled_intents(settings.ledger_url, settings.migration) == []
    return report


def _writes(report: dict[str, Any]) -> int:
    return int(report["api_calls"]["writes_succeeded"])


def change_hesk(url: str) -> None:
    """What happens in Hesk between the migration and the cutover: replies, a new subject,
    a close and a reopen, a new ticket."""
    writer = HeskWriter(url)
    try:
        ids = [int(r["id"]) for r in writer.query("SELECT id FROM hesk_tickets ORDER BY id")]
        for tid in ids[:5]:
            writer.add_reply(tid, f"After the migration, ticket {tid}")
        writer.set_subject(ids[1], "Renamed during the cutover")
        writer.close(ids[2])
        writer.reopen(ids[3])
        writer.copy_ticket(ids[4], "NEW-CUT-0001")
    finally:
        writer.close_connection()


def run_campaign(plan: Plan, say: Any = print) -> dict[str, Any]:
    """The whole campaign; raises AssertionError on any difference. Returns the figures."""
    rng = random.Random(plan.seed)
    say(f"seed {plan.seed}, target {plan.target}")
    work = Path(tempfile.mkdtemp(prefix="h2i-chaos-"))
    name = f"h2i_chaos_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    hesk_url = f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    figures: dict[str, Any] = {"seed": plan.seed, "tickets": plan.tickets, "target": plan.target}
    generate(hesk_url, work / "attachments", tickets=plan.tickets, seed=plan.seed % 1000)
    source = HeskSource(hesk_url, work / "attachments", plan.tickets)
    try:
        with (
            private_postgres() as pg,
            private_redis() as rd,
            simulator_with() as clean_sim,
            simulator_with() as sim,
        ):
            ledger_url = pg.url("h2i_chaos_ledger")
            (work / "clean").mkdir()
            (work / "chaos").mkdir()
            # the clean run goes on beside the chaos, on the machine's own services (the
            # private ones are restarted under the chaos run)
            clean = prepare(clean_sim, source, f"{SHARED_PG}/{name}", work / "clean", plan.target)
            clean_env = _env(clean, SHARED_REDIS, plan)
            clean_run = Background(
                [
                    str(BIN),
                    "migrate",
                    "--workers",
                    str(plan.workers),
                    "--threads",
                    str(plan.threads),
                ],
                clean_env,
                work / "clean",
            )
            if not plan.clean_beside:
                clean_run.wait()

            settings = prepare(sim, source, ledger_url, work / "chaos", plan.target)
            before = sim.dump()
            env = _env(settings, rd.url, plan)
            chaos = Chaos(plan, rng, sim, pg, rd)
            chaos.faults()
            tally = chaos.drive(
                [str(BIN), "migrate", "--workers", "0"],
                env,
                work / "chaos",
                kills=plan.kills,
                workers=plan.workers,
                services=True,
                storms=plan.storms,
            )
            stats = sim.stats()
            sim.set_faults()
            clean_seconds = clean_run.wait()
            clean_report = _report(clean)
            clean_calls = clean_sim.stats()["requests_total"]
            expected = clean_sim.dump()
            _check(expected, sim.dump())
            _check_target(plan.target, expected, plan.tickets)
            report = _report(settings)
            assert report["objects"] == clean_report["objects"]
            assert stats["notifications_sent"] == 0
            figures["migrate"] = {
                **vars(tally),
                "faults": stats["faults_injected"],
                "calls_per_write": round(stats["requests_total"] / max(1, _writes(report)), 3),
                "clean_calls_per_write": round(clean_calls / max(1, _writes(clean_report)), 3),
                "clean_seconds": round(clean_seconds, 1),
                "writes": _writes(report),
            }
            say(f"migrate: {figures['migrate']}")

            change_hesk(hesk_url)
            clean_run = Background([str(BIN), "delta", "--workers", "0"], clean_env, work / "clean")
            if not plan.clean_beside:
                clean_run.wait()
            chaos.faults()
            calls_before = sim.stats()["requests_total"]
            tally = chaos.drive(
                [str(BIN), "delta", "--workers", "0"], env, work / "chaos", kills=plan.delta_kills
            )
            stats = sim.stats()
            sim.set_faults()
            clean_delta = clean_run.wait()
            _check(clean_sim.dump(), sim.dump())
            _report(settings)
            assert stats["notifications_sent"] == 0
            figures["delta"] = {
                **vars(tally),
                "clean_seconds": round(clean_delta, 1),
                "calls": stats["requests_total"] - calls_before,
            }
            say(f"delta: {figures['delta']}")

            chaos.faults()
            tally = chaos.drive(
                [str(BIN), "rollback", "--yes"], env, work / "chaos", kills=plan.rollback_kills
            )
            sim.set_faults()
            after = sim.dump()
            want, got = normalise(before), normalise(after)
            # ticket types and their attributes stay: the API cannot delete them
            for kind in ("contacts", "conversations", "tickets", "articles", "collections", "tags"):
                assert got[kind] == want[kind], f"rollback: {kind} are not as before"
            # Intercom can only archive a conversation attribute: every new one is archived
            names = {a["name"] for a in before["conversation_attributes"]}
            live = [
                a["name"]
                for a in after["conversation_attributes"]
                if a["name"] not in names and not a.get("archived")
            ]
            assert live == [], f"rollback left attributes unarchived: {live}"
            figures["rollback"] = vars(tally)
            say(f"rollback: {figures['rollback']}")
    finally:
        admin = sa.create_engine(f"{SHARED_PG}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()
        shutil.rmtree(work, ignore_errors=True)
    return figures

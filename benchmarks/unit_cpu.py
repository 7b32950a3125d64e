"""A worker's own CPU per write: ticket units run in this process, next to the protocol floor.

``benchmarks/migrate.py`` (g) compares the whole machine's throughput, which moves by ±15%
between runs of the same code on a shared host. This measures one side of it steadily
enough to compare two versions of the code in a minute: the CPU time of the threads that
run the units (``time.thread_time``; the simulator, Postgres and Redis are other processes
and are not counted), per write, against the floor's loop (``benchmarks/protocol_floor.py``)
on as many threads in the same process.

Set-up, not measured: a generated help desk, a fresh ledger and simulator (unthrottled),
``map propose`` + ``confirm``, then ``migrate --only contact`` with real workers (the
workspace's set-up and the contacts). Measured: every ticket's unit, run by
``engine.units.process_unit`` as a worker's actor runs it (Dramatiq's part left out), on
``--threads`` threads (the first 50 warm up and are not counted); then the floor for
``--floor-seconds``. ``--sections module:qualname,...`` also times those functions
(inclusive thread CPU per write, with the number of calls; the wrapper adds about a
microsecond per call, and nested ones add to their callers).

To compare two versions, run it from each checkout in turn (old, new, old, new): its
PYTHONPATH is the checkout it is run from.

    .venv/bin/python benchmarks/unit_cpu.py [--tickets 1000] [--threads 8]
        [--floor-seconds 5] [--target conversations] [--sections engine.units:_plan,...]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import io
import os
import pstats
import queue
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(Path(__file__).resolve().parent))

import migrate as bench  # noqa: E402
import protocol_floor  # noqa: E402

from commands.map import confirm, propose  # noqa: E402
from commands.migrate import run_migration  # noqa: E402
from commands.options import MigrateOptions  # noqa: E402
from core.settings import load_settings  # noqa: E402
from engine.resources import Resources  # noqa: E402
from engine.units import process_unit  # noqa: E402
from ledger.database import open_engine  # noqa: E402
from mapping.mapfile import dump_map_yaml  # noqa: E402

WARM_UP_UNITS = 50
COUNT_WRITES = "SELECT count(*) FROM events WHERE migration_id = %(m)s AND type = 'WriteIntended'"
TICKET_KEYS = (
    "SELECT key FROM events WHERE migration_id = %(m)s AND type = 'SourceCaptured' "
    "AND object = 'ticket' ORDER BY seq"
)


class Sections:
    """Inclusive thread CPU and calls of named functions, timed by wrapping them."""

    def __init__(self) -> None:
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()

    def wrap(self, spec: str) -> None:
        """Time ``module:qualname`` (a function or a method) from now on."""
        module_name, _, qualname = spec.partition(":")
        owner: Any = importlib.import_module(module_name)
        *path, name = qualname.split(".")
        for part in path:
            owner = getattr(owner, part)
        original: Callable[..., Any] = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.cpu[qualname] += time.thread_time() - start
                self.calls[qualname] += 1

        setattr(owner, name, timed)
        if not path:  # a module-level function: rebind where it was imported by name
            for module in list(sys.modules.values()):
                if getattr(module, name, None) is original:
                    setattr(module, name, timed)


def on_threads(threads: int, work: Callable[[int], None]) -> float:
    """Run ``work(i)`` on ``threads`` threads; their CPU seconds together."""
    spent = [0.0] * threads

    def run(i: int) -> None:
        start = time.thread_time()
        work(i)
        spent[i] = time.thread_time() - start

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(spent)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--tickets", type=int, default=1000)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--floor-seconds", type=float, default=5.0)
    p.add_argument("--target", choices=("conversations", "tickets"), default="conversations")
    p.add_argument("--sections", default="", help="module:qualname,... to time as well")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also profile the units (cProfile, every thread) and print the N costliest "
        "functions by own time; the profiler slows the units, so read shares, not totals",
    )
    p.add_argument(
        "--pg-url",
        default=os.environ.get("H2I_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432"),
    )
    p.add_argument("--hesk-server", default="mysql+pymysql://root@127.0.0.1:3306")
    args = p.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="h2i-bench-unit-cpu-"))
    ledger_db = f"h2i_bench_unit_cpu_{os.getpid()}"
    source = bench.make_source(args.tickets, args.seed, args.hesk_server, work)
    sim = bench.Simulator(bench.UNTHROTTLED, True, work / "logs")
    res: Resources | None = None
    try:
        sim.seed(source.seed_body)
        settings = load_settings(
            ledger_url=f"{args.pg_url.rstrip('/')}/{ledger_db}",
            hesk_url=source.url,
            hesk_attachments_dir=source.attachments,
            intercom_base_url=sim.base_url,
            intercom_token=SecretStr(bench.TOKEN),
            intercom_workspace_rate=bench.UNTHROTTLED * 6,
            migration=f"bench-unit-cpu-{uuid.uuid4().hex[:6]}",
        )
        bench.NAMESPACES.append((settings.redis_url, bench.namespace(settings.migration)))
        open_engine(settings.ledger_url).dispose()
        map_file = work / "map.yaml"
        map_file.write_text(dump_map_yaml(propose(settings, args.target)), encoding="utf-8")
        confirm(settings, map_file)
        options = MigrateOptions(workers=2, threads=8, only="contact", log_dir=work / "logs")
        run_migration(settings, options, Console(file=io.StringIO()))

        # as a worker opens them (workers/actors.py): no ping before each checkout
        res = Resources.from_settings(settings, threads=args.threads, pre_ping=False)
        params = {"m": res.ledger.migration_id}
        with res.engine.connect() as conn:
            keys = [k for (k,) in conn.exec_driver_sql(TICKET_KEYS, params).all()]
        for key in keys[:WARM_UP_UNITS]:
            process_unit(res, key)
        sections = Sections()
        for spec in filter(None, args.sections.split(",")):
            sections.wrap(spec.strip())

        def writes() -> int:
            assert res is not None
            with res.engine.connect() as conn:
                return int(conn.exec_driver_sql(COUNT_WRITES, params).scalar_one())

        pending: queue.SimpleQueue[str] = queue.SimpleQueue()
        for key in keys[WARM_UP_UNITS:]:
            pending.put(key)

        profiles: list[cProfile.Profile] = []

        def run_units(_i: int) -> None:
            assert res is not None
            profile = cProfile.Profile(time.thread_time) if args.profile else None
            if profile is not None:
                profiles.append(profile)
                profile.enable()
            try:
                while True:
                    try:
                        key = pending.get_nowait()
                    except queue.Empty:
                        return
                    process_unit(res, key)
            finally:
                if profile is not None:
                    profile.disable()

        before, started = writes(), time.monotonic()
        engine_cpu = on_threads(args.threads, run_units)
        engine_wall = time.monotonic() - started
        engine_writes = writes() - before
        units = len(keys) - WARM_UP_UNITS

        counts = [0] * args.threads
        deadline = time.monotonic() + args.floor_seconds

        def run_floor(i: int) -> None:
            protocol_floor._thread(
                sim.base_url, bench.TOKEN, settings.ledger_url, params["m"], deadline, counts, i
            )

        floor_cpu = on_threads(args.threads, run_floor)
        floor_writes = sum(counts)

        engine_us = 1e6 * engine_cpu / max(engine_writes, 1)
        floor_us = 1e6 * floor_cpu / max(floor_writes, 1)
        print(
            f"engine: {units:,} ticket units, {engine_writes:,} writes in {engine_wall:.1f} s on "
            f"{args.threads} threads: {engine_us:,.0f} µs of thread CPU per write "
            f"({engine_writes / max(units, 1):.2f} writes per unit)"
        )
        print(
            f"floor:  {floor_writes:,} writes in {args.floor_seconds:.1f} s on {args.threads} "
            f"threads: {floor_us:,.0f} µs of thread CPU per write"
        )
        print(f"floor / engine, thread CPU per write: {floor_us / engine_us:.0%}")
        for name, spent in sorted(sections.cpu.items(), key=lambda kv: -kv[1]):
            print(
                f"  {name:48s} {1e6 * spent / max(engine_writes, 1):7,.0f} µs per write "
                f"({sections.calls[name]:,} calls)"
            )
        if profiles:
            stats = pstats.Stats(profiles[0], stream=sys.stdout)
            for more in profiles[1:]:
                stats.add(more)
            stats.sort_stats("tottime").print_stats(args.profile)
    finally:
        if res is not None:
            res.close()
        sim.stop()
        bench.drop_hesk(source)
        bench.drop_ledger(args.pg_url, ledger_db)
        bench.drop_namespaces()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

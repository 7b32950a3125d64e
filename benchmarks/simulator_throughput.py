"""Requests per second the simulator serves, beside a bare Starlette endpoint.

Each server runs as its own uvicorn subprocess; the load comes from separate processes,
each running several keep-alive httpx clients in threads, for a fixed time. Workloads:
create-conversation (``POST /conversations``) and reply (``POST /conversations/{id}/reply``,
an admin comment round-robin over conversations made before timing), with validation on and
off; the bare endpoint parses the JSON body and answers a small JSON object.

    .venv/bin/python benchmarks/simulator_throughput.py [--seconds 5] [--rounds 3] [--procs 2]
        [--threads 4]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from core.ports import free_port  # noqa: E402

TOKEN = "bench-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Intercom-Version": "2.16"}


def bare_app():  # noqa: ANN201 - imported by uvicorn in the subprocess
    """A bare Starlette app: one POST endpoint that parses JSON and answers JSON."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def endpoint(request):  # noqa: ANN001, ANN202
        body = await request.json()
        return JSONResponse({"type": "ok", "received": len(body)})

    return Starlette(routes=[Route("/bare", endpoint, methods=["POST"])])


def start_server(kind: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``bare``, ``sim`` or ``sim-novalidate`` on a free port; wait until it answers."""
    port = free_port()
    env = {**os.environ, "H2I_INTERCOM_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    if kind == "bare":
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "simulator_throughput:bare_app",
            "--app-dir",
            str(ROOT / "benchmarks"),
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
    else:
        cmd = [
            sys.executable,
            "-m",
            "simulator.server",
            "--port",
            str(port),
            "--rate-limit",
            "100000000",
        ]
        if kind == "sim-novalidate":
            cmd.append("--no-validate")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/", timeout=0.5)
            return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


def _worker(
    base: str, workload: str, seconds: float, threads: int, setup: dict, out: mp.Queue
) -> None:
    counts = [0] * threads
    errors = [0] * threads
    start_at = setup["start_at"]

    def run(i: int) -> None:
        with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as client:
            convs = setup["conversations"][i::threads] if workload == "reply" else []
            while time.time() < start_at:
                time.sleep(0.001)
            stop = start_at + seconds
            n = 0
            while time.time() < stop:
                if workload == "bare":
                    r = client.post(
                        "/bare",
                        json={
                            "from": {"type": "user", "id": setup["contact"]},
                            "body": "Hello",
                            "created_at": 1600000000,
                        },
                    )
                elif workload == "create":
                    r = client.post(
                        "/conversations",
                        json={
                            "from": {"type": "user", "id": setup["contact"]},
                            "body": "Hello",
                            "created_at": 1600000000,
                        },
                    )
                else:
                    r = client.post(
                        f"/conversations/{convs[n % len(convs)]}/reply",
                        json={
                            "message_type": "comment",
                            "type": "admin",
                            "admin_id": setup["admin"],
                            "body": "Thanks for waiting",
                            "created_at": 1600000100,
                            "skip_notifications": True,
                        },
                    )
                n += 1
                if r.status_code == 200:
                    counts[i] += 1
                else:
                    errors[i] += 1

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put((sum(counts), sum(errors)))


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    base: str, workload: str, seconds: float, procs: int, threads: int, pid: int
) -> tuple[float, float]:
    """(successful requests per second, server CPU microseconds per request)."""
    setup: dict = {"contact": "0" * 24, "admin": "1", "conversations": []}
    if workload != "bare":
        with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as client:
            client.post(f"{base}/_sim/reset", json={}).raise_for_status()
            contact = client.post("/contacts", json={"email": "bench@example.com"}).json()
            setup["contact"] = contact["id"]
            setup["admin"] = client.get("/me").json()["id"]
            if workload == "reply":
                setup["conversations"] = [
                    client.post(
                        "/conversations",
                        json={"from": {"type": "user", "id": contact["id"]}, "body": "x"},
                    ).json()["conversation_id"]
                    for _ in range(100 * threads)
                ]
    queue: mp.Queue = mp.Queue()
    setup["start_at"] = time.time() + 1.0
    workers = []
    for p in range(procs):
        per_proc = dict(setup)
        per_proc["conversations"] = setup["conversations"][p::procs]
        workers.append(
            mp.Process(target=_worker, args=(base, workload, seconds, threads, per_proc, queue))
        )
    for w in workers:
        w.start()
    while time.time() < setup["start_at"]:
        time.sleep(0.001)
    cpu_before = cpu_seconds(pid)
    results = [queue.get() for _ in workers]
    cpu_used = cpu_seconds(pid) - cpu_before
    for w in workers:
        w.join()
    ok = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    if failed:
        print(f"  warning: {failed} non-200 answers in {workload}", file=sys.stderr)
    return ok / seconds, cpu_used / max(ok, 1) * 1e6


def main() -> None:
    """Run every workload and print a table of req/s and ratios (JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    plan = [
        ("bare", "bare"),
        ("sim-novalidate", "create"),
        ("sim-novalidate", "reply"),
        ("sim", "create"),
        ("sim", "reply"),
    ]
    servers = {kind: start_server(kind) for kind in ("bare", "sim-novalidate", "sim")}
    samples: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    try:
        # interleaved rounds, median per workload: a busy neighbour skews all alike
        for _ in range(args.rounds):
            for kind, workload in plan:
                mode = "validation off" if kind == "sim-novalidate" else "validation on"
                name = "bare" if kind == "bare" else f"{workload} ({mode})"
                proc, base = servers[kind]
                value, micros = measure(
                    base, workload, args.seconds, args.procs, args.threads, proc.pid
                )
                samples.setdefault(name, []).append(value)
                cpu.setdefault(name, []).append(micros)
    finally:
        for proc, _base in servers.values():
            proc.terminate()
            proc.wait(timeout=10)
    results = {name: statistics.median(values) for name, values in samples.items()}
    cpu_us = {name: statistics.median(values) for name, values in cpu.items()}
    bare, bare_cpu = results["bare"], cpu_us["bare"]
    if args.json:
        print(
            json.dumps(
                {
                    "req_per_s": results,
                    "ratio": {k: v / bare for k, v in results.items()},
                    "server_cpu_us_per_request": cpu_us,
                    "cpu_ratio": {k: bare_cpu / v for k, v in cpu_us.items()},
                },
                indent=1,
            )
        )
        return
    print(f"{'workload':<26}{'req/s':>8}{'vs bare':>9}{'server CPU us/req':>19}{'vs bare':>9}")
    for name, value in results.items():
        print(
            f"{name:<26}{value:>8.0f}{value / bare:>9.0%}{cpu_us[name]:>19.0f}"
            f"{bare_cpu / cpu_us[name]:>9.0%}"
        )


if __name__ == "__main__":
    main()

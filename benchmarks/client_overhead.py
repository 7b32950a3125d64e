"""The Intercom client's own overhead per call, against a raw ``httpx.Client``.

Both clients call the same bare Starlette endpoint (started here in a subprocess, answering
Intercom-shaped JSON with ``X-RateLimit-*`` headers) in the same run, interleaved in rounds
so that machine noise hits both alike. Two figures per case: the median wall time of a call
(includes the server and the loopback, so it is noisy on a busy machine) and the CPU time
this process spends per call (the server runs in another process, so this is the client
side alone and steadier). The differences are what the client adds: pacing, tenacity, error
mapping, JSON decoding into a dict.

    .venv/bin/python benchmarks/client_overhead.py [--calls 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.ports import free_port  # noqa: E402

TOKEN = "bench-token-not-secret"
ME = {"type": "admin", "id": "1", "name": "Bench", "email": "bench@example.test"}
CONTACT = {"type": "contact", "id": "65f0c0ffee", "role": "user", "email": "a@example.test"}


def serve(port: int) -> None:
    """Run the bare endpoint (the subprocess side)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    me_body = json.dumps(ME).encode()
    contact_body = json.dumps(CONTACT).encode()

    def answer(body: bytes) -> Response:
        reset = str(int(time.time()) // 10 * 10 + 10)
        return Response(
            body,
            media_type="application/json",
            headers={
                "X-RateLimit-Limit": "100000",
                "X-RateLimit-Remaining": "99999",
                "X-RateLimit-Reset": reset,
            },
        )

    async def me(_request: Request) -> Response:
        return answer(me_body)

    async def contacts(request: Request) -> Response:
        await request.body()
        return answer(contact_body)

    app = Starlette(routes=[Route("/me", me), Route("/contacts", contacts, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def wait_up(base_url: str, timeout: float = 15.0) -> None:
    """Block until the endpoint answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base_url}/me", timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("benchmark endpoint did not start")


def per_call_us(fn: Callable[[], object], calls: int) -> tuple[list[float], float]:
    """Wall microseconds of each of ``calls`` calls of ``fn``, and mean CPU µs per call."""
    times = []
    cpu0 = time.process_time_ns()
    for _ in range(calls):
        t0 = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - t0) / 1_000)
    return times, (time.process_time_ns() - cpu0) / 1_000 / calls


def main() -> None:
    """Start the endpoint, time both clients, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per client per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    from intercom_api.client import IntercomClient
    from intercom_api.pacing import NullPacer

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_up(base)
        headers = {
            "Authorization": f"Bearer {TOKEN}",
            "Intercom-Version": "2.16",
            "Accept": "application/json",
        }
        raw = httpx.Client(base_url=base, headers=headers, timeout=30)
        ours = IntercomClient(base, TOKEN)
        unpaced = IntercomClient(base, TOKEN, pacer=NullPacer())
        body = {"role": "user", "email": "a@example.test", "external_id": "hesk:customer:1"}
        cases: dict[str, Callable[[], object]] = {
            "GET /me raw httpx": lambda: raw.get("/me").json(),
            "GET /me IntercomClient": ours.me,
            "GET /me IntercomClient (NullPacer)": unpaced.me,
            "POST /contacts raw httpx": lambda: raw.post("/contacts", json=body).json(),
            "POST /contacts IntercomClient": lambda: ours.create_contact(**body),
        }
        samples: dict[str, list[float]] = {name: [] for name in cases}
        cpu: dict[str, list[float]] = {name: [] for name in cases}
        for fn in cases.values():  # warm up connections and code paths
            per_call_us(fn, 200)
        for _ in range(args.rounds):
            for name, fn in cases.items():
                wall, cpu_us = per_call_us(fn, args.calls)
                samples[name].extend(wall)
                cpu[name].append(cpu_us)
        raw.close()
        ours.close()
        unpaced.close()
    finally:
        server.terminate()
        server.wait(timeout=10)

    med = {name: statistics.median(v) for name, v in samples.items()}
    p90 = {name: statistics.quantiles(v, n=10)[-1] for name, v in samples.items()}
    cpu_med = {name: statistics.median(v) for name, v in cpu.items()}
    print(
        f"python {sys.version.split()[0]}, httpx {httpx.__version__}, {os.cpu_count()} CPUs, "
        f"{args.rounds} rounds x {args.calls} calls per case, loopback, keep-alive\n"
    )
    print("| case | wall median µs | wall p90 µs | client CPU µs/call |")
    print("|---|---:|---:|---:|")
    for name in cases:
        print(f"| {name} | {med[name]:.0f} | {p90[name]:.0f} | {cpu_med[name]:.0f} |")
    print()
    for label, ours_name, raw_name in (
        ("GET", "GET /me IntercomClient", "GET /me raw httpx"),
        ("GET, NullPacer", "GET /me IntercomClient (NullPacer)", "GET /me raw httpx"),
        ("POST", "POST /contacts IntercomClient", "POST /contacts raw httpx"),
    ):
        cpu_over = cpu_med[ours_name] - cpu_med[raw_name]
        wall_over = med[ours_name] - med[raw_name]
        print(f"client overhead per {label}: CPU {cpu_over:+.0f} µs, wall {wall_over:+.0f} µs")


if __name__ == "__main__":
    main()

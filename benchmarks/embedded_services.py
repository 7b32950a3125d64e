"""Start-up cost of the embedded ledger (PostgreSQL) and broker (Valkey): seconds to ready.

Each round, in a fresh folder under the system temporary folder (deleted at the end):

    cold   PostgreSQL: initdb + start until a query answers (the demo's first run);
           Valkey: start until PING answers
    warm   PostgreSQL again on the same cluster (every later demo run); Valkey again
    stop   both stopped (fast shutdown / SIGTERM) until their processes are gone

Prints one JSON object with the median, min and max of each figure over ``--rounds`` and the
machine's load average, so figures from a busy shared machine can be told apart.

    .venv/bin/python benchmarks/embedded_services.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.embedded import EmbeddedPostgres, EmbeddedRedis  # noqa: E402


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def one_round() -> dict[str, float]:
    """Seconds of each step of one round."""
    root = Path(tempfile.mkdtemp(prefix="h2i-bench-embedded-"))
    root.chmod(0o755)  # as root, PostgreSQL runs as another user who must enter it
    try:
        pg, rd = EmbeddedPostgres(root / "postgres"), EmbeddedRedis(root / "redis")
        figures = {"postgres_cold": _timed(pg.start), "valkey_cold": _timed(rd.start)}
        figures["stop_both"] = _timed(lambda: (pg.stop(), rd.stop()))
        pg, rd = EmbeddedPostgres(root / "postgres"), EmbeddedRedis(root / "redis")
        figures["postgres_warm"] = _timed(pg.start)
        figures["valkey_warm"] = _timed(rd.start)
        pg.stop()
        rd.stop()
        figures["ready_cold"] = figures["postgres_cold"] + figures["valkey_cold"]
        figures["ready_warm"] = figures["postgres_warm"] + figures["valkey_warm"]
        return figures
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    """Run the rounds and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = [one_round() for _ in range(args.rounds)]
    result = {
        name: {
            "median_s": round(statistics.median(r[name] for r in rounds), 2),
            "min_s": round(min(r[name] for r in rounds), 2),
            "max_s": round(max(r[name] for r in rounds), 2),
        }
        for name in rounds[0]
    }
    print(
        json.dumps(
            {
                "rounds": args.rounds,
                "cpus": os.cpu_count(),
                "load_average": [round(x, 1) for x in os.getloadavg()],
                "python": platform.python_version(),
                "figures": result,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

"""Chaos at full size: any crash at any instant ends in the same Intercom as a clean run.

A generated Hesk (``--tickets``, the demo generator, in a fresh database it creates) is
migrated by ``hesk2intercom migrate --workers 0`` and ``hesk2intercom worker`` processes
while, at random instants drawn from the printed seed, worker processes and the ``migrate``
coordinator are killed with SIGKILL (``--kills``) and started again as a user would, the
simulator loses 5% of responses after doing the write, answers 2% with 5xx and has 429
storms (every call refused for ``--storm-seconds``), and a private PostgreSQL (the ledger)
and Redis (the broker), started by this script, are each restarted (``--restarts``). A
clean migration into a second simulator gives the expected workspace (run first, so the
times compare; ``--clean-beside`` runs it at the same time). Then the same for a
cutover ``delta`` (``--delta-kills``), then ``rollback`` killed half-way
(``--rollback-kills``). ``--target tickets`` runs the same campaign with the map's
``target: tickets`` (Hesk tickets become Intercom tickets). Details and checks:
``tests/helpers/chaos_campaign.py``.

    .venv/bin/python benchmarks/chaos.py [--tickets 1000] [--kills 100] [--restarts 2]
        [--storms 3] [--storm-seconds 20] [--delta-kills 10] [--rollback-kills 20]
        [--target conversations|tickets] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers.chaos_campaign import Plan, run_campaign  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--restarts", type=int, default=2, help="of PostgreSQL and of Redis")
    parser.add_argument("--storms", type=int, default=3)
    parser.add_argument("--storm-seconds", type=float, default=20.0)
    parser.add_argument("--delta-kills", type=int, default=10)
    parser.add_argument("--rollback-kills", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--target",
        choices=("conversations", "tickets"),
        default="conversations",
        help="the map's target (default conversations)",
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--clean-beside",
        action="store_true",
        help="run the clean migration at the same time (faster, timing unfair)",
    )
    args = parser.parse_args()
    plan = Plan(
        tickets=args.tickets,
        kills=args.kills,
        pg_restarts=args.restarts,
        redis_restarts=args.restarts,
        storms=args.storms,
        storm_seconds=args.storm_seconds,
        delta_kills=args.delta_kills,
        rollback_kills=args.rollback_kills,
        workers=args.workers,
        clean_beside=args.clean_beside,
        target=args.target,
        seed=args.seed if args.seed is not None else random.randrange(1_000_000),
    )
    figures = run_campaign(plan, say=lambda line: print(line, flush=True))
    m = figures["migrate"]
    print(
        f"kills survived {m['kills']} (+{figures['delta']['kills']} in delta, "
        f"+{figures['rollback']['kills']} in rollback); commands run again after a "
        f"non-zero exit {m['reruns']} (exit codes {m['exits']}); PostgreSQL restarts "
        f"{m['pg_restarts']}, Redis restarts {m['redis_restarts']}, 429 storms {m['storms']}"
    )
    print(f"faults injected {json.dumps(m['faults'])}")
    print(
        f"calls per write {m['calls_per_write']} (clean {m['clean_calls_per_write']}); "
        f"time {m['seconds']} s against {m['clean_seconds']} s clean"
    )
    print(
        f"result ({args.target}): same workspace as the clean run, 0 duplicates, nothing "
        "pending, every intent settled, 0 notifications; rollback removed exactly what was "
        "created"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Dirty data by the thousand: drawn Hesk rows at every column's edge, discovered and migrated.

Draws help desks with the property-based test's strategies (``tests/helpers/dirty_rows.py``:
every column of tickets, replies, notes, attachments, customers, staff, categories and KB at
its type's edges) until ``--records`` source rows, loads them into one fresh database with
the real Hesk schema (real MariaDB), runs ``discover`` and then ``migrate`` (every unit run in
this process, against the simulator over HTTP) and checks that every record ended migrated,
quarantined or skipped with a reason, that the report adds up and that every intended write
has its outcome. Prints the seed, the counts, the findings by kind and the times.

    .venv/bin/python benchmarks/dirty_data.py [--records 10000] [--seed N] [--keep-going]
"""

from __future__ import annotations

import argparse
import random
import sys
import uuid
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, seed, settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.testing import running_simulator  # noqa: E402
from tests.helpers.dirty_migration import run_dirty  # noqa: E402
from tests.helpers.dirty_rows import HelpDesk, help_desk  # noqa: E402

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def draw_desks(records: int, at_seed: int) -> list[HelpDesk]:
    """Drawn help desks holding at least ``records`` source rows in all (drawn in rounds of
    a few dozen examples, each round seeded from ``at_seed``)."""
    desks: list[HelpDesk] = []
    for round_no in range(10_000):
        if sum(d.records() for d in desks) >= records:
            break

        @settings(
            max_examples=40,
            phases=[Phase.generate],
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @seed(at_seed * 10_000 + round_no)
        @given(help_desk(max_tickets=8))
        def collect(desk: HelpDesk) -> None:
            desks.append(desk)

        collect()
    return desks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    at_seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    print(f"seed {at_seed} (rerun with --seed {at_seed})", flush=True)
    desks = draw_desks(args.records, at_seed)
    total = sum(d.records() for d in desks)
    print(f"drew {len(desks)} help desks, {total} source rows", flush=True)
    ledger = f"h2i_dirtybench_{uuid.uuid4().hex[:8]}"
    try:
        with running_simulator(token="dirty-bench-token", rate_limit=1_000_000) as sim:
            figures = run_dirty(sim, f"{PG_SERVER}/{ledger}", desks, label="dirtybench")
    finally:
        admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{ledger}" WITH (FORCE)')
        admin.dispose()
    report = figures["report"]
    states = Counter()
    for obj, c in report["objects"].items():
        for state in ("migrated", "quarantined", "skipped", "pending"):
            states[state] += c[state]
        if c["source"]:
            print(
                f"  {obj:16} source {c['source']:6}  migrated {c['migrated']:6}  "
                f"quarantined {c['quarantined']:5}  skipped {c['skipped']:5}  "
                f"pending {c['pending']}"
            )
    kinds = Counter(f["kind"] for f in figures["discover"]["findings"])
    print("findings: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    reasons = Counter(e["reason"].split(":")[0][:60] for e in report["quarantined"])
    print("quarantine reasons: " + "; ".join(f"{r} ({n})" for r, n in reasons.most_common(8)))
    print(
        f"records {figures['records']}: migrated {states['migrated']}, quarantined "
        f"{states['quarantined']}, skipped {states['skipped']}, pending {states['pending']}; "
        f"crashes 0; writes {report['api_calls']['writes_intended']} intended, "
        f"{report['api_calls']['writes_succeeded']} succeeded, "
        f"{report['api_calls']['writes_failed']} failed"
    )
    print(f"discover {figures['discover_seconds']} s, migrate {figures['migrate_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

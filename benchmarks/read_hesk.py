"""Benchmark: records/s and peak RSS of HeskReader.iter_all() on generated databases.

    .venv/bin/python benchmarks/read_hesk.py --tickets 10000 --tickets 100000

For each size it (re)generates ``h2i_bench_hesk_<N>`` (demo data, ~5 replies per ticket,
dirty knobs on), then reads every record in a fresh child process and prints records/s and
the child's peak RSS; flat RSS across sizes shows memory does not grow with history.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SERVER = "mysql+pymysql://root@127.0.0.1:3306"


def read_all(url: str, attachments: str) -> dict[str, object]:
    """Read every record once; return counts, seconds and peak RSS (MiB) of this process."""
    from hesk.reader import HeskReader

    started = time.monotonic()
    counts: Counter[str] = Counter()
    with HeskReader(url, "hesk_", attachments) as reader:
        for record in reader.iter_all():
            counts[record.OBJECT] += 1
        findings = len(reader.findings)
    seconds = time.monotonic() - started
    total = sum(counts.values())
    return {
        "records": total,
        "seconds": round(seconds, 2),
        "records_per_s": round(total / seconds),
        "findings": findings,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "counts": dict(counts),
    }


def main() -> None:
    """Parse arguments, generate and measure each size, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--tickets",
        type=int,
        action="append",
        help="database size in tickets (repeatable; default 10000)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    parser.add_argument("--read", nargs=2, metavar=("URL", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read:
        print(json.dumps(read_all(*args.read)))
        return
    from hesk.demo_data import generate

    rows = []
    for n in args.tickets or [10_000]:
        url = f"{SERVER}/h2i_bench_hesk_{n}"
        with tempfile.TemporaryDirectory() as folder:
            summary = generate(url, folder, tickets=n, seed=args.seed)
            out = subprocess.run(
                [sys.executable, __file__, "--read", url, folder],
                check=True,
                capture_output=True,
                text=True,
            )
            result = json.loads(out.stdout)
        if not args.keep:
            import pymysql

            conn = pymysql.connect(host="127.0.0.1", user="root", password="")
            conn.cursor().execute(f"DROP DATABASE IF EXISTS `h2i_bench_hesk_{n}`")
            conn.close()
        rows.append((n, summary, result))
        print(
            f"{n} tickets: generated in {summary.seconds}s; read {result['records']} "
            f"records in {result['seconds']}s = {result['records_per_s']}/s, "
            f"peak RSS {result['peak_rss_mib']} MiB",
            file=sys.stderr,
        )
    print(
        "| tickets | replies | records read | generate (s) | read (s) | records/s "
        "| peak RSS (MiB) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, summary, r in rows:
        print(
            f"| {n:,} | {summary.replies:,} | {r['records']:,} | {summary.seconds} "
            f"| {r['seconds']} | {r['records_per_s']:,} | {r['peak_rss_mib']} |"
        )


if __name__ == "__main__":
    main()

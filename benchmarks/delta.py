"""The cost of a cutover delta grows with the changes, not with the history.

For each size: a demo Hesk database of N tickets (generated once, reused when it exists),
captured whole into a fresh ledger as ``migrate`` does, then 100 changes made the way Hesk
makes them (40 new replies, 30 renamed tickets, 20 closed, 10 new tickets). Then the
delta's capture is timed twice: right after the changes, and again with nothing changed.
Printed per size: the capture time, the records it found new or changed (each becomes a
unit to write; a ticket with a new reply is re-planned and writes only the new part), and
the time of the id-set comparison that finds deletions (the one part that reads every id).

    .venv/bin/python benchmarks/delta.py [--tickets 10000 100000] [--changes 100]
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

import pymysql
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from commands import delta as delta_mod  # noqa: E402
from core.settings import load_settings  # noqa: E402
from engine.capture import capture_source  # noqa: E402
from engine.resources import Resources  # noqa: E402
from hesk.demo_data import generate  # noqa: E402
from hesk.reader import HeskReader  # noqa: E402
from ledger.dispositions import Dispositions  # noqa: E402
from ledger.events import MapConfirmed  # noqa: E402
from ledger.projections import ProjectionTable  # noqa: E402
from tests.helpers.hesk_writes import HeskWriter  # noqa: E402

LEDGER = "postgresql+psycopg://postgres@127.0.0.1:5432/h2i_bench_delta"
WORK = Path("/tmp/h2i-bench-delta")


def hesk_db(tickets: int) -> str:
    """The demo database of this size (generated on first use)."""
    name = f"h2i_bench_delta_{tickets}"
    url = f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    conn = pymysql.connect(host="127.0.0.1", user="root")
    with conn.cursor() as cur:
        cur.execute("SHOW DATABASES LIKE %s", (name,))
        exists = cur.fetchone() is not None
    conn.close()
    if not exists:
        t0 = time.monotonic()
        generate(url, WORK / f"att-{tickets}", tickets=tickets, seed=1)
        print(f"  generated {tickets:,} tickets in {time.monotonic() - t0:.0f} s", flush=True)
    return url


def make_changes(url: str, n: int, tag: str) -> None:
    """n changes spread as Hesk users make them: replies, renames, closes, new tickets."""
    w = HeskWriter(url)
    ids = [
        int(r["id"])
        for r in w.query("SELECT id FROM hesk_tickets ORDER BY id DESC LIMIT %s", n * 3)
    ]
    replies, renames, closes = int(n * 0.4), int(n * 0.3), int(n * 0.2)
    news = n - replies - renames - closes
    for i in range(replies):
        w.add_reply(ids[i], f"bench reply {tag} {i}")
    for i in range(renames):
        w.set_subject(ids[replies + i], f"bench rename {tag} {i}")
    for i in range(closes):
        w.close(ids[replies + renames + i])
    for i in range(news):
        w.copy_ticket(ids[i], f"B{tag[:4]}{i:08d}"[:13])
    w.close_connection()


def run(tickets: int, changes: int) -> dict[str, float]:
    """Capture N tickets whole, change them, time the delta's capture twice."""
    url = hesk_db(tickets)
    name = f"bench-{uuid.uuid4().hex[:6]}"
    settings = load_settings(
        ledger_url=LEDGER, hesk_url=url, migration=name, intercom_token=SecretStr("unused")
    )
    res = Resources.from_settings(settings)
    # capture keeps what a map migrates: the defaults (no IP, no custom field values)
    the_map = {"version": 1, "options": {}}
    res.ledger.append_one(
        MapConfirmed(object="map", source_id="map", map_hash="bench", map=the_map)
    )
    t0 = time.monotonic()
    with HeskReader.from_settings(settings) as reader:
        capture_source(res.ledger, reader, "run-1", the_map=the_map)
    full = time.monotonic() - t0
    # migrate keeps the dispositions projection caught up; a delta starts from there
    ProjectionTable(res.engine, res.ledger.migration_id, Dispositions()).catch_up()
    time.sleep(1.1)  # lastchange has one-second resolution
    make_changes(url, changes, uuid.uuid4().hex[:6])
    out = {"full_capture_s": full}
    for label in ("delta", "again"):
        timings: dict[str, float] = {}
        find = delta_mod.find_deletions

        def timed_find(*a, _f=find, _t=timings):
            s = time.monotonic()
            r = _f(*a)
            _t["deletions_s"] = time.monotonic() - s
            return r

        delta_mod.find_deletions = timed_find
        t1 = time.monotonic()
        with HeskReader.from_settings(settings) as reader:
            stats, _since, _gone = delta_mod.capture_delta(res, reader, f"{label}-{tickets}")
        delta_mod.find_deletions = find
        out[f"{label}_capture_s"] = time.monotonic() - t1
        out[f"{label}_deletions_s"] = timings["deletions_s"]
        out[f"{label}_to_write"] = sum(stats.new.values())
        out[f"{label}_tickets"] = stats.new.get("ticket", 0)
    res.close()
    return out


def main() -> None:
    """Print the figures for each size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--changes", type=int, default=100)
    args = parser.parse_args()
    print(
        f"{'tickets':>8} {'full capture':>13} {'delta capture':>14} {'of which ids':>13} "
        f"{'to write':>9} {'2nd delta':>10} {'to write':>9}"
    )
    for n in args.tickets:
        r = run(n, args.changes)
        print(
            f"{n:>8,} {r['full_capture_s']:>12.1f}s {r['delta_capture_s']:>13.2f}s "
            f"{r['delta_deletions_s']:>12.2f}s {r['delta_to_write']:>9.0f} "
            f"{r['again_capture_s']:>9.2f}s {r['again_to_write']:>9.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()

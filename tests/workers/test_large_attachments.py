"""Large attachments, end to end over HTTP: files that do not fit one request together are
split into more parts (order kept, every byte arrives); a file that cannot fit even alone
is quarantined with its size and the limit. The simulator refuses bodies over its limit
with a 413, as Intercom does, so a part packed by count alone would lose all its files.

The request limit is small here (64 KB, files of tens of KB) to keep the test fast; the
arithmetic is the same as with the real 50 MB default.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from commands.map import confirm, propose
from hesk.demo_data import DirtyKnobs, generate
from ledger.database import open_engine
from mapping.mapfile import dump_map_yaml
from reports.report import build_report
from simulator.testing import SimulatorHandle, admin_headers
from tests.helpers.hesk import HeskSource
from tests.helpers.migration import e2e_settings, migrate, seed_workspace
from tests.helpers.simulator import simulator_with

LIMIT = 64 * 1024
#: name -> size: three files of which any two overflow a request, and one too big alone
#: (its base64 is 4/3 of it: 80 KB > 64 KB).
FILES = {"scan-1.pdf": 30_000, "scan-2.pdf": 30_000, "huge.iso": 60_000, "scan-3.pdf": 30_000}


def _content(name: str, size: int) -> bytes:
    block = hashlib.sha256(name.encode()).digest()
    return (block * (size // len(block) + 1))[:size]


@pytest.fixture(scope="module")
def big_files_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeskSource]:
    """A tiny clean help desk whose first reply lists the four files above."""
    name = f"h2i_bigfiles_{os.getpid()}"
    url = f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    folder = tmp_path_factory.mktemp("attachments-bigfiles")
    generate(url, folder, tickets=3, seed=5, dirty=DirtyKnobs.clean())
    conn = pymysql.connect(host="127.0.0.1", user="root", database=name, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT r.id, t.trackid FROM hesk_replies r JOIN hesk_tickets t "
                "ON t.id = r.replyto ORDER BY r.id LIMIT 1"
            )
            reply_id, trackid = cur.fetchone()
            refs = ""
            for real, size in FILES.items():
                saved = f"{trackid}_{hashlib.md5(real.encode()).hexdigest()}.bin"
                (folder / saved).write_bytes(_content(real, size))
                cur.execute(
                    "INSERT INTO hesk_attachments (ticket_id, saved_name, real_name, "
                    "size, type) VALUES (%s, %s, %s, %s, '0')",
                    (trackid, saved, real, size),
                )
                refs += f"{cur.lastrowid}#{real},"
            cur.execute("UPDATE hesk_replies SET attachments = %s WHERE id = %s", (refs, reply_id))
        yield HeskSource(url, Path(folder), 3)
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


@pytest.fixture(scope="module")
def small_limit_sim() -> Iterator[SimulatorHandle]:
    """A simulator that answers 413 above :data:`LIMIT` bytes of request body."""
    with simulator_with(max_body_bytes=LIMIT) as sim:
        yield sim


def test_large_files_split_into_parts_and_the_too_big_one_is_quarantined(
    small_limit_sim: SimulatorHandle,
    big_files_source: HeskSource,
    ledger_url: str,
    tmp_path: Path,
) -> None:
    sim = small_limit_sim
    seed_workspace(sim, big_files_source)
    settings = e2e_settings(sim, big_files_source, ledger_url)
    proposal = propose(settings)
    proposal["options"]["max_request_bytes"] = LIMIT
    map_file = tmp_path / "map.yaml"
    map_file.write_text(dump_map_yaml(proposal), encoding="utf-8")
    confirm(settings, map_file)
    migrate(settings, tmp_path, workers=1, threads=2)

    stats = sim.stats()
    assert all("413" not in by_status for by_status in stats["requests"].values()), stats
    parts = [
        p
        for c in sim.dump()["conversations"]
        for p in c["conversation_parts"]["conversation_parts"]
        if p["attachments"]
    ]
    got = [(a["name"], a["filesize"]) for p in parts for a in p["attachments"]]
    # every file that fits alone arrived, in the reply's order, one per part
    assert got == [("scan-1.pdf", 30_000), ("scan-2.pdf", 30_000), ("scan-3.pdf", 30_000)]
    assert len(parts) == 3
    assert len({p["created_at"] for p in parts}) == 1
    for part in parts:
        attachment = part["attachments"][0]
        data = sim.client().get(attachment["url"], headers=admin_headers(sim.token)).content
        assert data == _content(attachment["name"], attachment["filesize"])

    report = build_report(open_engine(ledger_url), settings.migration)
    attachments = report["objects"]["attachment"]
    assert attachments["migrated"] == 3 and attachments["quarantined"] == 1
    assert attachments["pending"] == 0
    (reason,) = [q["reason"] for q in report["quarantined"] if q["object"] == "attachment"]
    assert "60000 bytes" in reason and str(LIMIT) in reason and "max_request_bytes" in reason
    assert report["objects"]["reply"]["quarantined"] == 0

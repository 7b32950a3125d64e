"""``H2I_DEMO_EMBEDDED=1 hesk2intercom demo``: the whole demo as on a machine with only
Python, whatever runs here: the ledger on an embedded PostgreSQL, the broker on an
embedded Valkey (each in ``<out>/services/``, stopped at the end) and the Hesk side from
the demo's HESK export file. Also: the shipped export is what its generator makes."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pymysql
import pytest
import redis
import sqlalchemy as sa
from rich.console import Console

import commands.demo as demo_command
from commands.demo import DemoOptions, run_demo
from commands.demo_services import DemoPaths
from core.embedded import embedded_services
from hesk import demo_export
from tests.helpers.private_services import listening

BIN = Path(sys.executable).with_name("hesk2intercom")


@pytest.fixture
def out() -> Iterator[Path]:
    """The demo's --out, in a folder others may enter (as root, the embedded PostgreSQL
    runs as another user; pytest's own temporary folders are private to root)."""
    root = Path(tempfile.mkdtemp(prefix="h2i-demo-embedded-"))
    root.chmod(0o755)
    yield root / "demo-output"
    for proc in psutil.process_iter(["cmdline"]):
        if any(str(root) in part for part in proc.info["cmdline"] or ()):
            proc.kill()
    shutil.rmtree(root, ignore_errors=True)


def test_the_whole_demo_runs_on_embedded_services(out: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("H2I_")}
    run = subprocess.run(
        [str(BIN), "demo", "--tickets", "12", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**env, "H2I_DEMO_EMBEDDED": "1", "COLUMNS": "300"},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    said = run.stdout
    pg_port = int(re.search(r"embedded PostgreSQL on 127\.0\.0\.1:(\d+)", said).group(1))
    rd_port = int(
        re.search(r"embedded Valkey \(Redis protocol\) on 127\.0\.0\.1:(\d+)", said).group(1)
    )
    assert "Hesk: a HESK export file" in said and "An export cannot carry" in said
    migration = re.search(r"\(migration (demo-[\w-]+)\)", said).group(1)

    report = json.loads((out / "report.json").read_text())
    assert report["objects"]["ticket"]["migrated"] == 12
    assert report["objects"]["reply"]["migrated"] > 12
    assert all(row["pending"] == 0 for row in report["objects"].values())
    assert "customer notifications sent: 0" in said

    # both servers stopped, cleanly (no pid file left), and no process of theirs remains
    assert not listening(pg_port) and not listening(rd_port)
    assert not (out / "services" / "postgres" / "data" / "postmaster.pid").exists()
    assert not (out / "services" / "redis" / "valkey.pid").exists()
    # the machine's Redis carried nothing of this migration: the broker was the embedded one
    machine = redis.Redis(host="127.0.0.1", port=6379)
    assert list(machine.scan_iter(match=f"*{migration}*", count=1000)) == []
    machine.close()
    # the ledger is in the embedded cluster
    with embedded_services(out / "services", broker=False) as services:
        engine = sa.create_engine(services.postgres.url("h2i_demo_ledger"))  # type: ignore[union-attr]  # started with a ledger: postgres is set
        with engine.connect() as conn:
            tables = {
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            }
        engine.dispose()
    assert tables, "the embedded ledger holds no tables"


def test_an_embedded_ledger_and_broker_beside_this_machines_mariadb(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only PostgreSQL and Redis missing: those two embedded, MariaDB used as today."""
    monkeypatch.setattr(
        demo_command, "choose_paths", lambda base: DemoPaths("embedded", "embedded", "database")
    )
    for name in [k for k in os.environ if k.startswith("H2I_")]:
        monkeypatch.delenv(name)
    hesk_db = f"h2i_test_demo_emb_{uuid.uuid4().hex[:8]}"
    console = Console(file=io.StringIO(), width=300)
    try:
        result = run_demo(
            DemoOptions(tickets=8, workers=1, out=out, hesk_database=hesk_db), console
        )
    finally:
        conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{hesk_db}`")
        conn.close()
    said = console.file.getvalue()  # type: ignore[attr-defined]  # the console writes to the StringIO above
    assert "embedded PostgreSQL on 127.0.0.1:" in said and "embedded Valkey" in said
    assert "Hesk: a MariaDB database" in said
    objects = result["report"]["objects"]
    assert objects["ticket"]["source"] == 8
    assert all(row["pending"] == 0 for row in objects.values())
    pg_port = int(re.search(r"embedded PostgreSQL on 127\.0\.0\.1:(\d+)", said).group(1))
    assert not listening(pg_port)
    assert not (out / "services" / "postgres" / "data" / "postmaster.pid").exists()
    assert not (out / "services" / "redis" / "valkey.pid").exists()


def test_the_shipped_demo_export_is_what_its_generator_makes(tmp_path: Path) -> None:
    made = demo_export.make(None, tmp_path / "fresh.zip")

    def xml(path: Path) -> tuple[str, bytes]:
        with zipfile.ZipFile(path) as zf:
            (name,) = zf.namelist()
            return name, zf.read(name)

    assert xml(made) == xml(demo_export.DEMO_EXPORT), (
        "hesk/demo_export.zip is stale: run python -m hesk.demo_export"
    )

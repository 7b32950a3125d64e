"""The command line as a user runs it: a real process, real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import PG_ADMIN_URL

BIN = Path(sys.executable).with_name("hesk2intercom")
CONTRACT = [
    "demo", "discover", "map", "preflight", "migrate", "status", "report", "verify",
    "delta", "cutover", "rollback", "worker", "simulator", "inventory", "idmap", "redirects",
]


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=full_env, timeout=120
    )


def test_help_lists_every_contract_command_and_setting() -> None:
    out = run("--help")
    assert out.returncode == 0
    listed = {
        line.split()[0]
        for line in out.stdout.split("Commands:", 1)[1].splitlines()
        if line.startswith("  ") and line.strip()
    }
    assert set(CONTRACT) <= listed, set(CONTRACT) - listed
    for setting in ("H2I_LEDGER_URL", "H2I_REDIS_URL", "H2I_HESK_URL", "H2I_INTERCOM_TOKEN",
                    "H2I_INTERCOM_REGION", "H2I_INTERCOM_BASE_URL", "H2I_MIGRATION",
                    "H2I_HESK_TABLE_PREFIX", "H2I_HESK_ATTACHMENTS_DIR"):
        assert setting in out.stdout, setting
    codes = " ".join(out.stdout.split())
    for code in ("0 done", "2 usage or configuration error", "3 preflight found blockers",
                 "4 work left pending", "5 verify found a difference"):
        assert code in codes, code
    verify_help = " ".join(run("verify", "--help").stdout.split())
    assert "exit 5" in verify_help


def test_status_on_an_empty_postgres_creates_the_ledger_and_prints_empty_status() -> None:
    name = f"h2i_cli_{uuid.uuid4().hex[:8]}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        out = run("status", "--json", H2I_LEDGER_URL=url)
        assert out.returncode == 0, out.stderr
        assert '"events": 0' in out.stdout
        assert '"ticket"' in out.stdout
    finally:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_unreachable_ledger_is_one_clear_line_and_exit_2() -> None:
    out = run("status", H2I_LEDGER_URL="postgresql+psycopg://postgres:hunter2pass@127.0.0.1:1/x")
    assert out.returncode == 2
    assert "cannot reach the ledger" in out.stderr
    assert "Traceback" not in out.stderr
    assert "hunter2pass" not in out.stderr + out.stdout


def test_malformed_ledger_url_is_a_usage_error() -> None:
    out = run("status", H2I_LEDGER_URL="not a url")
    assert out.returncode == 2
    assert "H2I_LEDGER_URL" in out.stderr and "Traceback" not in out.stderr

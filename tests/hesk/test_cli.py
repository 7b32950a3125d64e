"""The hesk commands: thin, JSON contract on stdout, one-line errors with exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from cli import app


def test_discover_json_via_cli(demo, monkeypatch) -> None:
    monkeypatch.setenv("H2I_HESK_URL", demo.url)
    monkeypatch.setenv("H2I_HESK_ATTACHMENTS_DIR", str(demo.attachments))
    result = CliRunner().invoke(app, ["discover", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {"hesk_version", "counts", "attachments", "findings"}


def test_wrong_dsn_is_exit_2_without_password() -> None:
    env = {**os.environ, "H2I_HESK_URL": "mysql+pymysql://root:t0psecret@127.0.0.1:1/hesk"}
    result = subprocess.run(
        [sys.executable, "-c", "from cli import app; app()", "discover"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 2, result.stderr
    assert "t0psecret" not in result.stdout + result.stderr
    assert "cannot reach the Hesk database" in result.stderr

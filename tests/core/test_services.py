"""``make test`` and ``make demo`` start a loopback service that is down, and fail with one
line saying which when it cannot be reached. Shown on a Redis server of the test's own
(the machine's shared servers are never stopped)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.ports import free_port, reachable
from core.services import Service, ensure, main


def test_a_down_service_is_started(tmp_path: Path) -> None:
    port = free_port()
    service = Service(
        "Private Redis",
        "127.0.0.1",
        port,
        [
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--dir",
                str(tmp_path),
                "--logfile",
                str(tmp_path / "redis.log"),
                "--pidfile",
                str(tmp_path / "redis.pid"),
            ]
        ],
    )
    assert not reachable(service.host, port)
    try:
        assert ensure(service, wait_seconds=20) is None
        assert reachable(service.host, port)
        assert ensure(service) is None  # already up: nothing to do
    finally:
        subprocess.run(
            ["redis-cli", "-p", str(port), "shutdown", "nosave"],
            capture_output=True,
            check=False,
            timeout=30,
        )


def test_a_service_that_cannot_start_fails_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = free_port()
    missing = Service("Nothing", "127.0.0.1", port, [["h2i-no-such-command", "start"], ["true"]])
    assert main([missing], wait_seconds=1) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: Nothing is not reachable on 127.0.0.1:{port} and could not be "
        "started; start it (or point the H2I_ URLs at a running one) and try again"
    ]


def test_a_skipped_test_fails(tmp_path: Path) -> None:
    """The suite's plugin reports a skip (e.g. a missing service) as a failure."""
    (tmp_path / "test_skips.py").write_text(
        "import pytest\n\ndef test_needs_a_service():\n    pytest.skip('no server')\n",
        encoding="utf-8",
    )
    repo = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.no_skips",
            "test_skips.py",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(repo)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1, run.stdout
    assert "1 failed" in run.stdout and "never skips" in run.stdout

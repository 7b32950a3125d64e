"""``hesk2intercom simulator``: token from H2I_INTERCOM_TOKEN, real server, exit 2 without."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "H2I_INTERCOM_TOKEN"}
    empty = tmp / "empty.toml"  # no settings from a file (a missing one is an error)
    empty.write_text("")
    env["H2I_CONFIG_FILE"] = str(empty)
    return {**env, **extra}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from cli import app; app()", *args]


def test_missing_token_exits_2_with_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        _cli("simulator"), cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    lines = [
        line for line in done.stderr.splitlines() if line.strip() and not line.startswith("{")
    ]  # JSON log lines aside
    assert len(lines) == 1 and "H2I_INTERCOM_TOKEN" in lines[0]


def test_serves_with_the_settings_token(tmp_path: Path) -> None:
    port = free_port()
    state = tmp_path / "state.json"
    proc = subprocess.Popen(
        _cli(
            "simulator",
            "--port",
            str(port),
            "--rate-limit",
            "50",
            "--state",
            str(state),
            "--faults",
            "rate_5xx=0",
        ),
        cwd=ROOT,
        env=_env(tmp_path, H2I_INTERCOM_TOKEN="cli-token"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"{base}/me", headers={"Authorization": "Bearer cli-token"})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "simulator did not start"
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == "50"
        assert httpx.get(f"{base}/me").status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert state.exists()  # saved on shutdown


def test_a_taken_port_exits_2_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for command in (
            _cli("simulator", "--port", str(port)),
            [sys.executable, "-m", "simulator.server", "--port", str(port)],
        ):
            done = subprocess.run(
                command,
                cwd=ROOT,
                env=_env(tmp_path, H2I_INTERCOM_TOKEN="t"),
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 2, done.stderr
            lines = [
                line
                for line in done.stderr.splitlines()
                if line.strip() and not line.startswith("{")
            ]  # not the JSON log
            assert len(lines) == 1, done.stderr
            assert f"port {port}" in lines[0] and "already taken" in lines[0]
            assert "--port" in lines[0] and "Traceback" not in done.stderr
            assert "Intercom simulator on" not in done.stdout

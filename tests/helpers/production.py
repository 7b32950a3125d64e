"""A stand-in for a user's production Hesk: a MariaDB database with data and an attachments
folder with a file the user made. Tests point the ``H2I_`` settings at it and prove that
demo commands leave it byte-for-byte intact (:meth:`ProductionHesk.fingerprint`); the
``production`` fixture of ``tests/conftest.py`` gives one to a test.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pymysql

SERVER = "mysql+pymysql://root@127.0.0.1:3306"


def _connect() -> pymysql.Connection:
    return pymysql.connect(
        host="127.0.0.1", port=3306, user="root", password="", autocommit=True, charset="utf8mb4"
    )


@dataclass(frozen=True)
class ProductionHesk:
    """The user's Hesk database and attachments folder."""

    database: str
    folder: Path

    @property
    def url(self) -> str:
        """Its SQLAlchemy URL, as a user exports it in H2I_HESK_URL."""
        return f"{SERVER}/{self.database}"

    def fingerprint(self) -> dict[str, object]:
        """Every table with every row, and every file with its bytes' hash."""
        conn = _connect()
        tables: dict[str, object] = {}
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT TABLE_NAME FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME",
                    (self.database,),
                )
                for (name,) in cur.fetchall():
                    cur.execute(f"SHOW CREATE TABLE `{self.database}`.`{name}`")
                    create = cur.fetchone()[1]
                    cur.execute(f"SELECT * FROM `{self.database}`.`{name}` ORDER BY 1")
                    tables[name] = (create, cur.fetchall())
        finally:
            conn.close()
        files = {
            str(p.relative_to(self.folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(self.folder.rglob("*"))
            if p.is_file()
        }
        return {"tables": tables, "files": files}


@contextmanager
def production_hesk(tmp_path: Path) -> Iterator[ProductionHesk]:
    """A 'production' Hesk database holding tickets and a folder holding a user's file
    (in ``tmp_path``); the database is dropped on leaving."""
    name = f"h2i_test_prod_{uuid.uuid4().hex[:10]}"
    folder = tmp_path / "hesk-attachments"
    folder.mkdir()
    (folder / "R2T-1QV-6HZ5_contract.pdf").write_bytes(b"%PDF-1.4 the user's own file\n")
    (folder / "index.htm").write_text("", encoding="utf-8")
    conn = _connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            cur.execute(
                f"CREATE TABLE `{name}`.`hesk_tickets` (id INT PRIMARY KEY, "
                "trackid VARCHAR(13), subject VARCHAR(255))"
            )
            cur.execute(
                f"INSERT INTO `{name}`.`hesk_tickets` VALUES "
                "(1, 'ABC-DEF-1234', 'Printer on fire'), (2, 'GHJ-KLM-5678', 'Refund')"
            )
        yield ProductionHesk(name, folder)
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()

"""`demo-data` only ever drops and deletes what it created: never the user's Hesk or files."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from hesk.demo_claim import MARKER_FILE, MARKER_TABLE, DemoFolder, NotOurs
from tests.helpers.production import ProductionHesk

BIN = Path(sys.executable).with_name("hesk2intercom")


def run(prod: ProductionHesk, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it in the shell of a real migration (H2I_ point at prod)."""
    env = {
        **os.environ,
        "H2I_HESK_URL": prod.url,
        "H2I_HESK_ATTACHMENTS_DIR": str(prod.folder),
        "H2I_MIGRATION": "production",
    }
    return subprocess.run(
        [str(BIN), "demo-data", "--tickets", "4", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def demo_name() -> Iterator[str]:
    """A fresh database name for a demo; dropped afterwards."""
    name = f"h2i_test_demo_{uuid.uuid4().hex[:10]}"
    yield name
    conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def _tables(database: str) -> set[str]:
    conn = pymysql.connect(host="127.0.0.1", user="root")
    with conn.cursor() as cur:
        cur.execute(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (database,)
        )
        names = {r[0] for r in cur.fetchall()}
    conn.close()
    return names


def test_demo_data_needs_an_explicit_database(production: ProductionHesk) -> None:  # noqa: F811
    before = production.fingerprint()
    out = run(production)
    assert out.returncode == 2
    assert "--database" in out.stderr and "Traceback" not in out.stderr
    assert production.fingerprint() == before


def test_demo_data_refuses_a_foreign_database_even_when_named(
    production: ProductionHesk,  # noqa: F811
) -> None:
    before = production.fingerprint()
    out = run(production, "--database", production.database)
    assert out.returncode == 2, out.stderr
    assert "did not create" in out.stderr and "Traceback" not in out.stderr
    assert production.fingerprint() == before


def test_demo_data_writes_its_own_database_and_folder_never_the_settings_ones(
    production: ProductionHesk,
    demo_name: str,
    tmp_path: Path,  # noqa: F811
) -> None:
    before = production.fingerprint()
    folder = tmp_path / "demo-att"
    first = run(production, "--database", demo_name, "--attachments-dir", str(folder))
    assert first.returncode == 0, first.stderr
    assert MARKER_TABLE in _tables(demo_name) and "hesk_tickets" in _tables(demo_name)
    written = DemoFolder.claim(folder, force=False).written
    assert written and set(written) == {p.name for p in folder.iterdir()} - {MARKER_FILE}
    again = run(production, "--database", demo_name, "--attachments-dir", str(folder), "--clean")
    assert again.returncode == 0, again.stderr  # its own database and folder: recreated
    assert production.fingerprint() == before


def test_demo_data_refuses_a_folder_with_files_it_did_not_write(
    production: ProductionHesk,
    demo_name: str,  # noqa: F811
) -> None:
    before = production.fingerprint()
    out = run(production, "--database", demo_name, "--attachments-dir", str(production.folder))
    assert out.returncode == 2, out.stderr
    assert "did not write" in out.stderr
    assert not _tables(demo_name)  # refused before anything was created
    assert production.fingerprint() == before


def test_force_shares_a_folder_but_clean_deletes_only_what_it_wrote(
    production: ProductionHesk,
    demo_name: str,  # noqa: F811
) -> None:
    before = production.fingerprint()
    args = ("--database", demo_name, "--attachments-dir", str(production.folder), "--force")
    assert run(production, *args).returncode == 0
    ours = DemoFolder.claim(production.folder, force=False).written
    assert ours and all((production.folder / n).is_file() for n in ours)
    cleaned = run(production, *args, "--clean", "--tickets", "1")
    assert cleaned.returncode == 0, cleaned.stderr
    after = production.fingerprint()
    assert {
        k: v for k, v in after["files"].items() if k not in ours and k != MARKER_FILE
    } == before["files"]  # every user file, byte for byte
    assert after["tables"] == before["tables"]


def test_a_demo_folder_never_overwrites_or_deletes_a_file_it_did_not_write(
    tmp_path: Path,
) -> None:
    folder = DemoFolder.claim(tmp_path / "att", force=False)
    folder.write("a.bin", b"ours")
    (tmp_path / "att" / "user.txt").write_bytes(b"user")
    with pytest.raises(NotOurs):
        folder.write("user.txt", b"demo")
    (tmp_path / "att" / "a.bin").write_bytes(b"edited by the user")
    with pytest.raises(NotOurs):
        folder.write("a.bin", b"ours")  # changed since we wrote it: no longer ours
    folder.write("b.bin", b"also ours")
    reopened = DemoFolder.claim(tmp_path / "att", force=False)
    assert reopened.written == {
        "a.bin": hashlib.sha256(b"ours").hexdigest(),
        "b.bin": hashlib.sha256(b"also ours").hexdigest(),
    }
    removed, changed = reopened.clean()
    assert (removed, changed) == (1, ["a.bin"])
    assert (tmp_path / "att" / "user.txt").read_bytes() == b"user"
    assert (tmp_path / "att" / "a.bin").read_bytes() == b"edited by the user"
    assert not (tmp_path / "att" / "b.bin").exists()


def test_a_database_restored_under_another_name_is_not_ours(demo_name: str) -> None:
    from hesk.demo_claim import check_database

    conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{demo_name}`")
        cur.execute(f"CREATE TABLE `{demo_name}`.`{MARKER_TABLE}` (database_name VARCHAR(64))")
        cur.execute(f"INSERT INTO `{demo_name}`.`{MARKER_TABLE}` VALUES ('h2i_demo_hesk')")
        with pytest.raises(NotOurs):
            check_database(cur, demo_name, force=False)
        with pytest.raises(NotOurs):
            check_database(cur, "mysql", force=True)
    conn.close()

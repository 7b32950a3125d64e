"""Fixtures: real MariaDB databases generated per test session (never mocked, never skipped).

MariaDB must run at 127.0.0.1:3306 (root, empty password); if it does not, tests fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from hesk.demo_data import DemoSummary, generate
from hesk.reader import HeskReader

SERVER = "mysql+pymysql://root@127.0.0.1:3306"


def _drop(name: str) -> None:
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="")
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


class Demo:
    """A generated Hesk database: its URL, attachments folder and summary."""

    def __init__(self, url: str, attachments: Path, summary: DemoSummary, prefix: str) -> None:
        self.url = url
        self.attachments = attachments
        self.summary = summary
        self.prefix = prefix

    def reader(self, **kwargs: object) -> HeskReader:
        return HeskReader(self.url, self.prefix, self.attachments, **kwargs)  # type: ignore[arg-type]  # the fixture passes HeskReader's own keywords through


def _make(
    tmp_path_factory: pytest.TempPathFactory, suffix: str, **kwargs: object
) -> Iterator[Demo]:
    name = f"h2i_test_hesk_{os.getpid()}_{suffix}"
    folder = tmp_path_factory.mktemp(f"att_{suffix}")
    prefix = str(kwargs.pop("table_prefix", "hesk_"))
    summary = generate(f"{SERVER}/{name}", folder, table_prefix=prefix, **kwargs)  # type: ignore[arg-type]  # the fixture passes generate's own keywords through
    try:
        yield Demo(f"{SERVER}/{name}", folder, summary, prefix)
    finally:
        _drop(name)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """A 200-ticket Hesk 3.7.11 database with every dirty case planted."""
    yield from _make(tmp_path_factory, "main", tickets=200, seed=7)


@pytest.fixture(scope="session")
def demo_pre35(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """A Hesk < 3.5 database (no customer tables) with a custom table prefix."""
    yield from _make(
        tmp_path_factory, "pre35", tickets=60, seed=11, pre_35=True, table_prefix="old_"
    )


@pytest.fixture(scope="session")
def demo_records(demo: Demo) -> dict[str, list]:
    """Every record of the main demo database, by object name, plus the reader's findings."""
    reader = demo.reader()
    out: dict[str, list] = {}
    for rec in reader.iter_all():
        out.setdefault(rec.OBJECT, []).append(rec)
    out["__findings__"] = list(reader.findings)
    reader.close()
    return out

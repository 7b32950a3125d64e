"""Demo Hesk databases (MariaDB, dirty data included) the end-to-end tests migrate."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pymysql
import pytest

from hesk.demo_data import generate


@dataclass(frozen=True)
class HeskSource:
    """The generated Hesk database and its attachments folder."""

    url: str
    attachments: Path
    tickets: int


def make_source(
    tmp_path_factory: pytest.TempPathFactory, tag: str, tickets: int = 30, seed: int = 5
) -> HeskSource:
    """A fresh demo Hesk database (dirty data included) with its attachments folder."""
    name = f"h2i_{tag}_{os.getpid()}"
    url = f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    folder = tmp_path_factory.mktemp(f"att_{tag}")
    generate(url, folder, tickets=tickets, seed=seed)
    return HeskSource(url, folder, tickets)


def drop_source(source: HeskSource) -> None:
    """Drop the database of a source."""
    conn = pymysql.connect(host="127.0.0.1", user="root")
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{source.url.rsplit('/', 1)[1]}`")
    conn.close()

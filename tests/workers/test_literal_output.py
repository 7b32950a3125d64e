"""Hesk text is printed literally: a name with Rich markup in it neither crashes a command
nor loses its brackets (discover, map propose, preflight)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest
from rich.console import Console

from commands.map import confirm
from hesk.demo_data import generate
from hesk.discover import render_discover
from hesk.reader import HeskReader
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource
from tests.helpers.migration import e2e_settings
from tests.helpers.simulator import TOKEN

BIN = Path(sys.executable).with_name("hesk2intercom")
MARKUP = "[/] [bold]VIP[/bold] [red"


@pytest.fixture(scope="module")
def markup_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeskSource]:
    """A small Hesk whose category, custom field, staff and file names hold Rich markup."""
    name = f"h2i_test_markup_{uuid.uuid4().hex[:8]}"
    url = f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    folder = tmp_path_factory.mktemp("markup-att")
    generate(url, folder, tickets=6, seed=5)
    conn = pymysql.connect(host="127.0.0.1", user="root", database=name, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("UPDATE hesk_categories SET name = CONCAT(name, ' ', %s)", (MARKUP,))
        cur.execute("UPDATE hesk_users SET name = CONCAT(name, ' ', %s)", (MARKUP,))
        cur.execute(
            "UPDATE hesk_custom_fields SET name = REPLACE(name, '\":\"', %s) WHERE `use` <> '0'",
            ('":"' + MARKUP.replace("/", "\\/") + " ",),
        )
        cur.execute(
            "UPDATE hesk_attachments SET saved_name = CONCAT(%s, saved_name)", (MARKUP,)
        )  # every file now missing: each finding quotes a name
    try:
        yield HeskSource(url, folder, 6)
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "300", **env},
    )


def test_render_discover_prints_markup_literally() -> None:
    console = Console(file=io.StringIO(), width=300)
    report = {
        "hesk_version": "3.7 [bold]x",
        "counts": {"ticket": 1},
        "attachments": {"files": 0, "bytes": 0, "missing": 1},
        "findings": [
            {
                "kind": "missing_file",
                "object": "attachment",
                "source_id": "1",
                "detail": f"saved_name {MARKUP!r}",
            }
        ],
    }
    render_discover(report, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]  # the console writes to the StringIO above
    assert MARKUP in text and "3.7 [bold]x" in text


def test_discover_map_propose_and_preflight_print_hesk_names_literally(
    sim: SimulatorHandle, markup_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    sim.reset()
    with HeskReader(markup_source.url) as reader:  # admins named like staff, other e-mails:
        staff = [s.name for s in reader.iter_records("staff")]  # low-confidence entries
    sim.seed(
        admins=[{"name": n, "email": f"other{i}@example.com"} for i, n in enumerate(staff)],
        teams=[],
        contacts=[],
    )
    settings = e2e_settings(sim, markup_source, ledger_url)
    env = {
        "H2I_LEDGER_URL": ledger_url,
        "H2I_HESK_URL": markup_source.url,
        "H2I_HESK_ATTACHMENTS_DIR": str(markup_source.attachments),
        "H2I_INTERCOM_BASE_URL": sim.base_url,
        "H2I_INTERCOM_TOKEN": TOKEN,
        "H2I_MIGRATION": settings.migration,
    }

    found = run(env, "discover")
    assert found.returncode == 0, found.stderr
    assert MARKUP in found.stdout

    out = tmp_path / "map [bold]x.yaml"
    proposed = run(env, "map", "propose", "--out", str(out))
    assert proposed.returncode == 0, proposed.stderr
    assert "Traceback" not in proposed.stderr
    assert MARKUP in proposed.stdout and str(out) in proposed.stdout  # low-confidence list

    confirm(settings, out)
    checked = run(env, "preflight")
    assert checked.returncode in (0, 3), checked.stderr
    assert "Traceback" not in checked.stderr and MARKUP in checked.stdout

"""Anonymised (GDPR) tickets: skipped by default; with the map's option, migrated under one
placeholder requester that carries no personal data."""

from __future__ import annotations

from pathlib import Path

import pymysql
import pytest

from commands.map import confirm, propose
from hesk.demo_data import generate
from ledger.database import open_engine
from mapping.mapfile import dump_map_yaml, load_map_yaml
from reports.report import build_report
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource
from tests.helpers.migration import e2e_settings, migrate, seed_workspace


@pytest.fixture
def gdpr_source(tmp_path: Path) -> HeskSource:
    name = f"h2i_gdpr_{tmp_path.name[-12:]}".replace("-", "_")
    url = f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    summary = generate(url, tmp_path / "att", tickets=20, seed=41)  # every dirty case
    assert summary.dirty["anonymised_ticket"], "the demo data planted no anonymised ticket"
    yield HeskSource(url, tmp_path / "att", 20)
    conn = pymysql.connect(host="127.0.0.1", user="root")
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def test_anonymised_tickets_migrate_without_requester_when_the_map_says_so(
    sim: SimulatorHandle, gdpr_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    seed_workspace(sim, gdpr_source)
    settings = e2e_settings(sim, gdpr_source, ledger_url)
    the_map = load_map_yaml(dump_map_yaml(propose(settings)))
    the_map["options"]["anonymised_tickets"] = "migrate_without_requester"
    map_file = tmp_path / "map.yaml"
    map_file.write_text(dump_map_yaml(the_map), encoding="utf-8")
    confirm(settings, map_file)
    migrate(settings, tmp_path, workers=1, threads=4)

    report = build_report(open_engine(ledger_url), settings.migration)
    assert not any("anonymised" in s["reason"] for s in report["skipped"])
    tickets = report["objects"]["ticket"]
    assert tickets["pending"] == 0 and tickets["skipped"] == 0
    dump = sim.dump()
    placeholders = [
        c for c in dump["contacts"] if str(c.get("external_id")).startswith("hesk:anonymised:m")
    ]
    assert len(placeholders) == 1 and not placeholders[0].get("email")
    by_placeholder = [
        c
        for c in dump["conversations"]
        if (c.get("source") or {}).get("author", {}).get("id") == placeholders[0]["id"]
    ]
    assert len(by_placeholder) == 1
    # the placeholder is a helper, not a Hesk record: it is not counted as a contact
    assert report["objects"]["contact"]["source"] == report["objects"]["contact"]["migrated"] + (
        report["objects"]["contact"]["quarantined"] + report["objects"]["contact"]["skipped"]
    )

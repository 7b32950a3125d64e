"""An article published in Hesk after the migration: the next delta publishes it in
Intercom, and the next ID map and redirects point to it (before, it was listed as a draft
and not redirected)."""

from __future__ import annotations

import csv
import time
from pathlib import Path

from commands.delta import run_delta
from commands.idmap import write_idmap
from commands.options import MigrateOptions
from commands.redirects import write_redirects
from engine.resources import Resources
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource
from tests.helpers.hesk_writes import HeskWriter
from tests.helpers.migration import migrate, prepare

FAST = MigrateOptions(workers=0, stall_seconds=1.0, max_stalls=3)
HESK = "https://help.example.com"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_an_article_published_after_the_migration(
    sim: SimulatorHandle, own_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    settings = prepare(sim, own_source, ledger_url, tmp_path)
    migrate(settings, tmp_path, workers=1, threads=4)
    write_idmap(settings, tmp_path / "before.csv", obj="kb_article")
    draft = next(
        r
        for r in _rows(tmp_path / "before.csv")
        if r["disposition"] == "migrated" and int(r["hesk_id"]) % 3 == 2
    )  # type 2
    assert draft["url"] == ""
    link = f"{HESK}/knowledgebase.php?article={draft['hesk_id']}"
    write_redirects(settings, HESK, tmp_path / "before-links.csv", fmt="csv")
    before = {r["hesk_url"]: r for r in _rows(tmp_path / "before-links.csv")}
    assert before[link]["redirected"] == "no" and "unpublished" in before[link]["note"]

    hesk = HeskWriter(own_source.url)
    try:
        time.sleep(1.1)
        hesk.query("UPDATE hesk_kb_articles SET type = '0' WHERE id = %s", draft["hesk_id"])
    finally:
        hesk.close_connection()
    res = Resources.from_settings(settings)
    try:
        result = run_delta(res, FAST)
    finally:
        res.close()
    assert result.captured.get("kb_article") == 1
    article = next(a for a in sim.dump()["articles"] if str(a["id"]) == draft["intercom_id"])
    assert article["state"] == "published"

    write_idmap(settings, tmp_path / "after.csv", obj="kb_article")
    after = {r["hesk_id"]: r for r in _rows(tmp_path / "after.csv")}
    assert after[draft["hesk_id"]]["url"] == article["url"]
    write_redirects(settings, HESK, tmp_path / "after-links.csv", fmt="csv")
    links = {r["hesk_url"]: r for r in _rows(tmp_path / "after-links.csv")}
    assert (links[link]["redirected"], links[link]["intercom_url"]) == ("yes", article["url"])

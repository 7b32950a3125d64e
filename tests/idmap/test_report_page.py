"""After a real migration: verify exits 0 on a faithful sample and 5 on a difference, its
results are recorded; the HTML report then shows them, the run's timeline and phases, tickets
with their Intercom links and the files written, and opens in a real headless browser
(Debian's chromium) without a console error or a request leaving the page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from commands.coordinator import PHASES
from commands.idmap import write_idmap
from commands.redirects import write_redirects
from core.settings import Settings
from ledger.database import open_engine
from ledger.events import VerifyCompleted
from ledger.store import Ledger
from reports.details import report_details
from reports.html import write_html_report
from reports.report import build_report
from simulator.testing import SimulatorHandle

BIN = Path(sys.executable).with_name("hesk2intercom")
CHROMIUM = "/usr/bin/chromium"


def _verify(settings: Settings, sim: SimulatorHandle) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "H2I_LEDGER_URL": settings.ledger_url,
        "H2I_MIGRATION": settings.migration,
        "H2I_INTERCOM_TOKEN": sim.token,
        "H2I_INTERCOM_BASE_URL": sim.base_url,
        "COLUMNS": "250",
    }
    return subprocess.run(
        [str(BIN), "verify", "--sample", "50"], capture_output=True, text=True, env=env, timeout=180
    )


@pytest.fixture(scope="module")
def page(
    migrated_settings: Settings, sim: SimulatorHandle, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The HTML report after verify (clean, then with one difference), idmap and redirects."""
    clean = _verify(migrated_settings, sim)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "No difference" in clean.stdout
    conversation = next(
        c
        for c in sim.dump()["conversations"]
        if (c.get("custom_attributes") or {}).get("hesk_ticket_id")
    )
    httpx.put(
        f"{sim.base_url}/conversations/{conversation['id']}",
        headers=sim.headers,
        json={"title": "Renamed <b>by hand</b> in Intercom"},
    ).raise_for_status()
    changed = _verify(migrated_settings, sim)
    assert changed.returncode == 5, changed.stdout + changed.stderr
    assert "Renamed <b>by hand</b> in Intercom" in changed.stdout

    folder = tmp_path_factory.mktemp("page")
    write_idmap(migrated_settings, folder / "files" / "idmap.csv")
    write_redirects(migrated_settings, "https://help.example.com", folder / "files" / "r.conf")
    engine = open_engine(migrated_settings.ledger_url)
    try:
        assert Ledger(engine, migrated_settings.migration).count(types=[VerifyCompleted.TYPE]) == 2
        report = build_report(engine, migrated_settings.migration)
        details = report_details(engine, migrated_settings.migration, PHASES)
    finally:
        engine.dispose()
    assert report["verify"]["differences"][0]["field"] == "title"
    assert (
        report["verify"]["fields"]["title"]["matched"]
        < report["verify"]["fields"]["title"]["compared"]
    )
    return write_html_report(report, folder / "report" / "report.html", details)


def test_the_page_in_a_headless_browser(page: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "chromium is needed: apt-get install -y chromium"
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
            ],
        )
        try:
            tab = browser.new_page(viewport={"width": 1200, "height": 900})
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.on("request", lambda r: requests.append(r.url))
            tab.goto(page.as_uri())
            shot = tmp_path / "report.png"
            tab.screenshot(path=str(shot), full_page=True)
            headings = tab.locator("h2").all_inner_texts()
            bars = tab.locator("svg.timeline rect.calls").count()
            lines = tab.locator("svg.timeline polyline").count()
            svg_box = tab.locator("svg.timeline").bounding_box()
            phases = tab.locator("#run ~ table").first.inner_text()
            ticket_links = [
                tab.locator("#tickets ~ table a").nth(i).get_attribute("href")
                for i in range(tab.locator("#tickets ~ table a").count())
            ]
            file_links = [a.get_attribute("href") for a in tab.locator("#files ~ p a").all()]
            differences = tab.locator("table.diff").inner_text()
        finally:
            browser.close()
    assert errors == []
    assert requests == [page.as_uri()], requests  # self-contained: nothing else is fetched
    assert shot.stat().st_size > 20_000
    for wanted in (
        "Verify: a sample read back from Intercom",
        "The run",
        "Tickets in Intercom",
        "ID map and redirects",
        "What to do next",
    ):
        assert wanted in headings
    assert bars >= 1 and lines == 3 and svg_box and svg_box["width"] > 500
    for phase in ("capture", "contacts", "tickets", "articles"):
        assert phase in phases
    assert ticket_links and all(
        h.startswith("https://app.intercom.com/a/inbox/sim0ws01/inbox/conversation/")
        for h in ticket_links
    )
    assert file_links == ["../files/idmap.csv", "../files/r.conf"]
    for href in file_links:
        assert (page.parent / href).resolve().exists()
    assert "Renamed <b>by hand</b> in Intercom" in differences  # shown as text, escaped

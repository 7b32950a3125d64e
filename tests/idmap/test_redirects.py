"""Redirects of a real migration, tried in a real nginx (a private one on a free loopback
port) and checked against Apache's RewriteMap txt format."""

from __future__ import annotations

import csv
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from commands.idmap import write_idmap
from commands.redirects import write_redirects
from core.errors import ConfigError
from core.ports import free_port, reachable
from core.settings import Settings, load_settings
from ledger.events import MapConfirmed
from ledger.store import Ledger
from mapping.redirects import article_redirects, page_redirects, ticket_redirects
from reports.redirect_files import NGINX_VARIABLE, writer_for
from tests.helpers import report_factories as f

BIN = Path(sys.executable).with_name("hesk2intercom")
HESK = "https://help.example.com/support"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture(scope="module")
def records(
    migrated_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, dict[str, str]]]:
    """The ID map of the migration, by object and Hesk id (what the redirects must say)."""
    out = tmp_path_factory.mktemp("rmap") / "map.json"
    write_idmap(migrated_settings, out, fmt="json")
    found: dict[str, dict[str, dict[str, str]]] = {}
    for row in json.loads(out.read_text(encoding="utf-8")):
        found.setdefault(row["object"], {})[row["hesk_id"]] = row
    return found


@pytest.fixture(scope="module")
def nginx(migrated_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A private nginx serving the generated redirects on a free loopback port."""
    assert os.path.exists(NGINX), "nginx is needed: apt-get install -y nginx"
    prefix = tmp_path_factory.mktemp("nginx")
    conf_file = prefix / "redirects.conf"
    result = write_redirects(migrated_settings, HESK, conf_file, fmt="nginx")
    assert result.rules > 0 and result.comments > 0
    port = free_port()
    temp = "".join(
        f"{k}_temp_path {prefix}/{k};\n"
        for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (prefix / "nginx.conf").write_text(
        f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    {temp}
    include {conf_file};
    server {{
        listen 127.0.0.1:{port};
        if (${NGINX_VARIABLE}) {{ return 301 ${NGINX_VARIABLE}; }}
        location / {{ return 404; }}
    }}
}}
""",
        encoding="utf-8",
    )
    args = [
        NGINX,
        "-p",
        str(prefix),
        "-c",
        str(prefix / "nginx.conf"),
        "-e",
        str(prefix / "error.log"),
    ]
    checked = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    proc = subprocess.Popen(
        [*args, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not reachable("127.0.0.1", port, timeout=0.2):
        time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(10)


def _get(port: int, path: str) -> tuple[int, str | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers={"Host": "help.example.com"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, response.getheader("Location")


def test_nginx_redirects_kb_links_and_staff_ticket_links(
    nginx: int, records: dict[str, dict[str, dict[str, str]]]
) -> None:
    articles = records["kb_article"]
    published = [a for a in articles.values() if a["url"]]
    drafts = [a for a in articles.values() if a["disposition"] == "migrated" and not a["url"]]
    assert published and drafts
    for a in published:
        assert _get(nginx, f"/support/knowledgebase.php?article={a['hesk_id']}") == (301, a["url"])
        # Hesk's own extra arguments do not stop the match
        assert _get(nginx, f"/support/knowledgebase.php?article={a['hesk_id']}&rated=1") == (
            301,
            a["url"],
        )
        assert _get(
            nginx, f"/support/admin/knowledgebase_private.php?article={a['hesk_id']}&back=1"
        ) == (301, a["url"])
    for a in drafts:  # unpublished: not redirected
        assert _get(nginx, f"/support/knowledgebase.php?article={a['hesk_id']}")[0] == 404
    collection = next(c for c in records["kb_category"].values() if c["url"])
    assert _get(nginx, f"/support/knowledgebase.php?category={collection['hesk_id']}") == (
        301,
        collection["url"],
    )
    home = collection["url"].split("/collections/")[0]
    assert _get(nginx, "/support/knowledgebase.php") == (301, home)
    assert _get(nginx, "/support/knowledgebase.php?category=1") == (301, home)
    tickets = records["ticket"].values()
    moved = [t for t in tickets if t["url"]]
    assert moved
    for t in moved:
        assert _get(
            nginx, f"/support/admin/admin_ticket.php?track={t['tracking_id']}&Refresh=123"
        ) == (301, t["url"])
        # customers go to the help center's home (no customer_ticket_url in the map)
        assert _get(nginx, f"/support/ticket.php?track={t['tracking_id']}&e=a@b.c") == (301, home)
    for t in tickets:
        if t["disposition"] in ("quarantined", "skipped"):
            status, _ = _get(nginx, f"/support/admin/admin_ticket.php?track={t['tracking_id']}")
            assert status == 404
    assert _get(nginx, "/support/index.php")[0] == 404
    assert _get(nginx, "/knowledgebase.php?article=3")[0] == 404  # not under Hesk's path


def _parse_rewrite_map(text: str) -> dict[str, str]:
    """Apache's RewriteMap txt format: blank lines and lines starting with # are ignored;
    otherwise the key and the value are the first two whitespace-separated fields (anything
    after them is a comment); the first line with a key wins."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = stripped.split()
        assert len(fields) == 2, f"line {number}: {line!r} is not one key and one value"
        assert fields[0] not in found, f"line {number}: key {fields[0]} repeated"
        found[fields[0]] = fields[1]
    return found


def test_apache_rewrite_map(
    migrated_settings: Settings, records: dict[str, dict[str, dict[str, str]]], tmp_path: Path
) -> None:
    out = tmp_path / "map.txt"
    write_redirects(migrated_settings, HESK + "/", out, fmt="apache")
    text = out.read_text(encoding="utf-8")
    entries = _parse_rewrite_map(text)
    for a in records["kb_article"].values():
        assert entries.get(f"article:{a['hesk_id']}") == (a["url"] or None)
    for t in records["ticket"].values():
        assert entries.get(f"staff:{t['tracking_id']}") == (t["url"] or None)
    home = next(c["url"] for c in records["kb_category"].values() if c["url"]).split(
        "/collections/"
    )[0]
    assert entries["kb-home"] == entries["customer"] == entries["category:1"] == home
    assert all(re.match(r"^https?://\S+$", v) for v in entries.values())
    # the rules in the header match Hesk's paths under its folder, and nothing else
    rules = [
        line.strip("# ").split()[1]
        for line in text.splitlines()
        if line.startswith("#     RewriteRule")
    ]
    matches = {
        path: [r for r in rules if re.search(r, path)]
        for path in (
            "/support/knowledgebase.php",
            "/support/admin/knowledgebase_private.php",
            "/support/admin/admin_ticket.php",
            "/support/ticket.php",
            "/knowledgebase.php",
        )
    }
    assert len(matches["/support/knowledgebase.php"]) == 3  # article, category, home
    assert [len(matches[p]) for p in list(matches)[1:]] == [1, 1, 1, 0]
    assert "RewriteMap hesk2intercom" in text


def test_csv_lists_every_link(migrated_settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    result = write_redirects(migrated_settings, HESK, out, fmt="csv")
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert len(rows) == result.rules + result.comments
    assert {r["redirected"] for r in rows} == {"yes", "no"}
    assert all(r["note"] for r in rows if r["redirected"] == "no")
    assert any(
        r["kind"] == "staff_ticket"
        and r["hesk_url"].startswith(HESK + "/admin/admin_ticket.php?track=")
        for r in rows
    )


@pytest.mark.parametrize(
    "bad", ["help.example.com", "not a url", "ftp://x/y", "https://help.example.com/?a=1"]
)
def test_a_hesk_url_that_is_not_a_url_is_one_line_and_exit_2(
    migrated_settings: Settings, tmp_path: Path, bad: str
) -> None:
    with pytest.raises(ConfigError):
        write_redirects(migrated_settings, bad, tmp_path / "x.conf")
    env = {
        **os.environ,
        "H2I_LEDGER_URL": migrated_settings.ledger_url,
        "H2I_MIGRATION": migrated_settings.migration,
    }
    done = subprocess.run(
        [str(BIN), "redirects", "--hesk-url", bad, "--out", str(tmp_path / "x.conf")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--hesk-url" in done.stderr and "Traceback" not in done.stderr
    assert len([line for line in done.stderr.splitlines() if line.startswith("error")]) == 1
    assert not (tmp_path / "x.conf").exists()


def test_writers_escape_what_a_configuration_could_misread() -> None:
    import io

    out = io.StringIO()
    writer = writer_for("nginx", out, "https://h.example.com")
    writer.start()
    for r in article_redirects("5", 'https://hc.example/a b"$x;{}', ""):
        writer.add(r)
    for r in ticket_redirects(["ABC-1"], None, "quarantined: bad\nreason"):
        writer.add(r)
    for r in page_redirects(None, None):
        writer.add(r)
    writer.finish()
    text = out.getvalue()
    assert "https://hc.example/a%20b%22%24x%3B%7B%7D" in text
    assert (
        "# https://h.example.com/admin/admin_ticket.php?track=ABC-1 not redirected: "
        "quarantined: bad reason\n" in text
    )
    assert len(re.findall(r"^map ", text, re.M)) == 5  # four groups (empty too), the chooser


def test_customer_links_go_to_the_page_the_map_names(
    engine: Engine, ledger: Ledger, migration_id: str, tmp_path: Path
) -> None:
    f.migrated(ledger, f.ticket(1), "c1", "conversation")
    the_map = {"options": {"customer_ticket_url": "https://example.com/support/messages"}}
    ledger.append_one(MapConfirmed(object="map", source_id="map", map_hash="h", map=the_map))
    settings = load_settings(
        ledger_url=engine.url.render_as_string(hide_password=False),
        migration=migration_id,
        intercom_token=None,
    )
    out = tmp_path / "r.csv"
    write_redirects(settings, HESK, out, fmt="csv", app_id="ws1")
    rows = {r["kind"]: r for r in csv.DictReader(out.open(encoding="utf-8", newline=""))}
    assert rows["customer_ticket"]["intercom_url"] == "https://example.com/support/messages"
    assert rows["staff_ticket"]["intercom_url"] == (
        "https://app.intercom.com/a/inbox/ws1/inbox/conversation/c1"
    )
    assert rows["kb_home"]["redirected"] == "no"  # no help center URL known: said, not guessed

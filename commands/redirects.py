"""``redirects``: rewrite rules from Hesk's public links to where the records now live.

KB articles and categories go to their published article and collection, staff ticket
links to the conversation's (or ticket's) inbox page, customer ticket links to one page
the map names (``options.customer_ticket_url``; by default the help center's home). What
cannot be redirected (an unpublished article, a quarantined ticket) is listed as a comment
with its reason. Derived from the ledger (streamed) plus one ``GET /me``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, groupby
from pathlib import Path

from commands.links import (
    article_published,
    identify_workspace,
    open_ledger,
    public_url,
    record_export,
    record_url,
    written_file,
)
from core.errors import ConfigError
from core.paths import writable_file
from core.settings import Settings
from ledger.events import confirmed_map_event
from ledger.idmap import IdMapRow, count_links, idmap_rows
from mapping.redirects import (
    Redirect,
    article_redirects,
    category_redirect,
    page_redirects,
    root_category,
    ticket_redirects,
)
from mapping.urls import KB_ROOT_CATEGORY, Links, check_web_url, is_trackid
from reports.links import links_for
from reports.redirect_files import FORMATS, writer_for

#: The records redirects are made of, in the order their groups are written.
OBJECTS = ("kb_article", "kb_category", "ticket")
_ADMIN_DIR = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class RedirectsResult:
    """What ``redirects`` wrote: rules, and links listed as comments (not redirected)."""

    path: Path
    rules: int
    comments: int


def check_options(hesk_url: str, fmt: str, admin_dir: str) -> str:
    """The Hesk URL without its trailing slash; ConfigError (exit 2) for a bad option."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt}: unknown format", hint="use nginx, apache or csv")
    if not _ADMIN_DIR.match(admin_dir):
        raise ConfigError(
            f"--hesk-admin-dir {admin_dir!r} is not a folder name",
            hint="give the name of Hesk's admin folder, e.g. admin",
        )
    try:
        return check_web_url(hesk_url, "--hesk-url")
    except ValueError as err:
        raise ConfigError(str(err), hint="e.g. --hesk-url https://help.example.com") from None


def _not_moved(row: IdMapRow) -> str:
    if row.state in ("quarantined", "skipped"):
        return f"{row.state}: {row.reason}"
    if row.state == "pending" and not row.intercom_id:
        return "not migrated yet (pending)"
    return ""


def article_entries(row: IdMapRow, links: Links, admin_dir: str) -> list[Redirect]:
    """The redirects of one KB article (comments when it is not public in Intercom)."""
    note = _not_moved(row)
    target = None
    if not note:
        if not article_published(row):
            note = "unpublished in Intercom (draft): publish it, run `delta`, then `redirects`"
        else:
            target = public_url(row, links)
            note = "" if target else "no public URL is known for it"
    return article_redirects(row.source_id, target, note, admin_dir=admin_dir)


def category_entry(row: IdMapRow, links: Links) -> Redirect:
    """The redirect of one KB category to its collection."""
    note = _not_moved(row)
    target = None if note else public_url(row, links)
    if not note and not target:
        note = "no public URL is known for it"
    return category_redirect(row.source_id, target, note)


def ticket_entries(row: IdMapRow, links: Links, admin_dir: str) -> Iterator[Redirect]:
    """The staff redirects of one ticket, under its tracking id and merged ones."""
    trackids = list(dict.fromkeys(t for t in (row.tracking_id, *row.merged_tracking_ids) if t))
    good = [t for t in trackids if is_trackid(t)]
    note = _not_moved(row)
    target = None if note else record_url(row, links) or None
    if not note and not target:
        note = "the workspace's inbox link is unknown"
    yield from ticket_redirects(good, target, note, admin_dir=admin_dir)
    for t in trackids:
        if t not in good:
            yield Redirect(
                "track",
                "staff_ticket",
                f"{admin_dir}/admin_ticket.php",
                "",
                "",
                f"ticket {row.source_id}: tracking id {t!r} cannot be matched by a rule",
            )


def entries(
    rows: Iterator[IdMapRow], links: Links, customer_page: str | None, admin_dir: str
) -> Iterator[Redirect]:
    """Every redirect, grouped in the writers' order (articles, categories, tickets, pages)."""
    home = links.help_center
    seen_categories = False
    for obj, group in groupby(rows, key=lambda r: r.object):
        if obj == "kb_category":
            seen_categories = True
            yield root_category(home)
            for row in group:
                if row.source_id != KB_ROOT_CATEGORY:
                    yield category_entry(row, links)
            continue
        if obj == "ticket" and not seen_categories:
            seen_categories = True
            yield root_category(home)
        for row in group:
            if obj == "kb_article":
                yield from article_entries(row, links, admin_dir)
            elif obj == "ticket":
                yield from ticket_entries(row, links, admin_dir)
    if not seen_categories:
        yield root_category(home)
    yield from page_redirects(home, customer_page or home)


def write_redirects(
    settings: Settings,
    hesk_url: str,
    out: Path,
    *,
    fmt: str = "nginx",
    admin_dir: str = "admin",
    app_id: str | None = None,
) -> RedirectsResult:
    """Write the redirects of the configured migration's Hesk links to ``out``."""
    base = check_options(hesk_url, fmt, admin_dir)
    writable_file(Path(out), "--out")
    engine, ledger = open_ledger(settings)
    try:
        links = links_for(engine, ledger, identify_workspace(settings, ledger, app_id=app_id))
        the_map = confirmed_map_event(ledger)
        options = (the_map.map.get("options") or {}) if the_map else {}
        customer_page = options.get("customer_ticket_url") or None
        as_of = ledger.last_seq()
        most = max(
            count_links(engine, ledger.migration_id, "ticket"),
            2 * count_links(engine, ledger.migration_id, "kb_article"),
            count_links(engine, ledger.migration_id, "kb_category"),
        )
        with written_file(out) as handle:
            writer = writer_for(fmt, handle, base, admin_dir=admin_dir, entries=most)
            writer.start()
            # one query per object: each group comes whole, whatever the server's collation
            rows = chain.from_iterable(
                idmap_rows(engine, ledger.migration_id, [obj]) for obj in OBJECTS
            )
            for redirect in entries(rows, links, customer_page, admin_dir):
                writer.add(redirect)
            writer.finish()
        record_export(ledger, "redirects", out, fmt, writer.rules, as_of)
    finally:
        engine.dispose()
    return RedirectsResult(Path(out), writer.rules, writer.comments)

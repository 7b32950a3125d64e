"""A workspace that already holds what a migration would create: the customer's own objects.

Shared by the rollback tests: seeds, next to the contact ``prepare`` already makes for one
customer, a tag, a collection, an article and a conversation attribute under the very
names the confirmed map and the Hesk records will use, plus a contact of *another*
migration (another mark in its ``external_id``) holding a second customer's e-mail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from commands.map import confirmed_map
from core.settings import Settings
from hesk.reader import HeskReader
from hesk.reader_base import records_of
from hesk.records import Customer, KbArticle, KbCategory
from mapping.kb import KB_ROOT_ID
from mapping.people import external_id
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource

ROOT = Path(__file__).resolve().parents[2]
#: Another migration's mark (ledger.marks format): its contacts are never this one's.
OTHER_MARK = "m0a0b0c0d0e"
#: The creates whose answers the in-doubt runs lose (the simulator's ``only`` filter).
CREATES = [
    "POST /contacts",
    "POST /tags",
    "POST /help_center/collections",
    "POST /articles",
    "POST /conversations/attributes",
]
#: Dump keys of the seeded objects.
KINDS = ("tags", "collections", "articles", "conversation_attributes", "contacts")


@dataclass(frozen=True)
class Seeded:
    """The customer's own objects (dump key -> ids) and the names they share with ours."""

    ids: dict[str, set[str]]
    tag: str
    collection: str
    article: str
    attribute: str


def seed_preexisting(sim: SimulatorHandle, settings: Settings, source: HeskSource) -> Seeded:
    """Create the customer's own objects under the names this migration will use."""
    the_map = confirmed_map(settings) or {}
    tag = next(str(c["tag"]) for c in the_map["categories"] if c.get("tag"))
    attribute = next(a for a in the_map["attributes"] if a["data_type"] == "string")
    with HeskReader(source.url) as reader:
        top = {
            c.id: c.name.strip()
            for c in records_of(reader, KbCategory)
            if c.parent_id == KB_ROOT_ID and c.id != KB_ROOT_ID
        }
        article = next(a for a in records_of(reader, KbArticle) if a.category_id in top)
        customers = [c for c in records_of(reader, Customer) if c.email_valid]
    collection = top[article.category_id]
    other = customers[1]  # customers[0] already has a contact of its own (prepare)
    made = sim.seed(
        tags=[{"name": tag.upper()}],  # Intercom compares tag names case-blind
        conversation_attributes=[
            {"name": attribute["name"], "data_type": "string", "description": "the customer's own"}
        ],
        collections=[{"name": collection, "description": "the customer's own"}],
        articles=[
            {
                "title": article.subject.strip(),
                "parent_name": collection,
                "author_id": int(sim.owner_admin_id),
                "state": "published",
                "body": "<p>Written by the customer, not by Hesk.</p>",
            }
        ],
        contacts=[
            {
                "email": other.email,
                "name": "Another migration's",
                "external_id": external_id(other.source_id, OTHER_MARK),
            }
        ],
    )
    ids = {k: {str(o["id"]) for o in made.get(k) or []} for k in KINDS}
    first = (customers[0].email or "").casefold()  # a valid email: never empty
    ids["contacts"] |= {
        str(c["id"])
        for c in sim.dump()["contacts"]
        if str(c.get("email") or "").casefold() == first
    }
    return Seeded(ids, tag, collection, article.subject.strip(), attribute["name"])


def owned(dump: dict[str, Any], seeded: Seeded) -> dict[str, dict[str, Any]]:
    """The seeded objects as the dump holds them, by kind and id."""
    return {k: {str(o["id"]): o for o in dump[k] if str(o["id"]) in seeded.ids[k]} for k in KINDS}


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment of a `python -m cli …` run of this migration."""
    env = dict(os.environ)
    env.update(
        {
            "H2I_MIGRATION": settings.migration,
            "H2I_LEDGER_URL": settings.ledger_url,
            "H2I_INTERCOM_BASE_URL": str(settings.intercom_base_url),
            "H2I_INTERCOM_TOKEN": settings.token_value() or "",
            "PYTHONPATH": str(ROOT),
        }
    )
    if settings.hesk_url:
        env["H2I_HESK_URL"] = str(settings.hesk_url)
    return env


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one `hesk2intercom` command of this migration; its exit code and output."""
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=cli_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

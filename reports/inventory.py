"""``inventory``: the hand-over document of what the migration does not move as data.

Workflows are not migrated as data but rebuilt natively in Intercom; this lists, from the
Hesk database, what each one is and what it needs there: categories and their auto-assign
rules, custom statuses and priorities, canned responses (exported as a file to import as
saved replies or macros — Intercom's macros API is read-only), ticket templates, and the
staff with no matching Intercom admin (the invite list). Written as Markdown plus CSV files.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from core.csvsafe import write_csv
from hesk.catalog import BUILTIN_PRIORITIES, BUILTIN_STATUSES
from hesk.reader_base import SourceReader, records_of
from hesk.records import CannedResponse, Category, Staff, TicketTemplate


def build_inventory(reader: SourceReader, admin_emails: Iterable[str]) -> dict[str, Any]:
    """What must be rebuilt by hand, read from Hesk; ``admin_emails``: the workspace's."""
    admins = {e.casefold() for e in admin_emails if e}
    staff = list(records_of(reader, Staff))
    categories = list(records_of(reader, Category))
    staff_by_category: dict[int, list[str]] = {}
    for s in staff:
        for cid in s.category_ids:
            staff_by_category.setdefault(cid, []).append(s.name)
    return {
        "categories": [
            {
                "id": c.id,
                "name": c.name,
                "autoassign": c.autoassign,
                "private": c.private,
                "default_priority": BUILTIN_PRIORITIES.get(
                    c.default_priority, str(c.default_priority)
                ),
                "staff": sorted(staff_by_category.get(c.id, [])),
                "rebuild": (
                    "Intercom workflow: assign to the team's inbox with balanced assignment"
                    if c.autoassign
                    else "team inbox (assigned by hand)"
                ),
            }
            for c in categories
        ],
        "statuses": [
            {"id": i, "name": n, "rebuild": "custom ticket state or a conversation attribute"}
            for i, n in sorted(reader.statuses.items())
            if i not in BUILTIN_STATUSES
        ],
        "priorities": [
            {"id": i, "name": n, "rebuild": "an option of the hesk_priority attribute"}
            for i, n in sorted(reader.priorities.items())
            if i not in BUILTIN_PRIORITIES
        ],
        "canned_responses": [
            {"id": c.id, "title": c.title, "text": c.message_text, "html": c.message_html}
            for c in records_of(reader, CannedResponse)
        ],
        "ticket_templates": [
            {"id": t.id, "title": t.title, "text": t.message_text}
            for t in records_of(reader, TicketTemplate)
        ],
        "invite": [
            {"id": s.id, "name": s.name, "email": s.email, "admin": s.is_admin, "active": s.active}
            for s in staff
            if not s.email or s.email.casefold() not in admins
        ],
    }


def write_inventory(inv: dict[str, Any], out: Path) -> list[Path]:
    """Write ``inventory.md``, ``saved_replies.csv`` and ``invite_list.csv`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    replies, invite, doc = out / "saved_replies.csv", out / "invite_list.csv", out / "inventory.md"
    write_csv(replies, inv["canned_responses"], ["title", "text", "html"])
    write_csv(invite, inv["invite"], ["name", "email", "admin", "active"])
    lines = ["# Hand-over inventory: rebuild these in Intercom", ""]
    lines += [
        "## Categories and auto-assign rules",
        "",
        "| Hesk category | auto-assign | private | staff | rebuild in Intercom |",
        "|---|---|---|---|---|",
    ]
    for c in inv["categories"]:
        lines.append(
            f"| {c['name']} | {'yes' if c['autoassign'] else 'no'} | "
            f"{'yes' if c['private'] else 'no'} | {', '.join(c['staff']) or '-'} | "
            f"{c['rebuild']} |"
        )
    for title, key in (("Custom statuses", "statuses"), ("Custom priorities", "priorities")):
        lines += ["", f"## {title}", ""]
        lines += [f"- {x['name']} (Hesk id {x['id']}): {x['rebuild']}" for x in inv[key]] or [
            "- none"
        ]
    lines += [
        "",
        "## Canned responses",
        "",
        f"{len(inv['canned_responses'])} canned response(s) exported to "
        f"`{replies.name}` (title, text, html): import them as saved replies / macros "
        "(Intercom's macros API is read-only, so the tool cannot create them).",
    ]
    lines += ["", "## Ticket templates", ""]
    lines += [
        f"- {t['title']}: rebuild as a saved reply or a Messenger ticket type"
        for t in inv["ticket_templates"]
    ] or ["- none"]
    lines += [
        "",
        "## Staff without an Intercom admin (invite list)",
        "",
        f"{len(inv['invite'])} staff member(s) in `{invite.name}`: invite them as "
        "teammates (the API cannot create teammates). Until then their replies are "
        'authored by the fallback admin with "originally by NAME".',
    ]
    lines += [f"- {s['name']} <{s['email'] or 'no email'}>" for s in inv["invite"]]
    lines += [
        "",
        "## Not moved as data (rebuild natively)",
        "",
        "- SLAs, overdue rules and auto-close: Intercom SLAs and workflows",
        "- e-mail piping / POP3 fetching: connect the mailbox to Intercom",
        "- reports and satisfaction ratings: Intercom reporting and CSAT",
        "",
    ]
    doc.write_text("\n".join(lines), encoding="utf-8")
    return [doc, replies, invite]

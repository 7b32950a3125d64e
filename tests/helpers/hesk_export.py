"""What a HESK export holds, read the same way from either reader (database or export file),
so the two can be compared field by field."""

from __future__ import annotations

from typing import Any

import pymysql
from sqlalchemy.engine import make_url

from hesk.text import html_to_plain, repair_mojibake


def raw_messages(url: str, table: str) -> dict[int, str]:
    """The plain ``message`` column (what Hesk exports; the reader prefers message_html)."""
    u = make_url(url)
    conn = pymysql.connect(
        host=u.host, port=u.port or 3306, user=u.username or "root", database=u.database
    )
    with conn.cursor() as cur:
        cur.execute(f"SELECT id, message FROM hesk_{table}")
        rows = {int(i): repair_mojibake(html_to_plain(m or ""))[0] for i, m in cur.fetchall()}
    conn.close()
    return rows


def projection(
    reader: Any, *, replies: bool, history: bool, messages: dict[str, dict[int, str]] | None = None
) -> dict[str, tuple]:
    """Every field an export holds, per ticket (broken rows left out)."""
    by_ticket: dict[int, list] = {}
    if replies:
        for r in reader.iter_records("reply"):
            text = messages["replies"][r.id] if messages else r.message_text
            by_ticket.setdefault(r.ticket_id, []).append(
                (
                    r.author_name,
                    r.author_type,
                    r.author_contact_id,
                    r.staff_missing,
                    r.created_at,
                    text,
                )
            )
    staff = {s.id: s.name for s in reader.iter_records("staff")}
    out = {}
    for t in reader.iter_records("ticket"):
        if t.broken:
            continue
        text = messages["tickets"][t.id] if messages else t.message_text
        out[t.source_id] = (
            t.trackid,
            t.subject,
            text,
            t.requester_contact_id,
            t.requester_name,
            t.status_name,
            t.priority_name,
            t.category_name,
            staff.get(t.owner_id or -1),
            t.created_at,
            t.updated_at,
            t.closed_at,
            t.due_at,
            t.first_reply_at if t.staff_reply_count else None,
            t.time_worked,
            t.follower_contact_ids,
            t.anonymised,
            t.reply_count,
            t.staff_reply_count,
            tuple(
                sorted((c.name, str(c.date.date()) if c.date else c.text) for c in t.custom_fields)
            ),
            tuple((h.at, h.text) for h in t.history) if history else (),
            tuple(sorted(by_ticket.get(t.id, []), key=lambda r: (r[4], r[5]))),
        )
    return out

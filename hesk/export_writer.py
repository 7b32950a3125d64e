"""Write a Hesk ticket export (zipped Excel 2003 XML, exactly Hesk's layout) from a reader.

Mirrors ``hesk_export_to_XML`` (sample_export.md) with history and replies included. Used
by tests and demos to produce the file a Hesk Cloud user would have; it groups replies per
ticket in memory, so it is meant for demo-sized databases.
"""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hesk.records import CustomFieldDefinition, Reply, Ticket
from hesk.text import html_to_plain

FIXED_HEADERS = ["#", "Tracking ID", "Date", "Updated", "First reply at", "Resolved at",
                 "Name", "Email", "Followers", "Category", "Priority", "Status", "Subject",
                 "Message", "Owner", "Replies", "Replies (Staff)", "Time worked", "Due date"]
HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:o="urn:schemas-microsoft-com:office:office"
 xmlns:x="urn:schemas-microsoft-com:office:excel"
 xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:html="http://www.w3.org/TR/REC-html40">
 <Styles>
  <Style ss:ID="s62"><NumberFormat ss:Format="General Date"/></Style>
  <Style ss:ID="s63"><NumberFormat ss:Format="Short Date"/></Style>
 </Styles>
 <Worksheet ss:Name="Sheet1">
  <Table>
"""
TAIL = """  </Table>
 </Worksheet>
 <Worksheet ss:Name="Sheet2"><Table></Table></Worksheet>
 <Worksheet ss:Name="Sheet3"><Table></Table></Worksheet>
</Workbook>
"""


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _s(text: str) -> str:
    return f'<Cell><Data ss:Type="String">{_cdata(text) if text else ""}</Data></Cell>'


def _n(value: int) -> str:
    return f'<Cell><Data ss:Type="Number">{value}</Data></Cell>'


def _d(at: datetime | None, tz: ZoneInfo, style: str = "s62") -> str:
    if at is None:
        return '<Cell><Data ss:Type="String"></Data></Cell>'
    local = at.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S.000")
    return f'<Cell ss:StyleID="{style}"><Data ss:Type="DateTime">{local}</Data></Cell>'


def write_export(reader: Any, path: str | Path, *, timezone: str = "UTC") -> Path:
    """Write all tickets of ``reader`` as Hesk's export .zip at ``path``; returns the path."""
    tz = ZoneInfo(timezone)
    path = Path(path)
    fields: list[CustomFieldDefinition] = sorted(
        reader.iter_records("custom_field"), key=lambda d: (d.place, d.order))
    staff = {s.id: s.name for s in reader.iter_records("staff")}
    contacts = {c.source_id: c for c in reader.iter_records("contact")}
    replies: dict[int, list[Reply]] = {}
    for reply in reader.iter_records("reply"):
        replies.setdefault(reply.ticket_id, []).append(reply)
    headers = FIXED_HEADERS + [d.name for d in fields] + ["Ticket History", "Reply messages",
                                                          "Ticket URL"]
    lines = [HEAD, "<Row>" + "".join(_s(h) for h in headers) + "</Row>\n"]
    for t in reader.iter_records("ticket"):
        lines.append(_row(t, fields, staff, contacts, replies.get(t.id, []), tz))
    lines.append(TAIL)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(path.with_suffix(".xml").name, "".join(lines))
    return path


def _row(t: Ticket, fields: list[CustomFieldDefinition], staff: dict[int, str],
         contacts: dict[str, Any], replies: list[Reply], tz: ZoneInfo) -> str:
    from hesk.demo_data import hesk_escape

    followers = []
    for cid in t.follower_contact_ids:
        c = contacts.get(cid)
        if c is not None:
            followers.append(f"{hesk_escape(c.name)} <{c.email}>" if c.name else c.email or "")
    customs = {c.field_id: c for c in t.custom_fields}
    cells = [
        _n(t.id), _s(t.trackid), _d(t.created_at, tz), _d(t.updated_at, tz),
        _d(t.first_reply_at, tz), _d(t.closed_at, tz),
        _s(t.requester_name if t.requester_contact_id else "[Customer]"),
        _s(t.requester_email or ""), _s(",".join(followers)), _s(t.category_name or ""),
        _s(t.priority_name), _s(t.status_name), _s(t.subject), _s(t.message_text),
        _s(staff.get(t.owner_id or 0, "")), _n(t.reply_count), _n(t.staff_reply_count),
        _s(t.time_worked), _d(t.due_at, tz, "s63"),
    ]
    for d in fields:
        value = customs.get(d.id)
        if value is not None and value.date is not None:
            cells.append(_d(value.date, ZoneInfo("UTC"), "s63"))
        else:
            cells.append(_s(value.text if value else ""))
    cells.append(_s(t.history_raw))
    text = ""
    for r in sorted(replies, key=lambda r: r.id):
        when = r.created_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S.000") \
            if r.created_at else ""
        text += f"Reply by {hesk_escape(r.author_name)}\nDate {when}\n" \
            f"{html_to_plain(r.message_html)}\n---\n"
    cells.append(_s(text))
    cells.append(_s(f"https://help.example.com/ticket.php?track={t.trackid}"))
    return "<Row>" + "".join(cells) + "</Row>\n"

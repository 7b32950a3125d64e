"""Hesk Cloud: read Hesk's ticket export (zipped Excel 2003 XML) into the same records.

The export (sample_export.md) lacks notes, attachments, staff/customer ids, per-reply
author types and HTML; records built from it say so: ``fidelity="export"`` and ``missing``
lists what is absent. Replies come from the one "Reply messages" cell, split per reply.
XML is parsed with defusedxml (no DTDs, no entity expansion) and streamed row by row.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from hesk.catalog import BUILTIN_PRIORITIES, BUILTIN_STATUSES
from hesk.errors import ExportFileError
from hesk.history import parse_history
from hesk.people import contact_key, is_valid_email
from hesk.records import (
    DEPENDENCY_ORDER,
    Category,
    Customer,
    CustomFieldDefinition,
    CustomFieldValue,
    Finding,
    HistoryEntry,
    Record,
    Reply,
    Staff,
    Ticket,
)
from hesk.text import decode_entities

NS = "{urn:schemas-microsoft-com:office:spreadsheet}"
TICKET_MISSING = ("notes", "attachments", "html", "staff_ids", "customer_ids", "ip",
                  "merged", "opened_by", "closed_by", "tagged", "locked", "language")
REPLY_MISSING = ("reply_id", "author_type", "author_ids", "attachments", "html")
_REPLY = re.compile(r"Reply by (.*?)\nDate (\S*)\n(.*?)\n---\n", re.S)
_FOLLOWER = re.compile(r"^(.*?)\s*<([^>]*)>$")
FIXED = 19


class ExportReader:
    """Reads a Hesk export .zip; same ``iter_records``/``iter_all``/``findings`` as HeskReader."""

    def __init__(self, path: str | Path, timezone: str = "UTC",
                 date_format: str = "Y-m-d H:i:s") -> None:
        self.path = Path(path)
        self.timezone = timezone
        self.date_format = date_format
        self.tz = ZoneInfo(timezone)
        self.findings: list[Finding] = []
        self._keys: set[tuple[str, str, str]] = set()
        if not self.path.is_file():
            raise ExportFileError(f"export file {self.path} not found")
        self.headers = next(self._rows(), None)
        if not self.headers or self.headers[:2] != ["#", "Tracking ID"]:
            raise ExportFileError(f"{self.path.name} is not a Hesk ticket export")
        tail = [h for h in self.headers[FIXED:] if h not in ("Ticket History", "Reply messages",
                                                              "Ticket URL")]
        self.custom_headers = tail

    # -- raw rows -----------------------------------------------------------------------

    def _rows(self) -> Iterator[list[str]]:
        try:
            with zipfile.ZipFile(self.path) as zf:
                names = [n for n in zf.namelist() if n.endswith(".xml")]
                if len(names) != 1:
                    raise ExportFileError(f"{self.path.name} does not hold exactly one .xml")
                with zf.open(names[0]) as fh:
                    sheet = None
                    for event, el in DET.iterparse(fh, events=("start", "end"),
                                                   forbid_dtd=True):
                        if event == "start" and el.tag == NS + "Worksheet":
                            sheet = el.get(NS + "Name")
                        elif event == "end" and el.tag == NS + "Row":
                            if sheet == "Sheet1":
                                yield [(c.findtext(NS + "Data") or "")
                                       for c in el.findall(NS + "Cell")]
                            el.clear()
        except (zipfile.BadZipFile, DET.ParseError, DefusedXmlException) as exc:
            raise ExportFileError(f"cannot read {self.path.name}: {exc}") from None

    def _dicts(self) -> Iterator[dict[str, str]]:
        rows = self._rows()
        next(rows, None)
        for cells in rows:
            yield dict(zip(self.headers, cells, strict=False))

    def add_finding(self, kind: str, object: str, source_id: Any, detail: str) -> None:
        """Record a finding once."""
        key = (kind, object, str(source_id))
        if key not in self._keys:
            self._keys.add(key)
            self.findings.append(Finding(kind, object, str(source_id), detail))

    def _date(self, value: str) -> datetime | None:
        if not value:
            return None
        try:
            naive = datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return None
        return naive.replace(tzinfo=self.tz).astimezone(ZoneInfo("UTC"))

    # -- records ------------------------------------------------------------------------

    def hesk_version(self) -> str | None:
        """Exports carry no version."""
        return None

    def _requester(self, row: dict[str, str], tid: int) -> tuple[str | None, str, str | None]:
        name, email = decode_entities(row.get("Name", "")), row.get("Email", "").strip()
        if not email and name == "[Customer]":
            return None, name, None
        return contact_key(email) or f"noemail:{tid}", name, email or None

    def _followers(self, row: dict[str, str]) -> list[tuple[str, str, str]]:
        out = []
        for item in (row.get("Followers") or "").split(","):
            item = item.strip()
            if not item:
                continue
            m = _FOLLOWER.match(item)
            name, email = (m.group(1), m.group(2)) if m else (("", item) if "@" in item
                                                              else (item, ""))
            key = contact_key(email)
            if key:
                out.append((key, decode_entities(name), email))
        return out

    def _ticket(self, row: dict[str, str]) -> Ticket:
        tid = int(float(row["#"]))
        contact, name, email = self._requester(row, tid)
        status_name, priority_name = row.get("Status", ""), row.get("Priority", "")
        statuses = {v: k for k, v in BUILTIN_STATUSES.items()}
        priorities = {v: k for k, v in BUILTIN_PRIORITIES.items()}
        customs = []
        for n, header in enumerate(self.custom_headers, 1):
            value = row.get(header, "")
            if value:
                date = self._date(value) if re.match(r"\d{4}-\d\d-\d\dT", value) else None
                if date is not None:
                    date = datetime.strptime(value[:10], "%Y-%m-%d").replace(
                        tzinfo=ZoneInfo("UTC"))
                customs.append(CustomFieldValue(n, f"custom{n}", header, None, value,
                                                tuple(value.split("\n")), date))
        history_raw = row.get("Ticket History", "")
        if contact is None:
            self.add_finding("anonymised_ticket", "ticket", tid, "no requester in the export")
        elif email is None:
            self.add_finding("missing_email", "ticket", tid, f"requester {name!r} has no email")
        elif not is_valid_email(email):
            self.add_finding("invalid_email", "ticket", tid, f"requester email {email!r}")
        return Ticket(
            source_id=str(tid), id=tid, trackid=row.get("Tracking ID", ""),
            subject=row.get("Subject", ""), message_html="",
            message_text=row.get("Message", ""), requester_contact_id=contact,
            requester_customer_id=None, requester_name=name, requester_email=email,
            follower_contact_ids=tuple(dict.fromkeys(f[0] for f in self._followers(row))),
            snapshot_name=name, snapshot_email=email or "",
            status=statuses.get(status_name, -1), status_name=status_name,
            priority=priorities.get(priority_name, -1), priority_name=priority_name,
            category_id=0, category_name=row.get("Category") or None, owner_id=None,
            owner_missing=False, opened_by=None, closed_by=None, assigned_by=None,
            created_at=self._date(row.get("Date", "")),
            updated_at=self._date(row.get("Updated", "")),
            first_reply_at=self._date(row.get("First reply at", "")),
            closed_at=self._date(row.get("Resolved at", "")),
            due_at=self._date(row.get("Due date", "")), ip="", language=None,
            time_worked=row.get("Time worked", ""), tagged=False, locked=False,
            merged_trackids=(), article_ids=(), custom_fields=tuple(customs), attachments=(),
            history_raw=history_raw,
            history=parse_history(history_raw, parent_object="ticket", parent_id=tid,
                                  timezone=self.timezone, date_format=self.date_format),
            reply_count=int(float(row.get("Replies") or 0)),
            staff_reply_count=int(float(row.get("Replies (Staff)") or 0)),
            anonymised=contact is None, fidelity="export", missing=TICKET_MISSING,
        )

    def _replies(self, row: dict[str, str]) -> Iterator[Reply]:
        tid = int(float(row["#"]))
        for n, m in enumerate(_REPLY.finditer(row.get("Reply messages", ""))):
            yield Reply(
                source_id=f"export:{tid}:{n}", id=n, ticket_id=tid, position=n,
                created_at=self._date(m.group(2)), message_html="", message_text=m.group(3),
                author_type="unknown", author_name=decode_entities(m.group(1)), staff_id=None,
                staff_missing=False, customer_id=None, author_contact_id=None,
                author_role=None, attachments=(), rating=None, read=False, orphan=False,
                fidelity="export", missing=REPLY_MISSING,
            )

    def iter_records(self, object: str, *, since_id: int | None = None,
                     changed_since: datetime | None = None) -> Iterator[Record]:
        """Stream one object's records (notes, attachments, KB, canned: none in exports)."""
        after = -1 if since_id is None else since_id
        if object in ("ticket", "reply", "history"):
            for row in self._dicts():
                if int(float(row["#"])) <= after:
                    continue
                ticket = self._ticket(row)
                if changed_since and (ticket.updated_at is None
                                      or ticket.updated_at < changed_since):
                    continue
                if object == "ticket":
                    yield ticket
                elif object == "history":
                    yield from ticket.history
                else:
                    yield from self._replies(row)
        elif object == "contact":
            yield from self._contacts()
        elif object == "category":
            names = dict.fromkeys(r.get("Category", "") for r in self._dicts())
            for name in (n for n in names if n):
                yield Category(source_id=f"name:{name}", id=0, name=name, order=0,
                               private=False, default_priority=3, autoassign=False)
        elif object == "staff":
            names = dict.fromkeys(r.get("Owner", "") for r in self._dicts())
            for name in (n for n in names if n):
                yield Staff(source_id=f"name:{name}", id=0, username="", name=name, email="",
                            nickname="", is_admin=False, active=True, signature="",
                            language=None, category_ids=(), privileges=())
        elif object == "custom_field":
            for n, header in enumerate(self.custom_headers, 1):
                yield CustomFieldDefinition(
                    source_id=str(n), id=n, column=f"custom{n}", name=header,
                    names={"English": header}, field_type="text", use=1, staff_only=False,
                    place=0, required=0, category_ids=None, options=(), default_value="",
                    max_length=None, date_format=None, multiple=False, order=n,
                    settings={"from_export": True})

    def _contacts(self) -> Iterator[Customer]:
        seen: set[str] = set()
        for row in self._dicts():
            tid = int(float(row["#"]))
            contact, name, email = self._requester(row, tid)
            people = ([(contact, name, email)] if contact else []) + list(self._followers(row))
            for key, pname, pemail in people:
                if key in seen:
                    continue
                seen.add(key)
                is_req = key == contact
                yield Customer(
                    source_id=key, email=pemail, name=pname,
                    email_valid=is_valid_email(pemail),
                    email_variants=(pemail,) if pemail else (), customer_ids=(),
                    origin="export", language=None, verified=None,
                    first_ticket_id=tid if is_req else None,
                    signed_up_at=self._date(row.get("Date", "")) if is_req else None)

    def iter_all(self) -> Iterator[Record]:
        """Every record the export can give, in dependency order."""
        for object in DEPENDENCY_ORDER:
            yield from self.iter_records(object)

    def close(self) -> None:
        """Nothing to close (kept for symmetry with HeskReader)."""


__all__ = ["ExportReader", "HistoryEntry"]

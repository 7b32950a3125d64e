"""Hesk Cloud: read Hesk's ticket export (a zip of one Excel 2003 XML sheet) as records.

The export holds one row per ticket; replies and history are optional columns (the
export page's two checkboxes). It cannot hold notes, attachments, the knowledge base,
canned responses, staff e-mails, or the ids of merged and deleted tickets
(:data:`NOT_IN_EXPORT`): records built from it say ``fidelity="export"`` and ``missing``
lists what is absent. Staff, categories and custom statuses have no ids in the file;
their ids are derived from their names, the same for every export of one help desk.

The file is parsed with defusedxml (no DTD, no entity expansion) and streamed row by row.
A row that cannot be read (a date that does not parse, a replies cell not in Hesk's
shape) becomes a ticket marked ``broken``: it is quarantined with its tracking id and the
reason, and the others go on.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Generator, Iterator, Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from core.hashing import sha256_hex
from core.objects import DEPENDENCY_ORDER
from hesk.catalog import BUILTIN_PRIORITIES, BUILTIN_STATUSES
from hesk.errors import ExportFileError, HeskError
from hesk.export_cells import BadCell, ExportClock, RawReply, common_reply_label, export_time
from hesk.export_cells import split_replies as split_cell
from hesk.export_labels import LANGUAGES, PRIORITY_KEYS, STATUS_KEYS, Layout, code_of
from hesk.export_labels import resolve_layout as find_layout
from hesk.history import parse_history
from hesk.people import contact_key, is_valid_email
from hesk.records import (
    Category,
    Customer,
    CustomFieldDefinition,
    CustomFieldValue,
    Finding,
    Record,
    Reply,
    Staff,
    Ticket,
)
from hesk.text import decode_entities, repair_mojibake

NS = "{urn:schemas-microsoft-com:office:spreadsheet}"
TICKET_MISSING = (
    "notes",
    "attachments",
    "html",
    "staff_ids",
    "customer_ids",
    "ip",
    "merged",
    "opened_by",
    "closed_by",
    "tagged",
    "locked",
    "language",
)
REPLY_MISSING = ("reply_id", "author_ids", "attachments", "html")
#: What a Hesk export file cannot hold: object (or ``object.field``) -> what is lost.
NOT_IN_EXPORT: dict[str, str] = {
    "note": "private notes",
    "attachment": "attachments (files and their names)",
    "kb_category": "knowledge base categories",
    "kb_article": "knowledge base articles",
    "canned_response": "canned responses",
    "staff.email": "staff e-mails (staff are known by name only)",
    "ticket.merged": "the tracking ids of merged tickets",
    "ticket.deleted": "deleted tickets (an export lists what exists; a missing row is "
    "not a deletion)",
}
NOT_IN_EXPORT_REASON = "not in a Hesk export file"
#: Rows read to recognise unlabelled history and replies columns.
SAMPLE_ROWS = 200
_FOLLOWER = re.compile(r"^(.*?)\s*<([^>]*)>$")
_ANON_EMAILS = {"", "[Email]"}


class NotInExport(HeskError):
    """A question only the database can answer (e.g. which ids were deleted)."""

    exit_code = 2


def name_id(kind: str, name: str) -> int:
    """A stable positive id for something an export names but does not number."""
    return 1_000 + int(sha256_hex(f"{kind}:{name.strip().casefold()}", 7), 16)


def reply_id(ticket_id: int, at: datetime, nth: int) -> int:
    """A reply's id from its ticket, its second and its rank within that second.

    Stable across exports of the same help desk (a reply keeps its ticket and time), and
    ordered like the replies themselves within a ticket.
    """
    seconds = max(0, int(at.timestamp()) - 946_684_800)  # since 2000-01-01
    if ticket_id < 1 << 22:
        return (ticket_id << 40) | (min(seconds, (1 << 32) - 1) << 8) | min(nth, 255)
    return 1 << 62 | int(sha256_hex(f"{ticket_id}:{seconds}:{nth}", 15), 16)


class ExportReader:
    """Reads a Hesk export .zip into the records :class:`hesk.reader.HeskReader` gives.

    ``timezone``: Hesk's timezone (``H2I_HESK_TIMEZONE``); ``date_format``: its history
    date format (``H2I_HESK_DATE_FORMAT``).
    """

    kind = "export"
    #: A delta re-reads a newer file whole (unchanged records are no-ops by key).
    incremental = False
    #: An export may be a filtered subset: a missing row proves no deletion.
    tracks_deletions = False

    def __init__(
        self, path: str | Path, timezone: str = "UTC", date_format: str = "Y-m-d H:i:s"
    ) -> None:
        self.path = Path(path)
        self.timezone = timezone
        self.date_format = date_format
        self.findings: list[Finding] = []
        self._keys: set[tuple[str, str, str]] = set()
        if not self.path.is_file():
            raise ExportFileError(
                f"export file {self.path} not found",
                hint="set H2I_HESK_EXPORT_FILE to the .zip Hesk wrote",
            )
        self.member = self._member()
        rows = self._rows()
        headers = next(rows, None)
        sample = [r for _, r in zip(range(SAMPLE_ROWS), rows, strict=False)]
        rows.close()
        layout = find_layout(headers or [], sample)
        if headers is None or layout is None:
            raise ExportFileError(
                f"{self.path.name} is not a Hesk ticket export (its first sheet does not "
                "start with Hesk's '#', tracking id and date columns)",
                hint="export the tickets from Hesk's admin page (Tickets > Export)",
            )
        self.headers = headers
        self.layout: Layout = layout
        made_at = export_time(self.member, self.path.name)
        self.clock = ExportClock.for_export(timezone, made_at)
        if made_at is None:
            self.add_finding(
                "export_time_unknown",
                "ticket",
                "*",
                "the file name has no export time: ticket and reply times are "
                "read as wall-clock time of their own date",
            )
        self.reply_by = self._reply_label(sample)
        self.custom_headers = [name for _, name in layout.customs]

    # -- the file -----------------------------------------------------------------------

    def __enter__(self) -> ExportReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing stays open between reads."""

    def _member(self) -> str:
        try:
            with zipfile.ZipFile(self.path) as zf:
                names = [n for n in zf.namelist() if n.lower().endswith(".xml")]
        except (zipfile.BadZipFile, OSError) as exc:
            raise ExportFileError(
                f"cannot read {self.path.name}: {exc}",
                hint="give the .zip exactly as Hesk wrote it",
            ) from None
        if len(names) != 1:
            raise ExportFileError(
                f"{self.path.name} holds {len(names)} .xml spreadsheets, not one",
                hint="give the .zip exactly as Hesk wrote it (one hesk_export_….xml inside)",
            )
        return names[0]

    def _rows(self) -> Generator[list[str], None, None]:
        """Every row of the first sheet, as cell texts (CDATA joined, newlines as LF)."""
        try:
            with zipfile.ZipFile(self.path) as zf, zf.open(self.member) as fh:
                sheet = 0
                for event, el in DET.iterparse(fh, events=("start", "end"), forbid_dtd=True):
                    if event == "start" and el.tag == NS + "Worksheet":
                        sheet += 1
                    elif event == "end" and el.tag == NS + "Row":
                        if sheet == 1:
                            yield [(c.findtext(NS + "Data") or "") for c in el.findall(NS + "Cell")]
                        el.clear()
        except (zipfile.BadZipFile, DET.ParseError, DefusedXmlException, OSError) as exc:
            raise ExportFileError(
                f"cannot read {self.path.name}: {exc}",
                hint="give the .zip exactly as Hesk wrote it",
            ) from None

    def _data(self) -> Iterator[list[str]]:
        """The data rows, double-encoded UTF-8 repaired (as the database reader does)."""
        rows = self._rows()
        next(rows, None)
        for cells in rows:
            if not any(c.strip() for c in cells):
                continue
            fixed = [repair_mojibake(c) for c in cells]
            repaired = [
                self.headers[i] if i < len(self.headers) else str(i)
                for i, (_, was) in enumerate(fixed)
                if was
            ]
            if repaired:
                self.add_finding(
                    "invalid_encoding",
                    "ticket",
                    cells[0].strip(),
                    "legacy (double-encoded) text in " + ", ".join(repaired),
                )
            yield [text for text, _ in fixed]

    def _reply_label(self, sample: Sequence[Sequence[str]]) -> str:
        """The ``Reply by`` label: the file's language's, any known one, or inferred."""
        index = self.layout.replies
        if index is None:
            return LANGUAGES[self.layout.language].get("reply_by", "Reply by")
        firsts = [
            r[index].replace("\r\n", "\n").split("\n", 1)[0]
            for r in sample
            if index < len(r) and r[index].strip()
        ]
        labels = [LANGUAGES[self.layout.language].get("reply_by", "")] + [
            v.get("reply_by", "") for v in LANGUAGES.values()
        ]
        for text in labels:
            if text and all(f.startswith(text + " ") for f in firsts):
                return text
        blocks = [
            line
            for r in sample
            if index < len(r)
            for line in re.findall(r"(?:^|\n---\n)([^\n]*)\n", r[index])
        ]
        inferred = common_reply_label(blocks or firsts)
        if inferred:
            self.add_finding(
                "reply_label_inferred",
                "reply",
                "*",
                f"the replies cell's author label {inferred!r} is not a known "
                "Hesk language string: taken from the file",
            )
            return inferred
        return LANGUAGES[self.layout.language].get("reply_by", "Reply by")

    # -- findings -------------------------------------------------------------------------

    def add_finding(self, kind: str, object: str, source_id: Any, detail: str) -> None:
        """Record a finding once."""
        key = (kind, object, str(source_id))
        if key not in self._keys:
            self._keys.add(key)
            self.findings.append(Finding(kind, object, str(source_id), detail))

    # -- catalogs the file implies --------------------------------------------------------

    def hesk_version(self) -> str | None:
        """An export carries no version: its layout (followers, customers) is 3.5+."""
        return "3.5+ (export file)"

    def not_held(self) -> dict[str, str]:
        """What this source cannot give, by object (or ``object.field``)."""
        return dict(NOT_IN_EXPORT)

    def _cell(self, row: Sequence[str], index: int | None) -> str:
        return row[index] if index is not None and index < len(row) else ""

    def _fixed(self, row: Sequence[str], key: str) -> str:
        return self._cell(row, self.layout.fixed[key])

    @cached_property
    def owner_names(self) -> frozenset[str]:
        """Every staff name the Owner column shows."""
        return frozenset(n for row in self._data() if (n := self._fixed(row, "owner").strip()))

    @cached_property
    def statuses(self) -> dict[int, str]:
        """Status code -> name: the built-ins, plus custom statuses seen in the file."""
        names = dict(BUILTIN_STATUSES)
        for row in self._data():
            code, name = self._status(self._fixed(row, "status"))
            names.setdefault(code, name)
        return names

    @cached_property
    def priorities(self) -> dict[int, str]:
        """Priority id -> name: the built-ins, plus custom priorities seen in the file."""
        names = dict(BUILTIN_PRIORITIES)
        for row in self._data():
            code, name = self._priority(self._fixed(row, "priority"))
            names.setdefault(code, name)
        return names

    def _status(self, name: str) -> tuple[int, str]:
        code = code_of(name, STATUS_KEYS, self.layout.language)
        if code is not None:
            return code, BUILTIN_STATUSES[code]
        return name_id("status", name), name.strip()

    def _priority(self, name: str) -> tuple[int, str]:
        code = code_of(name, PRIORITY_KEYS, self.layout.language)
        if code is not None:
            return code, BUILTIN_PRIORITIES[code]
        return name_id("priority", name), name.strip()

    # -- one row --------------------------------------------------------------------------

    def _strings(self, key: str) -> set[str]:
        return {v[key] for v in LANGUAGES.values() if key in v}

    def _requester(self, row: Sequence[str], tid: int) -> tuple[str | None, str, str | None]:
        name = self._fixed(row, "name")  # Hesk decoded it (hesk_msgToPlain)
        email = self._fixed(row, "email").strip()
        if email in _ANON_EMAILS and name in self._strings("anon_name"):
            return None, "", None
        return contact_key(email) or f"noemail:{tid}", name, email or None

    def _followers(self, row: Sequence[str]) -> list[tuple[str, str, str]]:
        """``(contact key, name, email)`` of each follower (names written not decoded)."""
        out = []
        for item in self._fixed(row, "followers").split(","):
            item = item.strip()
            if not item:
                continue
            m = _FOLLOWER.match(item)
            name, email = (
                (m.group(1), m.group(2)) if m else (("", item) if "@" in item else (item, ""))
            )
            key = contact_key(email)
            if key:
                out.append((key, decode_entities(name), email))
        return out

    def _id(self, row: Sequence[str]) -> tuple[int, str]:
        raw, track = row[0].strip() if row else "", self._fixed(row, "trackID").strip()
        try:
            return int(float(raw)), track
        except ValueError:
            return name_id("ticket", track or raw), track

    def _ticket(self, row: Sequence[str]) -> Ticket:
        tid, track = self._id(row)
        try:
            return self._good_ticket(row, tid, track)
        except BadCell as bad:
            reason = f"export row {track or '#' + str(tid)}: {bad}"
            self.add_finding("broken_row", "ticket", tid, reason)
            return _broken_ticket(tid, track, reason)

    def _custom_values(self, row: Sequence[str]) -> tuple[CustomFieldValue, ...]:
        out = []
        for index, header in self.layout.customs:
            value = self._cell(row, index)
            if not value:
                continue
            fid = name_id("custom_field", header)
            date = None
            if re.match(r"^\d{4}-\d\d-\d\dT00:00:00(\.0+)?$", value):
                date = datetime.fromisoformat(value[:10] + "T00:00:00+00:00")
            out.append(
                CustomFieldValue(
                    fid, f"custom:{header}", header, None, value, tuple(value.split("\n")), date
                )
            )
        return tuple(out)

    def _good_ticket(self, row: Sequence[str], tid: int, track: str) -> Ticket:
        at = self.clock.instant
        contact, name, email = self._requester(row, tid)
        status, status_name = self._status(self._fixed(row, "status"))
        priority, priority_name = self._priority(self._fixed(row, "priority"))
        staff_replies = _int(self._fixed(row, "replies_staff"))
        first_reply = at(self._fixed(row, "first_reply_at"), "First reply at")
        if not staff_replies:
            first_reply = None  # Hesk <= 3.7.3 wrote the export's own time here
        history_raw = self._cell(row, self.layout.history)
        self._replies_of(row, tid)  # raises BadCell for a broken replies cell
        owner = self._fixed(row, "owner").strip()
        category = self._fixed(row, "category").strip()
        if contact is None:
            self.add_finding("anonymised_ticket", "ticket", tid, "no requester in the export")
        elif email is None:
            self.add_finding("missing_email", "ticket", tid, f"requester {name!r} has no email")
        elif not is_valid_email(email):
            self.add_finding("invalid_email", "ticket", tid, f"requester email {email!r}")
        return Ticket(
            source_id=str(tid),
            id=tid,
            trackid=track,
            subject=self._fixed(row, "subject"),
            message_html="",
            message_text=self._fixed(row, "message"),
            requester_contact_id=contact,
            requester_customer_id=None,
            requester_name=name,
            requester_email=email,
            follower_contact_ids=tuple(dict.fromkeys(f[0] for f in self._followers(row))),
            snapshot_name=name,
            snapshot_email=email or "",
            status=status,
            status_name=status_name,
            priority=priority,
            priority_name=priority_name,
            category_id=name_id("category", category) if category else 0,
            category_name=category or None,
            owner_id=name_id("staff", owner) if owner else None,
            owner_missing=False,
            opened_by=None,
            closed_by=None,
            assigned_by=None,
            created_at=at(self._fixed(row, "date"), "Date"),
            updated_at=at(self._fixed(row, "last_update"), "Updated"),
            first_reply_at=first_reply,
            closed_at=at(self._fixed(row, "resolved_at"), "Resolved at"),
            due_at=at(self._fixed(row, "due_date"), "Due date"),
            ip="",
            language=None,
            time_worked=self._fixed(row, "ts"),
            tagged=False,
            locked=False,
            merged_trackids=(),
            article_ids=(),
            custom_fields=self._custom_values(row),
            attachments=(),
            history_raw=history_raw,
            history=parse_history(
                history_raw,
                parent_object="ticket",
                parent_id=tid,
                timezone=self.timezone,
                date_format=self.date_format,
            ),
            reply_count=_int(self._fixed(row, "replies")),
            staff_reply_count=staff_replies,
            anonymised=contact is None,
            fidelity="export",
            missing=TICKET_MISSING,
        )

    def _replies_of(self, row: Sequence[str], tid: int) -> list[Reply] | None:
        """The row's replies in time order (None when the file has no replies column)."""
        if self.layout.replies is None:
            return None
        blocks = split_cell(
            self._cell(row, self.layout.replies), self.layout.date_label, self.reply_by
        )
        timed: list[tuple[datetime, int, RawReply]] = []
        for n, block in enumerate(blocks, start=1):
            when = self.clock.instant(block.when, f"the date of reply {n}")
            if when is None:
                raise BadCell(f"reply {n} has no date")
            timed.append((when, n, block))
        timed.sort(key=lambda t: (t[0], t[1]))  # Hesk writes id order: merges break time order
        contact, requester, email = self._requester(row, tid)
        followers = {k: (n, e) for k, n, e in self._followers(row)}
        authors = [
            self._author(decode_entities(b.author.strip()), (contact, requester, email), followers)
            for _, _, b in timed
        ]
        first_staff = self.clock.instant(self._fixed(row, "first_reply_at"), "First reply at")
        for i, (when, _n, block) in enumerate(timed):
            if authors[i][5] and when == first_staff:  # the first staff reply's time
                authors[i] = self._staff_author(decode_entities(block.author.strip()))
        staff_count = _int(self._fixed(row, "replies_staff"))
        sure_staff = sum(1 for a in authors if a[0] == "staff" and not a[5])
        ambiguous = [i for i, a in enumerate(authors) if a[5]]
        if ambiguous and staff_count - sure_staff >= len(ambiguous):
            for i in ambiguous:  # the staff count says they are all staff replies
                authors[i] = self._staff_author(decode_entities(timed[i][2].author.strip()))
        elif ambiguous and staff_count > sure_staff:
            self.add_finding(
                "ambiguous_reply_author",
                "ticket",
                tid,
                "a reply author is both the requester and a staff member: taken as the requester",
            )
        out: list[Reply] = []
        per_second: dict[int, int] = {}
        for position, (when, _n, block) in enumerate(timed):
            second = int(when.timestamp())
            nth = per_second.get(second, 0)
            per_second[second] = nth + 1
            rid = reply_id(tid, when, nth)
            out.append(self._reply(tid, rid, position, when, block, authors[position]))
        return out

    def _reply(
        self,
        tid: int,
        rid: int,
        position: int,
        when: datetime,
        block: RawReply,
        who: tuple[str, int | None, bool, str | None, str | None, bool],
    ) -> Reply:
        author = decode_entities(block.author.strip())  # Hesk wrote it not decoded
        kind, staff_id, missing, contact, role, _ambiguous = who
        return Reply(
            source_id=str(rid),
            id=rid,
            ticket_id=tid,
            position=position,
            created_at=when,
            message_html="",
            message_text=block.text,
            author_type=kind,
            author_name=author,
            staff_id=staff_id,
            staff_missing=missing,
            customer_id=None,
            author_contact_id=contact,
            author_role=role,
            attachments=(),
            rating=None,
            read=False,
            orphan=False,
            fidelity="export",
            missing=REPLY_MISSING,
        )

    def _staff_author(self, author: str) -> tuple[str, int | None, bool, None, None, bool]:
        return "staff", name_id("staff", author), False, None, None, False

    def _author(
        self,
        author: str,
        requester: tuple[str | None, str, str | None],
        followers: dict[str, tuple[str, str]],
    ) -> tuple[str, int | None, bool, str | None, str | None, bool]:
        """``(author_type, staff_id, staff_missing, contact, role, ambiguous)`` of a name.

        Hesk names the author and nothing else: a deleted staff member's label is staff;
        the requester's name or e-mail, or a follower's, is that customer (``ambiguous``
        when a staff member shown in the Owner column has the same name: the ticket's
        staff reply count then decides); any other name is a staff member the file
        knows only by it.
        """
        if author in self._strings("staff_deleted"):
            return "staff", None, True, None, None, False
        staff_name = author in self.owner_names
        contact, name, email = requester
        folded = author.casefold()
        if contact and folded in {name.casefold(), (email or "").casefold()}:
            return "customer", None, False, contact, "requester", staff_name
        if contact is None and author in self._strings("anon_name"):
            return "customer", None, False, None, "requester", False
        for key, (fname, femail) in followers.items():
            if folded in {fname.casefold(), femail.casefold()} - {""}:
                return "customer", None, False, key, "follower", staff_name
        return self._staff_author(author)

    # -- streams --------------------------------------------------------------------------

    def iter_records(
        self, object: str, *, since_id: int | None = None, changed_since: datetime | None = None
    ) -> Iterator[Record]:
        """Stream one object's records (none for what an export cannot hold).

        ``since_id``: tickets (and their replies, history, contacts) with a larger ``#``;
        ``changed_since``: tickets updated at or after it.
        """
        after = -1 if since_id is None else since_id
        if object in ("ticket", "reply", "history"):
            for row in self._data():
                if self._id(row)[0] <= after:
                    continue
                ticket = self._ticket(row)
                if changed_since and (
                    ticket.updated_at is None or ticket.updated_at < changed_since
                ):
                    continue
                if object == "ticket":
                    yield ticket
                elif object == "history":
                    yield from ticket.history
                elif not ticket.broken:
                    yield from self._replies_of(row, ticket.id) or ()
        elif object == "contact":
            yield from self._contacts(after)
        elif object == "category":
            yield from self._categories()
        elif object == "staff":
            yield from self._staff()
        elif object == "custom_field":
            yield from self._custom_fields()

    def _categories(self) -> Iterator[Category]:
        names = dict.fromkeys(self._fixed(r, "category").strip() for r in self._data())
        for name in (n for n in names if n):
            cid = name_id("category", name)
            yield Category(
                source_id=str(cid),
                id=cid,
                name=name,
                order=0,
                private=False,
                default_priority=3,
                autoassign=False,
            )

    def _staff(self) -> Iterator[Staff]:
        names: dict[str, None] = dict.fromkeys(sorted(self.owner_names))
        for reply in self.iter_records("reply"):
            if isinstance(reply, Reply) and reply.staff_id is not None:
                names.setdefault(reply.author_name)
        for name in names:
            sid = name_id("staff", name)
            yield Staff(
                source_id=str(sid),
                id=sid,
                username="",
                name=name,
                email="",
                nickname="",
                is_admin=False,
                active=True,
                signature="",
                language=None,
                category_ids=(),
                privileges=(),
            )

    def _custom_fields(self) -> Iterator[CustomFieldDefinition]:
        dates: dict[int, bool] = {}
        for row in self._data():
            for value in self._custom_values(row):
                dates[value.field_id] = dates.get(value.field_id, True) and value.date is not None
        for order, (_index, header) in enumerate(self.layout.customs, start=1):
            fid = name_id("custom_field", header)
            yield CustomFieldDefinition(
                source_id=str(fid),
                id=fid,
                column=f"custom:{header}",
                name=header,
                names={"English": header},
                field_type="date" if dates.get(fid) else "text",
                use=1,
                staff_only=False,
                place=0,
                required=0,
                category_ids=None,
                options=(),
                default_value="",
                max_length=None,
                date_format=None,
                multiple=False,
                order=order,
                settings={"from_export": True},
            )

    def _contacts(self, after: int) -> Iterator[Customer]:
        seen: set[str] = set()
        for row in self._data():
            tid, _track = self._id(row)
            if tid <= after:
                continue
            contact, name, email = self._requester(row, tid)
            people = ([(contact, name, email)] if contact else []) + list(self._followers(row))
            for key, pname, pemail in people:
                if key in seen:
                    continue
                seen.add(key)
                is_req = key == contact
                try:
                    signed_up = self.clock.instant(self._fixed(row, "date"), "Date")
                except BadCell:
                    signed_up = None
                yield Customer(
                    source_id=key,
                    email=pemail,
                    name=pname,
                    email_valid=is_valid_email(pemail),
                    email_variants=(pemail,) if pemail else (),
                    customer_ids=(),
                    origin="export",
                    language=None,
                    verified=None,
                    first_ticket_id=tid if is_req else None,
                    signed_up_at=signed_up if is_req else None,
                )

    def iter_all(self) -> Iterator[Record]:
        """Every record the export can give, in dependency order."""
        for object in DEPENDENCY_ORDER:
            yield from self.iter_records(object)

    # -- what the capture and delta ask -----------------------------------------------------

    def max_ids(self) -> dict[str, int]:
        """The highest ticket and reply ids in the file."""
        top = {"ticket": 0, "reply": 0}
        for record in self.iter_records("reply"):
            top["reply"] = max(top["reply"], int(getattr(record, "id", 0)))
        for row in self._data():
            top["ticket"] = max(top["ticket"], self._id(row)[0])
        return top

    def watermark(self) -> datetime | None:
        """The newest ``Updated`` time in the file (UTC)."""
        times = [
            t.updated_at
            for t in self.iter_records("ticket")
            if isinstance(t, Ticket) and t.updated_at is not None
        ]
        return max(times) if times else None

    def count(self, object: str) -> int:
        """How many records of ``object`` the file gives."""
        return sum(1 for _ in self.iter_records(object))

    def id_set(self, object: str) -> set[int]:
        """Refused: an export may be filtered, so a missing row proves no deletion."""
        raise NotInExport(f"a Hesk export cannot tell which {object}s were deleted")


def _int(text: str) -> int:
    try:
        return int(float(text or 0))
    except ValueError:
        return 0


def _broken_ticket(tid: int, track: str, reason: str) -> Ticket:
    """A ticket that stands for a row that could not be read (quarantined by the planner)."""
    return Ticket(
        source_id=str(tid),
        id=tid,
        trackid=track,
        subject="",
        message_html="",
        message_text="",
        requester_contact_id=None,
        requester_customer_id=None,
        requester_name="",
        requester_email=None,
        follower_contact_ids=(),
        snapshot_name="",
        snapshot_email="",
        status=-1,
        status_name="",
        priority=-1,
        priority_name="",
        category_id=0,
        category_name=None,
        owner_id=None,
        owner_missing=False,
        opened_by=None,
        closed_by=None,
        assigned_by=None,
        created_at=None,
        updated_at=None,
        first_reply_at=None,
        closed_at=None,
        due_at=None,
        ip="",
        language=None,
        time_worked="",
        tagged=False,
        locked=False,
        merged_trackids=(),
        article_ids=(),
        custom_fields=(),
        attachments=(),
        history_raw="",
        history=(),
        reply_count=0,
        staff_reply_count=0,
        anonymised=False,
        fidelity="export",
        missing=TICKET_MISSING,
        broken=reason,
    )


__all__ = ["NOT_IN_EXPORT", "NOT_IN_EXPORT_REASON", "ExportReader", "NotInExport", "name_id"]

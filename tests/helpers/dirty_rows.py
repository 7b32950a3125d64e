"""Hypothesis strategies for Hesk rows as a real Hesk database can hold them, and their writer.

A drawn :class:`HelpDesk` is a small help desk (customers, staff, categories, tickets with
replies, notes and attachments, KB categories, articles and their files) whose every column
sits at one of its type's edges: empty, NULL where nullable, the longest the column allows,
invalid UTF-8, double-encoded UTF-8 (what latin1 connections left behind), HTML entities
encoded twice, control characters, 4-byte characters a ``utf8`` (3-byte) column cannot hold,
``0000-00-00 00:00:00`` and dates in the future, ids that point nowhere, the same e-mail in
another case. Ids are local to the desk; :func:`write_desks` shifts each desk's ids past the
previous ones, so many drawn desks make one large help desk (the benchmark's setting).

Rows go in the way MariaDB stores them for a non-strict Hesk host: ``sql_mode`` without
``STRICT_*`` (zero dates accepted, invalid bytes kept as ``?``), bytes sent as ``_binary``.
Long values are built from a drawn character, not drawn character by character, so a desk
stays within Hypothesis's budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql
from hypothesis import strategies as st

#: A mediumint (tickets, replies, notes, customers, attachments) id no row has.
NOWHERE_MEDIUM = 16_000_000
#: A smallint (staff, categories, KB) id no row has.
NOWHERE_SMALL = 65_000

_MOJIBAKE = ["Café – naïve", "Ljubljana Žiga Šef", "€100 „quoted“", "日本語のテキスト"]
_EDGE_TEXTS = [
    "&amp;lt;b&amp;gt;Tom &amp;amp; Jerry&amp;lt;/b&amp;gt;",  # entities encoded twice
    "&amp;amp;quot;x&amp;amp;quot; &#38;#039;",
    "a\x00b\x01c\x07d\x08e\x0bf\x0cg\x1b[31mred\x1b[0m\x7f\u0085\u2028\u2029end",
    "hi 😀 𝔘𝔫𝔦 🏳️‍🌈",  # 4-byte characters: a utf8mb3 column keeps '?'
    '<script>alert(1)</script><img src=x onerror="alert(2)"><b>bold</b>'
    '<a href="javascript:x">j</a>',
    "   \r\n\t \r\n",
    "<p>unclosed <div><table><tr><td>cell",
    "=cmd|' /C calc'!A0",
    "line1\rline2\r\nline3\n",
    "\u202eevil\u202c rtl \u200b zero width \ufeff bom",
]
_INVALID_UTF8 = [
    b"ok\xff\xfe bad \xc3(",
    b"\xc0\xaf\xed\xa0\x80 surrogate",
    b"caf\xe9 latin1",
    b"\x80\x81\x82",
]
_DATES = [
    "2023-03-04 05:06:07",
    "0000-00-00 00:00:00",
    "2037-12-31 23:59:59",
    "1970-01-01 00:00:01",
    "2000-01-01 00:00:00",
    "2030-06-15 12:00:00",
]


def text(max_len: int, *, nullable: bool = False) -> st.SearchStrategy[Any]:
    """A value for a text column of at most ``max_len`` characters, at one of its edges."""
    choices: list[st.SearchStrategy[Any]] = [
        st.just(""),
        st.text(max_size=min(max_len, 24)),
        st.sampled_from(_EDGE_TEXTS).map(lambda s: s[:max_len]),
        st.sampled_from(_INVALID_UTF8).map(lambda b: b[:max_len]),
        st.sampled_from(_MOJIBAKE).map(lambda s: s.encode().decode("latin-1")[:max_len]),
        st.sampled_from(["a", "é", "€", "&", "<", "😀"]).map(lambda c: c * max_len),
    ]
    if nullable:
        choices.append(st.just(None))
    return st.one_of(*choices)


def date(*, nullable: bool = False) -> st.SearchStrategy[str | None]:
    """A TIMESTAMP value: ordinary, zero, far future, epoch; NULL where nullable."""
    values: list[str | None] = list(_DATES)
    if nullable:
        values.append(None)
    return st.sampled_from(values)


def ref(count: int, nowhere: int, *, zero: bool = True) -> st.SearchStrategy[int]:
    """An id of one of ``count`` local rows, or one that points nowhere (or 0)."""
    options = [st.just(nowhere)]
    if zero:
        options.append(st.just(0))
    if count:
        options.append(st.integers(1, count))
    return st.one_of(*options)


def email(pool: list[str]) -> st.SearchStrategy[str | None]:
    """An e-mail: one of ``pool`` (maybe in another case), invalid, empty, several, NULL."""
    options: list[st.SearchStrategy[str | None]] = [
        st.sampled_from(
            [
                "",
                "not-an-email",
                "two@@example.com",
                "a@b",
                " spaced@example.com ",
                "x@example.com,y@example.com",
                "ünï@exämple.com",
                None,
            ]
        ),
        st.integers(0, 999).map(lambda n: f"user{n}@example.com"),
        st.just("L" * 64 + "@" + "d" * 180 + ".com"),
    ]
    if pool:
        options.append(st.sampled_from(pool))
        options.append(st.sampled_from(pool).map(str.upper))
        options.append(st.sampled_from(pool).map(str.swapcase))
    return st.one_of(*options)


@dataclass
class HelpDesk:
    """Rows per Hesk table (without prefix), with ids local to this desk."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def records(self) -> int:
        """How many source rows the desk holds (what the figures count)."""
        return sum(len(v) for k, v in self.rows.items() if k != "ticket_to_customer")


def one_ticket(kb_categories: list[dict[str, Any]] | None = None, **columns: Any) -> HelpDesk:
    """A desk of one ordinary ticket whose ``columns`` are given (a regression example),
    and the given KB categories (local ids from 2)."""
    ticket = {
        "id": 1,
        "u_name": "Ann",
        "u_email": "ann@example.com",
        "subject": "Hello",
        "message": "Hi",
        "dt": _DATES[0],
        "lastchange": _DATES[0],
        "history": "",
        "attachments_raw": "",
        **columns,
    }
    empty = (
        "customers",
        "users",
        "categories",
        "replies",
        "notes",
        "attachments",
        "ticket_to_customer",
        "kb_attachments",
        "kb_articles",
    )
    return HelpDesk(
        rows={"tickets": [ticket], "kb_categories": kb_categories or [], **{t: [] for t in empty}}
    )


@st.composite
def help_desk(draw: st.DrawFn, max_tickets: int = 6) -> HelpDesk:
    """One small help desk whose every column is at an edge of its type."""
    desk = HelpDesk()
    rows = desk.rows
    n_customers = draw(st.integers(0, 4))
    emails: list[str] = []
    rows["customers"] = []
    for i in range(1, n_customers + 1):
        mail = draw(email(emails))
        if isinstance(mail, str) and "@" in mail:
            emails.append(mail)
        rows["customers"].append(
            {
                "id": i,
                "name": draw(text(255)),
                "email": mail,
                "language": draw(st.sampled_from([None, "English", ""])),
                "verified": draw(st.sampled_from([0, 1, 2])),
                "verification_email_sent_at": draw(date(nullable=True)),
            }
        )
    n_staff = draw(st.integers(0, 3))
    rows["users"] = [
        {
            "id": i,
            "user": f"agent{i}",
            "pass": "$2y$10$x",
            "isadmin": draw(st.sampled_from("01")),
            "active": draw(st.sampled_from([0, 1])),
            "name": draw(text(255)),
            "email": draw(email(emails).map(lambda e: e or "")),
            "nickname": draw(text(255)),
            "signature": draw(text(1000)),
            "categories": draw(st.sampled_from(["", "1,2", "x"])),
        }
        for i in range(1, n_staff + 1)
    ]
    n_categories = draw(st.integers(0, 2))
    rows["categories"] = [
        {
            "id": i,
            "name": draw(text(255)),
            "cat_order": i * 10,
            "type": draw(st.sampled_from("01")),
            "priority": draw(st.sampled_from([0, 3, 255])),
        }
        for i in range(1, n_categories + 1)
    ]

    n_tickets = draw(st.integers(1, max_tickets))
    rows.update(tickets=[], replies=[], notes=[], attachments=[], ticket_to_customer=[])
    att_id = 0
    for t in range(1, n_tickets + 1):
        ticket: dict[str, Any] = {
            "id": t,
            "u_name": draw(text(255)),
            "u_email": draw(email(emails).map(lambda e: e or "")),
            "category": draw(ref(n_categories, NOWHERE_SMALL)),
            "priority": draw(st.sampled_from([0, 1, 2, 3, 4, 255])),
            "subject": draw(text(255)),
            "message": draw(text(5000)),
            "message_html": draw(text(5000, nullable=True)),
            "dt": draw(date()),
            "lastchange": draw(date()),
            "firstreply": draw(date(nullable=True)),
            "closedat": draw(date(nullable=True)),
            "articles": draw(st.sampled_from([None, "", "1,2", "x,,"])),
            "ip": draw(st.sampled_from(["", "127.0.0.1", "::1", "not-an-ip", "9" * 45])),
            "language": draw(st.sampled_from([None, "", "English", "Deutsch"])),
            "status": draw(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 200])),
            "openedby": draw(st.sampled_from([0, -1, 1, NOWHERE_SMALL])),
            "firstreplyby": draw(ref(n_staff, NOWHERE_SMALL).map(lambda v: v or None)),
            "closedby": draw(st.sampled_from([None, 0, -1, 1, NOWHERE_SMALL])),
            "owner": draw(ref(n_staff, NOWHERE_SMALL)),
            "assignedby": draw(st.sampled_from([None, 0, -1, 1, NOWHERE_SMALL])),
            "time_worked": draw(st.sampled_from(["00:00:00", "838:59:59", "-01:00:00"])),
            "lastreplier": draw(st.sampled_from("01")),
            "replierid": draw(ref(n_staff, NOWHERE_SMALL).map(lambda v: v or None)),
            "archive": draw(st.sampled_from("01")),
            "locked": draw(st.sampled_from("01")),
            "merged": draw(st.sampled_from(["", "#ABC-DEF-GHJK#", "##", "#x#y##"])),
            "history": draw(
                st.one_of(
                    text(300),
                    st.just('<li class="smaller">2023-01-02 08:00:00 | created by <i>x</i></li>'),
                )
            ),
            "custom1": draw(text(300)),
            "custom2": draw(text(300)),
            "due_date": draw(date(nullable=True)),
            "satisfaction_email_dt": draw(date(nullable=True)),
        }
        if n_customers and draw(st.booleans()):
            rows["ticket_to_customer"].append(
                {
                    "ticket_id": t,
                    "customer_id": draw(ref(n_customers, NOWHERE_MEDIUM)),
                    "customer_type": draw(
                        st.sampled_from(["REQUESTER", "FOLLOWER", "", "requester"])
                    ),
                }
            )
        owned: list[tuple[str, int]] = [("tickets", t)]
        for _ in range(draw(st.integers(0, 3))):
            rid = len(rows["replies"]) + 1
            rows["replies"].append(
                {
                    "id": rid,
                    "replyto": draw(st.one_of(st.just(t), ref(n_tickets, NOWHERE_MEDIUM))),
                    "message": draw(text(5000)),
                    "message_html": draw(text(5000, nullable=True)),
                    "dt": draw(date()),
                    "staffid": draw(ref(n_staff, NOWHERE_SMALL)),
                    "customer_id": draw(st.one_of(st.none(), ref(n_customers, NOWHERE_MEDIUM))),
                    "rating": draw(st.sampled_from([None, "1", "5"])),
                    "read": draw(st.sampled_from("01")),
                }
            )
            owned.append(("replies", rid))
        for _ in range(draw(st.integers(0, 2))):
            nid = len(rows["notes"]) + 1
            rows["notes"].append(
                {
                    "id": nid,
                    "ticket": draw(st.one_of(st.just(t), ref(n_tickets, NOWHERE_MEDIUM))),
                    "who": draw(ref(n_staff, NOWHERE_SMALL)),
                    "dt": draw(date()),
                    "message": draw(text(5000)),
                }
            )
            owned.append(("notes", nid))
        for _ in range(draw(st.integers(0, 2))):
            att_id += 1
            saved = draw(st.sampled_from(["file", "missing", "../../etc/passwd", "", "/abs"]))
            size = draw(st.sampled_from([0, 5, 4096]))
            rows["attachments"].append(
                {
                    "att_id": att_id,
                    "ticket": t,
                    "dangling": draw(st.booleans()),
                    "owner": draw(st.sampled_from(owned)),
                    "saved": saved,
                    "file_size": draw(st.sampled_from([size, size + 1]))
                    if saved == "file"
                    else None,
                    "real_name": draw(text(255)),
                    "size": size,
                    "type": draw(st.sampled_from("01")),
                }
            )
        ticket["attachments_raw"] = draw(st.sampled_from(["", "garbage", "#,,#", "0#x,"]))
        rows["tickets"].append(ticket)

    n_kb_cats = draw(st.integers(0, 2))
    rows["kb_categories"] = [
        {
            "id": i + 1,
            "name": draw(text(255)),
            "parent": draw(st.sampled_from([0, 1, i + 1, NOWHERE_SMALL])),
            "cat_order": i,
            "type": draw(st.sampled_from("01")),
        }
        for i in range(1, n_kb_cats + 1)
    ]  # id 1 is the schema's own "Knowledgebase"
    rows["kb_attachments"] = []
    rows["kb_articles"] = []
    for a in range(1, draw(st.integers(0, 3)) + 1):
        files = ""
        if draw(st.booleans()):
            kid = len(rows["kb_attachments"]) + 1
            rows["kb_attachments"].append(
                {
                    "att_id": kid,
                    "saved_name": "kb",
                    "real_name": draw(text(255)),
                    "size": 3,
                }
            )
            files = f"{kid}#kb,"
        rows["kb_articles"].append(
            {
                "id": a,
                "catid": draw(st.sampled_from([1, 2, NOWHERE_SMALL])),
                "dt": draw(date()),
                "author": draw(ref(n_staff, NOWHERE_SMALL)),
                "subject": draw(text(255)),
                "content": draw(text(5000)),
                "keywords": draw(text(100)),
                "type": draw(st.sampled_from("012")),
                "html": draw(st.sampled_from("01")),
                "sticky": draw(st.sampled_from("01")),
                "history": "",
                "attachments": files,
            }
        )
    return desk


# ------------------------------------------------------------------------------- writer

_SHIFTED = {
    "customers": "customers",
    "users": "users",
    "categories": "categories",
    "tickets": "tickets",
    "replies": "replies",
    "notes": "notes",
    "attachments": "attachments",
    "kb_categories": "kb_categories",
    "kb_articles": "kb_articles",
    "kb_attachments": "kb_attachments",
}
#: column -> the table whose ids it names (shifted with that table unless it points nowhere)
_REFS = {
    "category": "categories",
    "owner": "users",
    "firstreplyby": "users",
    "replierid": "users",
    "staffid": "users",
    "who": "users",
    "author": "users",
    "replyto": "tickets",
    "ticket": "tickets",
    "ticket_id": "tickets",
    "customer_id": "customers",
    "catid": "kb_categories",
    "parent": "kb_categories",
}


def _trackid(ticket_id: int) -> str:
    return f"T{ticket_id:05d}-DR-TY"[:13]


def _shift(value: Any, offset: int) -> Any:
    if not isinstance(value, int) or value <= 0 or value >= NOWHERE_SMALL:
        return value
    return value + offset


def _insert(cur: Any, table: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        cols = list(row)
        cur.execute(
            f"INSERT INTO {table} ({', '.join(f'`{c}`' for c in cols)}) "
            f"VALUES ({', '.join(['%s'] * len(cols))})",
            tuple(row[c] for c in cols),
        )


def write_desks(
    conn: pymysql.Connection, prefix: str, desks: list[HelpDesk], attachments: Path
) -> int:
    """Insert every desk (ids shifted past the previous desks') and write the files that
    exist; returns the number of source rows written."""
    cur = conn.cursor()
    cur.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")
    cur.execute("SET time_zone = '+00:00'")
    offsets = dict.fromkeys(_SHIFTED, 0)
    # the schema's own rows keep id 1: the first admin, "General", the KB root (local KB
    # category ids start at 2 for that reason)
    offsets["users"] = offsets["categories"] = 1
    written = 0
    for desk in desks:
        out: dict[str, list[dict[str, Any]]] = {}
        for table in _SHIFTED:
            local = desk.rows.get(table, [])
            key = "att_id" if table in ("attachments", "kb_attachments") else "id"
            shifted = []
            for row in local:
                new = dict(row)
                new[key] = row[key] + offsets[table]
                for col, target in _REFS.items():
                    if col in new and not (table == "attachments" and col == "ticket"):
                        if table == "kb_categories" and col == "parent" and new[col] == 1:
                            continue
                        if table == "kb_articles" and col == "catid" and new[col] == 1:
                            continue
                        new[col] = _shift(new[col], offsets[target])
                shifted.append(new)
            out[table] = shifted
        for row in out["kb_articles"]:
            if row["attachments"]:
                kid = int(row["attachments"].split("#")[0]) + offsets["kb_attachments"]
                row["attachments"] = f"{kid}#kb,"
        links = [
            {
                **r,
                "ticket_id": _shift(r["ticket_id"], offsets["tickets"]),
                "customer_id": _shift(r["customer_id"], offsets["customers"]),
            }
            for r in desk.rows.get("ticket_to_customer", [])
        ]
        # attachments: the trackid column, and the owners' ``attachments`` lists
        lists: dict[tuple[str, int], str] = {}
        atts = []
        for row in out["attachments"]:
            ticket_id = row["ticket"] + offsets["tickets"]
            owner_table, owner_local = row["owner"]
            owner = (owner_table, owner_local + offsets[owner_table])
            lists[owner] = lists.get(owner, "") + f"{row['att_id']}#{_plain(row['real_name'])},"
            saved = row["saved"]
            saved_name = f"{saved}-{row['att_id']}" if saved in ("file", "missing") else saved
            if row["file_size"] is not None:
                (attachments / saved_name).write_bytes(b"x" * row["file_size"])
            atts.append(
                {
                    "att_id": row["att_id"],
                    "ticket_id": "ZZZ-ZZZ-ZZZZ" if row["dangling"] else _trackid(ticket_id),
                    "saved_name": saved_name,
                    "real_name": row["real_name"],
                    "size": row["size"],
                    "type": row["type"],
                }
            )
        for ticket in out["tickets"]:
            raw = ticket.pop("attachments_raw")
            ticket["trackid"] = _trackid(ticket["id"])
            ticket["attachments"] = lists.get(("tickets", ticket["id"]), "") + raw
        for table in ("replies", "notes"):
            for row in out[table]:
                row["attachments"] = lists.get((table, row["id"]), "")
        for row in out["kb_attachments"]:
            row["saved_name"] = f"kb-{row['att_id']}"
            (attachments / row["saved_name"]).write_bytes(b"kb!")
        for table in (
            "customers",
            "users",
            "categories",
            "tickets",
            "replies",
            "notes",
            "kb_categories",
            "kb_attachments",
            "kb_articles",
        ):
            _insert(cur, f"`{prefix}{table}`", out[table])
        _insert(cur, f"`{prefix}attachments`", atts)
        _insert(cur, f"`{prefix}ticket_to_customer`", links)
        written += desk.records()
        for table in _SHIFTED:
            key = "att_id" if table in ("attachments", "kb_attachments") else "id"
            ids = [r[key] for r in out[table]]
            if ids:
                offsets[table] = max(offsets[table], max(ids))
    return written


def _plain(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return (value or "").replace(",", " ").replace("#", " ")

"""Demo / fixture data: a realistic Hesk 3.7.11 database on the real schema, by seed.

``generate(url, attachments_dir, tickets=N, seed=S, dirty=DirtyKnobs(...))`` drops and
recreates the database named in ``url`` (only one it created itself, see
:mod:`hesk.demo_claim`), executes the packaged ``schema.sql`` with the
table prefix, and fills it with Faker text the way Hesk stores it (escaped, auto-linked,
``<br />``), ~5 replies per ticket, notes, staff, categories, custom fields of every type,
customers + ``ticket_to_customer``, KB, canned responses, templates and attachment files.
Each :class:`DirtyKnobs` field plants that many cases of one kind of bad data a real help
desk holds (docs/hesk-source.md, "Findings"); the summary says which source ids carry which
case. Rows go in with multi-row INSERTs (``executemany``), so 10,000 tickets take seconds.

Note: MariaDB refuses invalid UTF-8 in utf8 columns, so "non-UTF-8 bytes" are planted as
what legacy latin1 connections really left behind: double-encoded UTF-8 (``CafÃ©``).
"""

from __future__ import annotations

import hashlib
import html
import json
import random
import re
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymysql
from faker import Faker

from hesk.db import connect_kwargs, translate_error
from hesk.demo_claim import DemoFolder, check_database, recreate_database
from hesk.history import format_local_date
from hesk.schema import schema_statements

TRACK_ALPHABET = "AEUYBDGHJLMNPQRSTVWXZ123456789"
_URL = re.compile(r"(https?://[^\s<]+)")
_CUSTOM_COLS = [f"custom{i}" for i in range(1, 101)]
_EPOCH = datetime(2023, 1, 2, 8, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class DirtyKnobs:
    """How many records of each kind of bad data to plant (0 = none)."""

    emailless_requester: int = 2
    email_case_duplicate: int = 2
    invalid_email: int = 2
    unsafe_html: int = 2
    large_message: int = 1
    large_message_bytes: int = 3_000_000
    missing_attachment_file: int = 2
    traversal_saved_name: int = 1
    orphan_reply: int = 1
    deleted_staff: int = 1
    merged_ticket: int = 1
    anonymised_ticket: int = 1
    deleted_category: int = 1
    legacy_encoding: int = 1
    zero_date: int = 1

    @classmethod
    def clean(cls) -> DirtyKnobs:
        """No dirty data at all."""
        return cls(**{f.name: 0 for f in fields(cls) if f.name != "large_message_bytes"})


@dataclass
class DemoSummary:
    """What :func:`generate` created (counts, and the source ids of each dirty case)."""

    database: str
    table_prefix: str
    tickets: int = 0
    replies: int = 0
    notes: int = 0
    customers: int = 0
    staff: int = 0
    categories: int = 0
    custom_fields: int = 0
    attachments: int = 0
    kb_categories: int = 0
    kb_articles: int = 0
    kb_attachments: int = 0
    canned_responses: int = 0
    ticket_templates: int = 0
    files_written: int = 0
    bytes_written: int = 0
    seconds: float = 0.0
    dirty: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The summary as a JSON-safe dict."""
        return asdict(self)


# --------------------------------------------------------------------------- helpers


def hesk_escape(text: str) -> str:
    """Escape like ``hesk_input`` + ``hesk_dbEscape`` (``'`` kept, backtick -> ``&#96;``)."""
    return html.escape(text, quote=False).replace('"', "&quot;").replace("`", "&#96;")


def hesk_plain_message(text: str) -> str:
    """A plain-text message stored the Hesk way: escaped, auto-linked, ``nl2br``."""
    escaped = hesk_escape(text)
    linked = _URL.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', escaped)
    return linked.replace("\r\n", "\n").replace("\n", "<br />\r\n")


def trackid(rng: random.Random, used: set[str]) -> str:
    """A fresh Hesk tracking id ``XXX-XXX-XXXX``."""
    while True:
        raw = "".join(rng.choice(TRACK_ALPHABET) for _ in range(10))
        tid = f"{raw[:3]}-{raw[3:6]}-{raw[6:]}"
        if tid not in used:
            used.add(tid)
            return tid


def _ts(at: datetime | None) -> str | None:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if at else None


def _insert(cur: Any, table: str, rows: list[dict[str, Any]], chunk: int = 500) -> None:
    if not rows:
        return
    cols = list(rows[0])
    sql = (
        f"INSERT INTO {table} ({', '.join(f'`{c}`' for c in cols)}) "
        f"VALUES ({', '.join(['%s'] * len(cols))})"
    )
    for i in range(0, len(rows), chunk):
        cur.executemany(sql, [tuple(r[c] for c in cols) for r in rows[i : i + chunk]])


class _Text:
    """Pools of Faker text, drawn with the seeded RNG (Faker per row is too slow)."""

    def __init__(self, seed: int, rng: random.Random) -> None:
        fake = Faker(["en_US"])
        fake.seed_instance(seed)
        self.rng = rng
        self.names = [fake.name() for _ in range(400)]
        self.sentences = [fake.sentence(nb_words=10) for _ in range(400)]
        self.subjects = [fake.sentence(nb_words=6).rstrip(".") for _ in range(200)]
        self.words = [fake.word() for _ in range(200)]
        self.domains = [fake.domain_name() for _ in range(40)]
        self.spice = [
            'Tom & Jerry said "hi"',
            "price < 5 > 3",
            "use `code` here",
            "it's fine",
            "see https://example.com/help?a=1&b=2",
            "x &amp; y",
        ]

    def name(self) -> str:
        return self.rng.choice(self.names)

    def paragraph(self, n: int = 3) -> str:
        parts = [self.rng.choice(self.sentences) for _ in range(n)]
        if self.rng.random() < 0.3:
            parts.append(self.rng.choice(self.spice))
        return "\n".join(parts)

    def subject(self) -> str:
        return self.rng.choice(self.subjects)

    def email_for(self, name: str, n: int) -> str:
        local = re.sub(r"[^a-z]", ".", name.lower()).strip(".")
        return f"{local}{n}@{self.rng.choice(self.domains)}"


# --------------------------------------------------------------------------- generator


def _create_database(
    url: str, table_prefix: str, *, force: bool, folder: Path | None, clean_files: bool
) -> tuple[pymysql.Connection, str, DemoFolder | None]:
    """Check the database and folder are ours (or ``force``), then recreate the database."""
    kwargs = connect_kwargs(url)
    database = kwargs.pop("database")
    if not database or not re.fullmatch(r"[A-Za-z0-9_]+", database):
        from hesk.errors import HeskError

        raise HeskError(
            f"demo database name {database!r} must be letters, digits, _",
            hint="put a database name in the URL, e.g. .../hesk_demo",
        )
    try:
        conn = pymysql.connect(**kwargs, charset="utf8mb4", autocommit=True)
    except pymysql.MySQLError as exc:
        raise translate_error(exc, url) from None
    try:
        cur = conn.cursor()
        check_database(cur, database, force=force)
        demo_folder = DemoFolder.claim(folder, force=force) if folder is not None else None
        if demo_folder is not None and clean_files:
            demo_folder.clean()
        recreate_database(cur, database)
        cur.execute(f"USE `{database}`")
        cur.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")
        cur.execute("SET time_zone = '+00:00'")
        for stmt in schema_statements(table_prefix):
            cur.execute(stmt)
        cur.execute("SET NAMES utf8mb4")
    except pymysql.MySQLError as exc:
        conn.close()
        raise translate_error(exc, url) from None
    except BaseException:
        conn.close()
        raise
    return conn, database, demo_folder


def generate(
    url: str,
    attachments_dir: str | Path | None,
    tickets: int = 1000,
    seed: int = 1,
    dirty: DirtyKnobs | None = None,
    *,
    table_prefix: str = "hesk_",
    timezone: str = "UTC",
    date_format: str = "Y-m-d H:i:s",
    replies_per_ticket: int = 5,
    pre_35: bool = False,
    force: bool = False,
    clean_files: bool = False,
) -> DemoSummary:
    """(Re)create the database in ``url`` and fill it with a deterministic demo help desk.

    Only a database and folder the generator created (or empty ones) are touched; anything
    else raises :class:`~hesk.demo_claim.NotOurs` unless ``force``. Even then, a file it
    did not write is never overwritten or deleted. ``clean_files`` first deletes the files
    it wrote earlier (those still unchanged). ``pre_35=True`` then converts the database
    to the Hesk < 3.5 layout (no customer tables, ``tickets.name``/``email``,
    ``replies.name``) to exercise the snapshot fallback.
    """
    started = time.monotonic()
    dirty = DirtyKnobs() if dirty is None else dirty
    folder = Path(attachments_dir) if attachments_dir else None
    conn, database, demo_folder = _create_database(
        url, table_prefix, force=force, folder=folder, clean_files=clean_files
    )
    gen = _Generator(
        conn,
        database,
        table_prefix,
        demo_folder,
        tickets,
        seed,
        dirty,
        timezone,
        date_format,
        replies_per_ticket,
    )
    try:
        gen.run()
        if pre_35:
            gen.convert_to_pre35()
    except pymysql.MySQLError as exc:
        raise translate_error(exc, url) from None
    finally:
        conn.close()
    gen.summary.seconds = round(time.monotonic() - started, 2)
    return gen.summary


class _Generator:
    def __init__(
        self,
        conn: Any,
        database: str,
        prefix: str,
        folder: DemoFolder | None,
        tickets: int,
        seed: int,
        dirty: DirtyKnobs,
        timezone: str,
        date_format: str,
        replies_per_ticket: int,
    ) -> None:
        self.cur = conn.cursor()
        self.p = prefix
        self.dir = folder
        self.n = max(1, tickets)
        self.rng = random.Random(seed)
        self.text = _Text(seed, self.rng)
        self.dirty = dirty
        self.tz = timezone
        self.fmt = date_format
        self.rpt = replies_per_ticket
        self.summary = DemoSummary(database=database, table_prefix=prefix)
        self.used_tracks: set[str] = set()
        self.att_id = 0

    def t(self, name: str) -> str:
        return f"`{self.p}{name}`"

    def mark(self, kind: str, source_id: Any) -> None:
        self.summary.dirty.setdefault(kind, []).append(str(source_id))

    def hist(self, at: datetime, text: str) -> str:
        return f'<li class="smaller">{format_local_date(at, self.fmt, self.tz)} | {text}</li>'

    def write_file(self, saved_name: str, size: int) -> None:
        if self.dir is None:
            return
        data = hashlib.sha256(saved_name.encode()).digest() * (size // 32 + 1)
        self.dir.write(saved_name, data[:size])
        self.summary.files_written += 1
        self.summary.bytes_written += size

    # ---------------------------------------------------------------- catalogs

    def catalogs(self) -> None:
        rng, text = self.rng, self.text
        n_staff = min(50, max(5, self.n // 400))
        self.cur.execute(
            f"UPDATE {self.t('users')} SET name=%s, email=%s WHERE id=1",
            ("Ada Admin", "ada.admin@helpdesk.example"),
        )
        staff: list[dict[str, Any]] = []
        for i in range(2, n_staff + 1):
            name = text.name()
            staff.append(
                {
                    "id": i,
                    "user": f"agent{i}",
                    "pass": "$2y$10$demo",
                    "isadmin": "0",
                    "name": hesk_escape(name),
                    "email": text.email_for(name, i),
                    "signature": hesk_escape(f"Regards, {name}"),
                    "categories": "1,2,3",
                    "heskprivileges": "can_view_tickets,can_reply_tickets",
                    "nickname": name.split()[0],
                    "active": 1 if i % 7 else 0,
                }
            )
        _insert(self.cur, self.t("users"), staff)
        self.staff_ids = list(range(1, n_staff + 1))
        self.summary.staff = n_staff
        cats: list[dict[str, Any]] = [
            {
                "id": i,
                "name": hesk_escape(n),
                "cat_order": i * 10,
                "type": "1" if i == 5 else "0",
                "priority": 3,
            }
            for i, n in enumerate(["Billing", "Technical & API", "Sales", "Internal"], 2)
        ]
        _insert(self.cur, self.t("categories"), cats)
        self.category_ids = [1] + [c["id"] for c in cats]
        self.summary.categories = len(self.category_ids)
        defs = [
            (1, "1", "text", "Order number", {"max_length": 255, "default_value": ""}),
            (
                2,
                "1",
                "select",
                "Product",
                {
                    "show_select": 1,
                    "is_searchable": 0,
                    "select_options": ["Basic", "Pro & Plus", "Team"],
                },
            ),
            (3, "1", "radio", "Plan", {"radio_options": ["Monthly", "Yearly"], "no_default": 0}),
            (4, "1", "checkbox", "Platforms", {"checkbox_options": ["Windows", "macOS", "Linux"]}),
            (5, "1", "date", "Purchase date", {"dmin": "", "dmax": "", "date_format": "F j, Y"}),
            (6, "1", "textarea", "Steps to reproduce", {"rows": 12, "cols": 60}),
            (7, "1", "email", "Billing email", {"multiple": 0}),
            (8, "2", "hidden", "Internal ref", {"max_length": 255, "default_value": ""}),
        ]
        for fid, use, ftype, name, value in defs:
            self.cur.execute(
                f"UPDATE {self.t('custom_fields')} SET `use`=%s, `type`=%s, `name`=%s, "
                f"`value`=%s, `order`=%s, `category`=%s WHERE id=%s",
                (
                    use,
                    ftype,
                    json.dumps({"English": name}),
                    json.dumps(value),
                    fid * 10,
                    None if fid != 6 else json.dumps([2, 3]),
                    fid,
                ),
            )
        self.summary.custom_fields = len(defs)
        self.cur.execute(
            f"INSERT INTO {self.t('custom_statuses')} (id, name, color, can_customers_change, "
            f"`order`) VALUES (6, %s, 'aa00aa', '0', 60)",
            (json.dumps({"English": "Waiting on vendor"}),),
        )
        self.staff_names = {1: "Ada Admin", **{s["id"]: html.unescape(s["name"]) for s in staff}}
        self.staff_users = {1: "Administrator", **{s["id"]: s["user"] for s in staff}}
        del rng

    # ---------------------------------------------------------------- customers

    def customers(self) -> None:
        n_cust = max(3, int(self.n * 0.6))
        rows: list[dict[str, Any]] = []
        for i in range(1, n_cust + 1):
            name = self.text.name()
            rows.append(
                {
                    "id": i,
                    "name": hesk_escape(name),
                    "email": self.text.email_for(name, i),
                    "verified": i % 3 == 0 and 1 or 0,
                    "language": None,
                }
            )
        self.cust_rows = rows
        self.cust_next = n_cust + 1

    def add_customer(self, name: str, email: str | None) -> int:
        cid = self.cust_next
        self.cust_next += 1
        self.cust_rows.append(
            {"id": cid, "name": hesk_escape(name), "email": email, "verified": 0, "language": None}
        )
        return cid

    # ---------------------------------------------------------------- tickets

    def plan_dirty(self) -> dict[int, list[str]]:
        kinds = [
            "emailless_requester",
            "email_case_duplicate",
            "invalid_email",
            "unsafe_html",
            "large_message",
            "missing_attachment_file",
            "traversal_saved_name",
            "deleted_staff",
            "merged_ticket",
            "anonymised_ticket",
            "deleted_category",
            "legacy_encoding",
            "zero_date",
        ]
        wanted = [k for k in kinds for _ in range(getattr(self.dirty, k))]
        ids = self.rng.sample(range(1, self.n + 1), min(len(wanted), self.n))
        plan: dict[int, list[str]] = {}
        for tid, kind in zip(ids, wanted, strict=False):
            plan.setdefault(tid, []).append(kind)
        return plan

    def run(self) -> None:
        self.catalogs()
        self.customers()
        plan = self.plan_dirty()
        rng, text = self.rng, self.text
        n_cust = len(self.cust_rows)
        tickets, replies, notes, links, atts = [], [], [], [], []
        reply_id = note_id = 0
        span = timedelta(days=700).total_seconds()
        dup_pair: list[int] = []
        for tid in range(1, self.n + 1):
            kinds = plan.get(tid, [])
            created = _EPOCH + timedelta(seconds=span * (tid - 1) / self.n + rng.randint(0, 3000))
            track = trackid(rng, self.used_tracks)
            cust_id = (
                min(n_cust, int(rng.paretovariate(1.2)))
                if rng.random() < 0.3
                else rng.randint(1, n_cust)
            )
            if "emailless_requester" in kinds:
                cust_id = self.add_customer(text.name(), None if tid % 2 else "")
                self.mark("emailless_requester", tid)
            if "invalid_email" in kinds:
                cust_id = self.add_customer(text.name(), f"broken.{tid}@@nowhere")
                self.mark("invalid_email", tid)
            if "email_case_duplicate" in kinds:
                if not dup_pair:
                    base = self.cust_rows[0]
                    dup_pair.append(self.add_customer("Dup Person", base["email"].upper()))
                    self.mark("email_case_duplicate", base["email"].casefold())
                cust_id = dup_pair[0]
            cust = self.cust_rows[cust_id - 1]
            name = html.unescape(cust["name"])
            subject = text.subject()
            body = text.paragraph(rng.randint(1, 4))
            message = hesk_plain_message(body)
            message_html = message
            status = rng.choice([0, 1, 2, 3, 3, 3, 4, 5, 6])
            owner = rng.choice(self.staff_ids) if rng.random() < 0.8 else 0
            category = rng.choice(self.category_ids)
            history = self.hist(created, f"submitted by {hesk_escape(name)}")
            if owner:
                history += self.hist(
                    created,
                    "automatically assigned to "
                    f"{hesk_escape(self.staff_names[owner])} "
                    f"({self.staff_users[owner]})",
                )
            customs = dict.fromkeys(_CUSTOM_COLS, "")
            if rng.random() < 0.7:
                customs["custom1"] = f"ORD-{rng.randint(1000, 99999)}"
                customs["custom2"] = rng.choice(["Basic", "Pro &amp; Plus", "Team"])
                customs["custom3"] = rng.choice(["Monthly", "Yearly"])
                customs["custom4"] = "<br />".join(
                    rng.sample(["Windows", "macOS", "Linux"], rng.randint(1, 3))
                )
                day = (created - timedelta(days=rng.randint(1, 300))).replace(
                    hour=0, minute=0, second=0
                )
                customs["custom5"] = str(int(day.timestamp()))
                customs["custom6"] = hesk_plain_message(text.paragraph(2))
                customs["custom7"] = cust["email"] or ""
                customs["custom8"] = f"REF{tid}"
            if "unsafe_html" in kinds:
                message_html = (
                    '<p>Hello</p><script>alert("x")</script><img src="x" onerror="alert(1)">'
                )
                self.mark("unsafe_html", tid)
            if "large_message" in kinds:
                chunk = hesk_plain_message(text.paragraph(5) + "\n")
                message = chunk * (self.dirty.large_message_bytes // len(chunk) + 1)
                message_html = message
                self.mark("large_message", tid)
            if "legacy_encoding" in kinds:
                subject = "Caf\u00c3\u00a9 cr\u00c3\u00a8me order"
                message = message_html = hesk_plain_message("Na\u00c3\u00afve caf\u00c3\u00a9")
                self.mark("legacy_encoding", tid)
            if "deleted_category" in kinds:
                category = 77
                self.mark("deleted_category", tid)
            if "deleted_staff" in kinds:
                owner, status = 99, 3
                self.mark("deleted_staff", tid)
            n_rep = max(0, int(rng.gauss(self.rpt, 1.5)))
            at = created
            last_replier, staff_replies, first_reply, first_reply_by = "0", 0, None, None
            ticket_atts = ""
            if (
                rng.random() < 0.1
                or "missing_attachment_file" in kinds
                or "traversal_saved_name" in kinds
            ):
                self.att_id += 1
                real = f"screenshot{tid}.png"
                saved = f"{track}_{hashlib.md5(real.encode()).hexdigest()}.png"
                size = rng.randint(200, 4000)
                if "traversal_saved_name" in kinds:
                    saved = "../../../etc/passwd"
                    self.mark("traversal_saved_name", self.att_id)
                elif "missing_attachment_file" in kinds:
                    self.mark("missing_attachment_file", self.att_id)
                else:
                    self.write_file(saved, size)
                atts.append(
                    {
                        "att_id": self.att_id,
                        "ticket_id": track,
                        "saved_name": saved,
                        "real_name": real,
                        "size": size,
                        "type": "0",
                    }
                )
                ticket_atts = f"{self.att_id}#{real},"
            follower_id = None
            if rng.random() < 0.1:
                follower_id = rng.randint(1, n_cust)
                if follower_id == cust_id:
                    follower_id = None
            for k in range(n_rep):
                at = at + timedelta(minutes=rng.randint(5, 3000))
                is_staff = k % 2 == 0
                reply_id += 1
                staffid = rng.choice(self.staff_ids) if is_staff else 0
                if "deleted_staff" in kinds and k == 0:
                    staffid = 99
                cid = None if is_staff else (follower_id if follower_id and k == 3 else cust_id)
                r_att = ""
                if rng.random() < 0.04:
                    self.att_id += 1
                    real = f"log{reply_id}.txt"
                    saved = f"{track}_{hashlib.md5(real.encode()).hexdigest()}.txt"
                    size = rng.randint(100, 3000)
                    self.write_file(saved, size)
                    atts.append(
                        {
                            "att_id": self.att_id,
                            "ticket_id": track,
                            "saved_name": saved,
                            "real_name": real,
                            "size": size,
                            "type": "0",
                        }
                    )
                    r_att = f"{self.att_id}#{real},"
                msg = hesk_plain_message(text.paragraph(rng.randint(1, 3)))
                rhtml = msg
                if "unsafe_html" in kinds and k == 1:
                    rhtml = '<p onclick="x()">Hi</p><script>steal()</script>'
                replies.append(
                    {
                        "id": reply_id,
                        "replyto": tid,
                        "message": msg,
                        "message_html": rhtml,
                        "dt": _ts(at),
                        "attachments": r_att,
                        "staffid": staffid,
                        "customer_id": cid,
                        "rating": "5" if is_staff and rng.random() < 0.1 else None,
                        "read": "1" if is_staff else "0",
                    }
                )
                if is_staff:
                    staff_replies += 1
                    last_replier = "1"
                    if first_reply is None:
                        first_reply, first_reply_by = at, staffid
                else:
                    last_replier = "0"
            if rng.random() < 0.2:
                note_id += 1
                n_att = ""
                if rng.random() < 0.2:
                    self.att_id += 1
                    real = f"internal{note_id}.pdf"
                    saved = f"{track}_{hashlib.md5(real.encode()).hexdigest()}.pdf"
                    self.write_file(saved, 500)
                    atts.append(
                        {
                            "att_id": self.att_id,
                            "ticket_id": track,
                            "saved_name": saved,
                            "real_name": real,
                            "size": 500,
                            "type": "1",
                        }
                    )
                    n_att = f"{self.att_id}#{real},"
                notes.append(
                    {
                        "id": note_id,
                        "ticket": tid,
                        "who": 99 if "deleted_staff" in kinds else rng.choice(self.staff_ids),
                        "dt": _ts(created + timedelta(minutes=30)),
                        "message": hesk_plain_message("Internal: " + text.paragraph(1)),
                        "attachments": n_att,
                    }
                )
            merged = ""
            if "merged_ticket" in kinds:
                old_track = trackid(rng, self.used_tracks)
                merged = f"#{old_track}#"
                reply_id += 1
                replies.append(
                    {
                        "id": reply_id,
                        "replyto": tid,
                        "message": hesk_plain_message("Message of the merged ticket"),
                        "message_html": None,
                        "dt": _ts(created + timedelta(seconds=1)),
                        "attachments": "",
                        "staffid": 0,
                        "customer_id": cust_id,
                        "rating": None,
                        "read": "0",
                    }
                )
                history += self.hist(
                    at, f"merged with ticket {old_track} by Ada Admin (Administrator)"
                )
                self.mark("merged_ticket", tid)
            closedat = closedby = None
            if status == 3:
                closedat = at + timedelta(minutes=10)
                closedby = owner or 1
                history += self.hist(closedat, "closed by Ada Admin (Administrator)")
            lastchange = closedat or at
            row = {
                "id": tid,
                "trackid": track,
                "u_name": hesk_escape(name),
                "u_email": cust["email"] or "",
                "category": category,
                "priority": rng.choice([0, 1, 2, 3, 3, 3]),
                "subject": hesk_escape(subject) if "legacy_encoding" not in kinds else subject,
                "message": message,
                "message_html": message_html,
                "dt": _ts(created),
                "lastchange": _ts(lastchange),
                "firstreply": _ts(first_reply),
                "closedat": _ts(closedat),
                "articles": None,
                "ip": f"10.0.{tid % 250}.{rng.randint(1, 250)}",
                "language": None,
                "status": status,
                "openedby": 0,
                "firstreplyby": first_reply_by,
                "closedby": closedby,
                "replies": n_rep,
                "staffreplies": staff_replies,
                "owner": owner,
                "assignedby": -1 if owner else None,
                "time_worked": f"{rng.randint(0, 3):02d}:{rng.randint(0, 59):02d}:00",
                "lastreplier": last_replier,
                "replierid": first_reply_by,
                "archive": "1" if rng.random() < 0.05 else "0",
                "locked": "0",
                "attachments": ticket_atts,
                "merged": merged,
                "history": history,
                **customs,
                "due_date": None,
            }
            if "zero_date" in kinds:
                row["dt"] = "0000-00-00 00:00:00"
                self.mark("zero_date", tid)
            if "anonymised_ticket" in kinds:
                self.anonymise(row, replies, notes, atts, tid)
            else:
                links.append(
                    {"ticket_id": tid, "customer_id": cust_id, "customer_type": "REQUESTER"}
                )
                if follower_id:
                    links.append(
                        {"ticket_id": tid, "customer_id": follower_id, "customer_type": "FOLLOWER"}
                    )
            tickets.append(row)
            if len(tickets) >= 500:
                self.flush(tickets, replies, notes, links, atts)
        for _ in range(self.dirty.orphan_reply):
            reply_id += 1
            replies.append(
                {
                    "id": reply_id,
                    "replyto": self.n + 1000 + reply_id,
                    "message": "Orphan reply",
                    "message_html": "Orphan reply",
                    "dt": _ts(_EPOCH),
                    "attachments": "",
                    "staffid": 0,
                    "customer_id": 1,
                    "rating": None,
                    "read": "0",
                }
            )
            self.mark("orphan_reply", reply_id)
        self.flush(tickets, replies, notes, links, atts)
        _insert(self.cur, self.t("customers"), self.cust_rows)
        self.summary.customers = len(self.cust_rows)
        self.kb_and_templates()

    def anonymise(
        self,
        row: dict[str, Any],
        replies: list[dict[str, Any]],
        notes: list[dict[str, Any]],
        atts: list[dict[str, Any]],
        tid: int,
    ) -> None:
        row.update(
            {
                "u_name": "[Customer]",
                "u_email": "",
                "subject": "[Subject]",
                "message": "[Message]",
                "message_html": "[Message]",
                "ip": "0.0.0.0",
                "attachments": "",
            }
        )
        for col in _CUSTOM_COLS[:50]:
            row[col] = ""
        row["history"] += self.hist(
            _EPOCH + timedelta(days=800), "anonymized by Ada Admin (Administrator)"
        )
        for r in replies:
            if r["replyto"] == tid:
                r.update(
                    {
                        "message": "[Message]",
                        "message_html": "[Message]",
                        "attachments": "",
                        "customer_id": None,
                    }
                )
        notes[:] = [n for n in notes if n["ticket"] != tid]
        atts[:] = [a for a in atts if a["ticket_id"] != row["trackid"]]
        self.mark("anonymised_ticket", tid)

    def flush(
        self,
        tickets: list[dict[str, Any]],
        replies: list[dict[str, Any]],
        notes: list[dict[str, Any]],
        links: list[dict[str, Any]],
        atts: list[dict[str, Any]],
    ) -> None:
        _insert(self.cur, self.t("tickets"), tickets, chunk=100)
        _insert(self.cur, self.t("replies"), replies)
        _insert(self.cur, self.t("notes"), notes)
        _insert(self.cur, self.t("ticket_to_customer"), links)
        _insert(self.cur, self.t("attachments"), atts)
        s = self.summary
        s.tickets += len(tickets)
        s.replies += len(replies)
        s.notes += len(notes)
        s.attachments += len(atts)
        for batch in (tickets, replies, notes, links, atts):
            batch.clear()

    # ---------------------------------------------------------------- KB etc.

    def kb_and_templates(self) -> None:
        rng, text = self.rng, self.text
        cats = [
            {"id": 2, "name": "Getting started", "parent": 1, "cat_order": 20, "type": "0"},
            {"id": 3, "name": "Billing &amp; invoices", "parent": 1, "cat_order": 30, "type": "0"},
            {"id": 4, "name": "Internal runbooks", "parent": 2, "cat_order": 40, "type": "1"},
        ]
        _insert(self.cur, self.t("kb_categories"), cats)
        self.summary.kb_categories = len(cats) + 1
        kb_atts = []
        for i in (1, 2):
            saved = hashlib.md5(f"kb{i}".encode()).hexdigest() + ".pdf"
            self.write_file(saved, 1000 + i)
            kb_atts.append(
                {"att_id": i, "saved_name": saved, "real_name": f"guide{i}.pdf", "size": 1000 + i}
            )
        _insert(self.cur, self.t("kb_attachments"), kb_atts)
        self.summary.kb_attachments = len(kb_atts)
        arts = []
        n_art = max(6, min(60, self.n // 100))
        for i in range(1, n_art + 1):
            at = _EPOCH + timedelta(days=i)
            author = 98 if i == 3 and self.dirty.deleted_staff else rng.choice(self.staff_ids)
            arts.append(
                {
                    "id": i,
                    "catid": rng.choice([1, 2, 3, 4]),
                    "dt": _ts(at),
                    "author": author,
                    "subject": hesk_escape(text.subject()),
                    "content": f"<p>{hesk_escape(text.paragraph(3))}</p>",
                    "keywords": ", ".join(rng.sample(text.words, 3)),
                    "rating": 4.5,
                    "votes": 2,
                    "views": rng.randint(0, 500),
                    "type": str(i % 3),
                    "html": "1",
                    "sticky": "1" if i == 1 else "0",
                    "art_order": i * 10,
                    "history": self.hist(at, "submitted by Ada Admin (Administrator)"),
                    "attachments": "1#guide1.pdf,2#guide2.pdf," if i == 1 else "",
                }
            )
        _insert(self.cur, self.t("kb_articles"), arts)
        self.summary.kb_articles = len(arts)
        canned = [
            {
                "id": i,
                "title": f"Canned {i}: {text.subject()}"[:100],
                "message": hesk_escape(text.paragraph(2) + "\r\nHi %%HESK_NAME%%"),
                "message_html": hesk_plain_message(text.paragraph(2)),
                "reply_order": i * 10,
            }
            for i in range(1, 6)
        ]
        _insert(self.cur, self.t("std_replies"), canned)
        self.summary.canned_responses = len(canned)
        tpls = [
            {
                "id": i,
                "title": f"Template {i}",
                "message": hesk_escape(text.paragraph(1)),
                "message_html": None,
                "tpl_order": i * 10,
            }
            for i in (1, 2)
        ]
        _insert(self.cur, self.t("ticket_templates"), tpls)
        self.summary.ticket_templates = len(tpls)

    # ---------------------------------------------------------------- Hesk < 3.5

    def convert_to_pre35(self) -> None:
        """Turn the database into the pre-3.5 layout (what update.php started from)."""
        c, t = self.cur, self.t
        c.execute(
            f"ALTER TABLE {t('tickets')} CHANGE `u_name` `name` varchar(255) NOT NULL "
            f"DEFAULT '', CHANGE `u_email` `email` varchar(1000) NOT NULL DEFAULT ''"
        )
        c.execute(f"ALTER TABLE {t('replies')} ADD `name` varchar(255) NOT NULL DEFAULT ''")
        c.execute(
            f"UPDATE {t('replies')} r JOIN {t('customers')} c ON c.id = r.customer_id "
            f"SET r.name = c.name"
        )
        c.execute(f"ALTER TABLE {t('replies')} DROP COLUMN `customer_id`")
        for name in (
            "customers",
            "ticket_to_customer",
            "pending_customer_email_changes",
            "bookmarks",
            "pipe_rejections",
            "ticket_to_collaborator",
            "linked_tickets",
            "custom_priorities",
            "muted_emails",
            "email_id_to_ticket",
        ):
            c.execute(f"DROP TABLE IF EXISTS {t(name)}")
        c.execute(f"ALTER TABLE {t('users')} DROP COLUMN `active`, DROP COLUMN `nickname`")

"""``verify``: read a random sample back from Intercom and compare it with the Hesk source.

The sample is drawn from the ``Dispositions`` projection (records in state ``migrated``
with an Intercom id), by reservoir sampling while the rows stream, so memory holds only
the sample. For each sampled ticket the newest captured version of the ticket, its
replies, notes and attachments come from the ledger; the conversation is read with
``GET /conversations/{id}`` and compared by :mod:`reports.verify_compare`. Articles are
read with ``GET /articles/{id}``. A record read back as 404 is a difference ("exists").

The result is recorded in the ledger (``VerifyCompleted``: sample size, fields compared and
matched, each difference) for the HTML report, with the workspace ``GET /me`` names
(``WorkspaceIdentified``, for its inbox links).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import Engine

from commands.workspace import client_for
from core.settings import Settings
from hesk.records import KbArticle, Note, Record, Reply, Ticket, record_from_payload
from intercom_api.client import IntercomClient
from intercom_api.errors import NotFound
from ledger.database import open_engine
from ledger.dispositions import DispositionRow, Dispositions
from ledger.events import SourceCaptured, VerifyCompleted, WorkspaceIdentified, confirmed_map_event
from ledger.generations import active_ledger_id
from ledger.keys import source_key
from ledger.projections import ProjectionTable
from ledger.store import Ledger
from reports.verify_compare import (
    Comparison,
    Difference,
    LimitNote,
    TicketSource,
    compare_article,
    compare_conversation,
)
from reports.verify_tickets import compare_ticket

#: The objects verify samples, and what Intercom calls them.
VERIFIED = ("ticket", "kb_article")
_ARTICLE_TIMES = (
    "Article dates are not compared: Intercom stamps articles with the migration time "
    "(the API cannot set them)."
)
_CLOSE_TIMES = (
    "Close, reopen and assignment parts are not compared: the API stamps them with the "
    "migration time."
)


@dataclass
class VerifyResult:
    """What a verify run checked and every difference it found."""

    migration: str
    checked: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VERIFIED, 0))
    ok: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VERIFIED, 0))
    differences: list[Difference] = field(default_factory=list)
    limits: list[LimitNote] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fields: dict[str, list[int]] = field(default_factory=dict)
    sample: int = 0

    @property
    def total_checked(self) -> int:
        """Records read back."""
        return sum(self.checked.values())

    @property
    def total_ok(self) -> int:
        """Records read back without any difference."""
        return sum(self.ok.values())

    def add(self, obj: str, comparison: Comparison) -> None:
        """Count one compared record and keep what its comparison found."""
        self.checked[obj] = self.checked.get(obj, 0) + 1
        if not comparison.differences:
            self.ok[obj] = self.ok.get(obj, 0) + 1
        self.differences += comparison.differences
        self.limits += comparison.limits
        for name, (compared, differing) in comparison.fields.items():
            counts = self.fields.setdefault(name, [0, 0])
            counts[0] += compared
            counts[1] += differing

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data."""
        return {
            "migration": self.migration,
            "checked": self.checked,
            "ok": self.ok,
            "differences": [asdict(d) for d in self.differences],
            "limits": [asdict(n) for n in self.limits],
            "notes": self.notes,
            "fields": self.fields,
            "sample": self.sample,
        }

    def event(self, as_of_seq: int) -> VerifyCompleted:
        """The ledger event recording this result."""
        return VerifyCompleted(
            object="verify",
            source_id=self.migration,
            sample=self.sample,
            as_of_seq=as_of_seq,
            checked=self.checked,
            ok=self.ok,
            fields=dict(sorted(self.fields.items())),
            differences=[asdict(d) for d in self.differences],
            limits=[asdict(n) for n in self.limits],
            notes=self.notes,
        )


# --------------------------------------------------------------------------- sampling


def sample_migrated(
    rows: Iterable[DispositionRow], size: int, rng: random.Random
) -> dict[str, list[DispositionRow]]:
    """Up to ``size`` migrated rows of each verified object, uniformly (reservoir sampling)."""
    picked: dict[str, list[DispositionRow]] = {o: [] for o in VERIFIED}
    seen = dict.fromkeys(VERIFIED, 0)
    for row in rows:
        obj = row.get("object")
        if obj not in picked or row.get("state") != "migrated" or not row.get("intercom_id"):
            continue
        seen[obj] += 1
        if len(picked[obj]) < size:
            picked[obj].append(row)
        else:
            j = rng.randrange(seen[obj])
            if j < size:
                picked[obj][j] = row
    for rows_of in picked.values():
        rows_of.sort(key=lambda r: r["source_id"])
    return picked


# --------------------------------------------------------------------------- loading


class _Source:
    """Reads records and their dispositions for the comparison."""

    def __init__(self, ledger: Ledger, table: ProjectionTable) -> None:
        self.ledger, self.table = ledger, table

    def row(self, key: str) -> DispositionRow | None:
        """The dispositions row of ``object:source_id`` (after the catch-up)."""
        return self.table.get(key)

    def record(self, row: DispositionRow) -> Record | None:
        """The captured version of the record the row's state refers to."""
        rec = self.ledger.get(source_key(row["object"], row["source_id"], row.get("hash", "")))
        if rec is None or not isinstance(rec.event, SourceCaptured):
            return None
        return record_from_payload(row["object"], rec.event.record)

    def migrated_id(self, obj: str, source_id: object) -> str | None:
        """The Intercom id of a migrated record (None if it is not migrated)."""
        if source_id is None:
            return None
        row = self.row(f"{obj}:{source_id}")
        if not row or row.get("state") != "migrated":
            return None
        return str(row.get("intercom_id") or "") or None

    def is_migrated(self, obj: str, source_id: object) -> bool:
        """True when the record's newest version is migrated."""
        row = self.row(f"{obj}:{source_id}")
        return bool(row and row.get("state") == "migrated")

    def ticket(self, ticket: Ticket) -> TicketSource:
        """The ticket with its migrated children and the Intercom ids of their authors."""
        replies: list[Reply] = []
        notes: list[Note] = []
        attachments: set[str] = set()
        for rec in self.ledger.ticket_children(ticket.source_id):
            ev = rec.event
            if not isinstance(ev, SourceCaptured) or not self.is_migrated(ev.object, ev.source_id):
                continue
            if ev.object == "reply":
                replies.append(Reply.from_payload(ev.record))
            elif ev.object == "note":
                notes.append(Note.from_payload(ev.record))
            elif ev.object == "attachment":
                attachments.add(ev.source_id)
        history = self.row(f"history:{ticket.source_id}")
        has_history = (
            (history or {}).get("state") == "migrated" if history else bool(ticket.history)
        )
        contacts = {ticket.requester_contact_id, *(r.author_contact_id for r in replies)}
        staff = {r.staff_id for r in replies} | {n.staff_id for n in notes}
        return TicketSource(
            ticket=ticket,
            replies=tuple(replies),
            notes=tuple(notes),
            migrated_attachments=frozenset(attachments),
            has_history=has_history,
            contact_ids={c: i for c in contacts if c and (i := self.migrated_id("contact", c))},
            admin_ids={
                str(s): i for s in staff if s is not None and (i := self.migrated_id("staff", s))
            },
        )


# --------------------------------------------------------------------------- verify


def _missing(obj: str, source_id: str, intercom_id: str, what: str) -> Comparison:
    diff = Difference(obj, source_id, intercom_id, "exists", what, "not found (404)")
    return Comparison(differences=[diff])


def _verify_ticket(
    source: _Source,
    client: IntercomClient,
    row: DispositionRow,
    the_map: dict[str, Any] | None = None,
) -> Comparison:
    intercom_id = str(row["intercom_id"])
    ticket = source.record(row)
    if not isinstance(ticket, Ticket):
        diff = Difference("ticket", row["source_id"], intercom_id, "source", "captured", "none")
        return Comparison(differences=[diff])
    if (the_map or {}).get("target") == "tickets":
        try:
            read = client.get_ticket(intercom_id)
        except NotFound:
            return _missing("ticket", ticket.source_id, intercom_id, "a ticket")
        return compare_ticket(source.ticket(ticket), read, intercom_id, the_map or {})
    try:
        conversation = client.get_conversation(intercom_id)
    except NotFound:
        return _missing("ticket", ticket.source_id, intercom_id, "a conversation")
    return compare_conversation(source.ticket(ticket), conversation, intercom_id)


def _verify_article(source: _Source, client: IntercomClient, row: DispositionRow) -> Comparison:
    intercom_id = str(row["intercom_id"])
    article = source.record(row)
    if not isinstance(article, KbArticle):
        diff = Difference("kb_article", row["source_id"], intercom_id, "source", "captured", "")
        return Comparison(differences=[diff])
    try:
        actual = client.get(f"/articles/{quote(intercom_id, safe='')}")
    except NotFound:
        return _missing("kb_article", article.source_id, intercom_id, "an article")
    return compare_article(
        article,
        actual,
        intercom_id,
        author_id=source.migrated_id("staff", article.author_id),
        collection_id=source.migrated_id("kb_category", article.category_id),
    )


def verify_sample(
    engine: Engine,
    migration_id: str,
    client: IntercomClient,
    *,
    sample: int = 25,
    seed: int | None = None,
) -> VerifyResult:
    """Read back up to ``sample`` migrated tickets and ``sample`` articles, compare them, and
    record the result (and the workspace, from ``GET /me``) in the ledger."""
    table = ProjectionTable(engine, migration_id, Dispositions())
    table.catch_up()
    ledger = Ledger(engine, migration_id)
    as_of = ledger.last_seq()
    picked = sample_migrated((v for _k, v in table.items()), sample, random.Random(seed))
    source = _Source(ledger, table)
    confirmed = confirmed_map_event(ledger)
    the_map = confirmed.map if confirmed is not None else None
    result = VerifyResult(migration_id, sample=sample)
    for row in picked["ticket"]:
        result.add("ticket", _verify_ticket(source, client, row, the_map))
    for row in picked["kb_article"]:
        result.add("kb_article", _verify_article(source, client, row))
    if result.checked["ticket"]:
        result.notes.append(_CLOSE_TIMES)
    if result.checked["kb_article"]:
        result.notes.append(_ARTICLE_TIMES)
    if result.total_checked:
        workspace = WorkspaceIdentified.from_me(client.me())
        ledger.append([*([workspace] if workspace else []), result.event(as_of)])
    return result


# --------------------------------------------------------------------------- rendering


def render_verify(result: VerifyResult, console: Console) -> None:
    """Print the verify result with Rich: counts, differences, limits, what to do next."""
    console.print(f"Verify of migration [bold]{escape(result.migration)}[/]")
    summary = Table("object", "checked", "ok", "with differences")
    for obj, n in result.checked.items():
        ok = result.ok.get(obj, 0)
        summary.add_row(obj, str(n), str(ok), str(n - ok))
    console.print(summary)
    if not result.total_checked:
        console.print("Nothing migrated to check yet: run `hesk2intercom migrate --sample 25`.")
        return
    if result.differences:
        table = Table(
            "object",
            "source id",
            "intercom id",
            "field",
            "expected",
            "actual",
            title="Differences",
            show_lines=False,
        )
        for d in result.differences:  # Text(): Hesk data is never read as Rich markup
            table.add_row(
                *(
                    Text(v)
                    for v in (d.object, d.source_id, d.intercom_id, d.field, d.expected, d.actual)
                )
            )
        console.print(table)
    else:
        console.print(f"[green]No difference in {result.total_checked} records read back.[/]")
    for note in result.limits:
        console.print(
            Text.assemble(("limit ", "yellow"), f"{note.object} {note.source_id}: {note.text}")
        )
    for line in result.notes:
        console.print(f"[dim]{line}[/]")
    if result.differences:
        console.print(
            "Next: look at each difference in Intercom; fix the cause (map, data), then "
            "re-run `hesk2intercom migrate` and `hesk2intercom verify`."
        )


def run_verify(settings: Settings, sample: int = 25) -> VerifyResult:
    """The ``verify`` command: read back a random sample of the active generation."""
    engine = open_engine(settings.ledger_url)
    try:
        with client_for(settings) as client:
            return verify_sample(
                engine, active_ledger_id(engine, settings.migration), client, sample=sample
            )
    finally:
        engine.dispose()

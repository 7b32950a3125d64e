"""Contract: the database reader and the export-file reader agree on every field the file
holds, for both export option sets (with and without history + replies) and in every
language; and the export reader is hardened against files that are not Hesk exports."""

from __future__ import annotations

import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pymysql
import pytest
from sqlalchemy.engine import make_url

from hesk.errors import ExportFileError
from hesk.export_reader import ExportReader
from hesk.export_writer import ExportOptions, write_export
from hesk.reader_base import SourceReader
from hesk.text import html_to_plain, repair_mojibake

MADE_AT = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
FULL = ExportOptions(made_at=MADE_AT)
BARE = ExportOptions(history=False, replies=False, made_at=MADE_AT)


@pytest.fixture(scope="module")
def exports(demo, tmp_path_factory) -> dict[str, Path]:
    """The demo help desk exported as Hesk does: both option sets, several languages."""
    folder = tmp_path_factory.mktemp("export")
    out = {}
    for name, opts in (("full", FULL), ("bare", BARE),
                       ("de", ExportOptions(language="de", made_at=MADE_AT)),
                       ("fr", ExportOptions(language="fr", made_at=MADE_AT, new_top=True)),
                       ("es", ExportOptions(language="es", made_at=MADE_AT,
                                            email_view_ticket=True))):
        sub = folder / name
        sub.mkdir()
        out[name] = write_export(demo.url, sub, opts)
    return out


def _raw_messages(url: str, table: str) -> dict[int, str]:
    """The plain ``message`` column (what Hesk exports; the reader prefers message_html)."""
    u = make_url(url)
    conn = pymysql.connect(host=u.host, port=u.port or 3306, user=u.username or "root",
                           database=u.database)
    with conn.cursor() as cur:
        cur.execute(f"SELECT id, message FROM hesk_{table}")
        rows = {int(i): repair_mojibake(html_to_plain(m or ""))[0] for i, m in cur.fetchall()}
    conn.close()
    return rows


def _projection(reader: Any, *, replies: bool, history: bool,
                messages: dict[str, dict[int, str]] | None = None) -> dict[str, tuple]:
    """Every field an export holds, per ticket (broken rows left out)."""
    by_ticket: dict[int, list] = {}
    if replies:
        for r in reader.iter_records("reply"):
            text = messages["replies"][r.id] if messages else r.message_text
            by_ticket.setdefault(r.ticket_id, []).append(
                (r.author_name, r.author_type, r.author_contact_id, r.staff_missing,
                 r.created_at, text))
    staff = {s.id: s.name for s in reader.iter_records("staff")}
    out = {}
    for t in reader.iter_records("ticket"):
        if t.broken:
            continue
        text = messages["tickets"][t.id] if messages else t.message_text
        out[t.source_id] = (
            t.trackid, t.subject, text, t.requester_contact_id, t.requester_name,
            t.status_name, t.priority_name, t.category_name, staff.get(t.owner_id or -1),
            t.created_at, t.updated_at, t.closed_at, t.due_at,
            t.first_reply_at if t.staff_reply_count else None, t.time_worked,
            t.follower_contact_ids, t.anonymised, t.reply_count, t.staff_reply_count,
            tuple(sorted((c.name, str(c.date.date()) if c.date else c.text)
                         for c in t.custom_fields)),
            tuple((h.at, h.text) for h in t.history) if history else (),
            tuple(sorted(by_ticket.get(t.id, []), key=lambda r: (r[4], r[5]))),
        )
    return out


@pytest.fixture(scope="module")
def database_view(demo) -> dict[str, tuple]:
    messages = {"tickets": _raw_messages(demo.url, "tickets"),
                "replies": _raw_messages(demo.url, "replies")}
    with demo.reader() as db:
        return _projection(db, replies=True, history=True, messages=messages)


@pytest.mark.parametrize("option_set", ["full", "bare"])
def test_export_matches_database(option_set, exports, database_view) -> None:
    full = option_set == "full"
    with ExportReader(exports[option_set]) as reader:
        seen = _projection(reader, replies=full, history=full)
        broken = [t for t in reader.iter_records("ticket") if t.broken]
    expected = {k: v if full else (*v[:-2], (), ()) for k, v in database_view.items()}
    assert set(seen) == set(expected) - {t.source_id for t in broken}
    for key in seen:
        assert seen[key] == expected[key], key
    assert len(broken) == 1 and "is not a date" in broken[0].broken  # Hesk's zero date
    assert broken[0].trackid in broken[0].broken


@pytest.mark.parametrize("language", ["de", "fr", "es"])
def test_every_language_reads_the_same(language, exports) -> None:
    with ExportReader(exports["full"]) as english, ExportReader(exports[language]) as other:
        assert other.layout.language == language
        assert other.layout.replies is not None and other.layout.history is not None
        assert _deleted_staff_as_one(_projection(other, replies=True, history=True)) == \
            _deleted_staff_as_one(_projection(english, replies=True, history=True))


def _deleted_staff_as_one(view: dict[str, tuple]) -> dict[str, tuple]:
    """The deleted-staff label is the language's own ("[Personal Gelöscht]"): one marker."""
    return {k: (*v[:-1], tuple(("(deleted)", *r[1:]) if r[3] else r for r in v[-1]))
            for k, v in view.items()}


def test_both_readers_are_the_same_source(demo, exports) -> None:
    with demo.reader() as db, ExportReader(exports["full"]) as export:
        for reader in (db, export):
            assert isinstance(reader, SourceReader)
        assert export.not_held() and not db.not_held()
        assert export.kind == "export" and not export.tracks_deletions


def test_same_assertions_on_both_readers(demo, exports) -> None:
    s = demo.summary
    for reader in (demo.reader(), ExportReader(exports["full"])):
        tickets = {t.source_id: t for t in reader.iter_records("ticket")}
        contacts = {c.source_id for c in reader.iter_records("contact")}
        assert len(tickets) == s.tickets
        for tid in s.dirty["emailless_requester"]:
            assert tickets[tid].requester_contact_id == f"noemail:{tid}"
        assert tickets[s.dirty["anonymised_ticket"][0]].requester_contact_id is None
        for t in tickets.values():
            assert t.requester_contact_id is None or t.requester_contact_id in contacts
            assert set(t.follower_contact_ids) <= contacts
            assert (t.fidelity == "export") == ("notes" in t.missing)
        merged = tickets[s.dirty["merged_ticket"][0]]
        texts = [r.message_text for r in reader.iter_records("reply")
                 if r.ticket_id == merged.id]
        assert any("Message of the merged ticket" in text for text in texts)
        kinds = {f.kind for f in reader.findings}
        assert {"missing_email", "invalid_email", "anonymised_ticket"} <= kinds
        reader.close()


def test_replies_come_in_time_order_whatever_order_hesk_wrote(exports) -> None:
    with ExportReader(exports["fr"]) as newest_first:  # new_top: replies written newest first
        by_ticket: dict[int, list] = {}
        for r in newest_first.iter_records("reply"):
            by_ticket.setdefault(r.ticket_id, []).append(r)
    for replies in by_ticket.values():
        assert [r.position for r in replies] == list(range(len(replies)))
        assert [r.created_at for r in replies] == sorted(r.created_at for r in replies)


def test_export_lacks_notes_and_attachments(exports) -> None:
    reader = ExportReader(exports["full"])
    assert list(reader.iter_records("note")) == []
    assert list(reader.iter_records("attachment")) == []
    reply = next(reader.iter_records("reply"))
    assert reply.fidelity == "export" and "attachments" in reply.missing
    assert Counter(r.author_type for r in reader.iter_records("reply")).keys() == {
        "staff", "customer"}


def test_xml_bomb_and_garbage_are_refused(tmp_path) -> None:
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Workbook>&lol2;</Workbook>')
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("bomb.xml", bomb)
    with pytest.raises(ExportFileError):
        ExportReader(path)
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ExportFileError):
        ExportReader(junk)

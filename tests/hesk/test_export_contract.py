"""Contract: the database reader and the export-file reader agree on every field the file
holds, for both export option sets (with and without history + replies) and in every
language; and the export reader is hardened against files that are not Hesk exports."""

from __future__ import annotations

import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hesk.errors import ExportFileError
from hesk.export_reader import ExportReader
from hesk.export_writer import ExportOptions, write_export
from hesk.reader_base import SourceReader
from tests.helpers.hesk_export import projection, raw_messages

MADE_AT = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
FULL = ExportOptions(made_at=MADE_AT)
BARE = ExportOptions(history=False, replies=False, made_at=MADE_AT)


@pytest.fixture(scope="module")
def exports(demo, tmp_path_factory) -> dict[str, Path]:
    """The demo help desk exported as Hesk does: both option sets, several languages."""
    folder = tmp_path_factory.mktemp("export")
    out = {}
    for name, opts in (
        ("full", FULL),
        ("bare", BARE),
        ("de", ExportOptions(language="de", made_at=MADE_AT)),
        ("fr", ExportOptions(language="fr", made_at=MADE_AT, new_top=True)),
        ("es", ExportOptions(language="es", made_at=MADE_AT, email_view_ticket=True)),
    ):
        sub = folder / name
        sub.mkdir()
        out[name] = write_export(demo.url, sub, opts)
    return out


@pytest.fixture(scope="module")
def database_view(demo) -> dict[str, tuple]:
    messages = {
        "tickets": raw_messages(demo.url, "tickets"),
        "replies": raw_messages(demo.url, "replies"),
    }
    with demo.reader() as db:
        return projection(db, replies=True, history=True, messages=messages)


@pytest.mark.parametrize("option_set", ["full", "bare"])
def test_export_matches_database(option_set, exports, database_view) -> None:
    full = option_set == "full"
    with ExportReader(exports[option_set]) as reader:
        seen = projection(reader, replies=full, history=full)
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
        assert _deleted_staff_as_one(
            projection(other, replies=True, history=True)
        ) == _deleted_staff_as_one(projection(english, replies=True, history=True))


def _deleted_staff_as_one(view: dict[str, tuple]) -> dict[str, tuple]:
    """The deleted-staff label is the language's own ("[Personal Gelöscht]"): one marker."""
    return {
        k: (*v[:-1], tuple(("(deleted)", *r[1:]) if r[3] else r for r in v[-1]))
        for k, v in view.items()
    }


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
        texts = [r.message_text for r in reader.iter_records("reply") if r.ticket_id == merged.id]
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
        "staff",
        "customer",
    }


def test_xml_bomb_and_garbage_are_refused(tmp_path) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Workbook>&lol2;</Workbook>'
    )
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("bomb.xml", bomb)
    with pytest.raises(ExportFileError):
        ExportReader(path)
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ExportFileError):
        ExportReader(junk)

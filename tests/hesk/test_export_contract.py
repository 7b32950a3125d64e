"""Contract: the DB reader and the export-file reader give the same records for the same
data (within what the export carries), and the export reader is hardened."""

from __future__ import annotations

import zipfile
from collections import Counter

import pytest

from hesk.errors import ExportFileError
from hesk.export_reader import ExportReader
from hesk.export_writer import write_export


@pytest.fixture(scope="module")
def export_file(demo, tmp_path_factory):
    reader = demo.reader()
    path = write_export(reader, tmp_path_factory.mktemp("export") /
                        "hesk_export_2025-01-01_00-00-00_123456.zip")
    reader.close()
    return path


@pytest.fixture(params=["database", "export"])
def source(request, demo, export_file):
    reader = demo.reader() if request.param == "database" else ExportReader(export_file)
    yield reader
    reader.close()


def _projection(reader) -> dict[str, tuple]:
    replies: dict[int, list] = {}
    for r in reader.iter_records("reply"):
        replies.setdefault(r.ticket_id, []).append((r.author_name, r.message_text, r.created_at))
    return {
        t.source_id: (t.trackid, t.subject, t.message_text, t.requester_contact_id,
                      t.status_name, t.priority_name, t.category_name, t.created_at,
                      t.closed_at, tuple(h.text for h in t.history), t.anonymised,
                      tuple(sorted(Counter(replies.get(t.id, [])).items(), key=repr)),
                      tuple(sorted((c.column, str(c.date or c.text)) for c in t.custom_fields)))
        for t in reader.iter_records("ticket")
    }


def test_same_assertions_on_both_readers(source, demo) -> None:
    s = demo.summary
    tickets = {t.source_id: t for t in source.iter_records("ticket")}
    contacts = {c.source_id for c in source.iter_records("contact")}
    assert len(tickets) == s.tickets
    for tid in s.dirty["emailless_requester"]:
        assert tickets[tid].requester_contact_id == f"noemail:{tid}"
    assert tickets[s.dirty["anonymised_ticket"][0]].requester_contact_id is None
    for t in tickets.values():
        assert t.requester_contact_id is None or t.requester_contact_id in contacts
        assert set(t.follower_contact_ids) <= contacts
        assert t.fidelity in ("full", "export")
        assert (t.fidelity == "export") == ("notes" in t.missing)
    merged = tickets[s.dirty["merged_ticket"][0]]
    texts = [r.message_text for r in source.iter_records("reply")
             if r.ticket_id == merged.id]
    assert "Message of the merged ticket" in texts
    kinds = {f.kind for f in source.findings}
    assert {"missing_email", "invalid_email", "anonymised_ticket"} <= kinds


def test_export_matches_database(demo, export_file) -> None:
    db = demo.reader()
    expected = _projection(db)
    db.close()
    assert _projection(ExportReader(export_file)) == expected


def test_export_lacks_notes_and_attachments(export_file) -> None:
    reader = ExportReader(export_file)
    assert list(reader.iter_records("note")) == []
    assert list(reader.iter_records("attachment")) == []
    reply = next(reader.iter_records("reply"))
    assert reply.fidelity == "export" and "author_type" in reply.missing


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

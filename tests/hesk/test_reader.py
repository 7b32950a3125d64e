"""HeskReader against real generated databases: dirty cases, streaming, old Hesk, errors."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pymysql
import pytest

from hesk.errors import HeskConnectionError, HeskSchemaError
from hesk.reader import HeskReader


def _by_id(records):
    return {r.source_id: r for r in records}


def _kinds(findings, kind):
    return {(f.object, f.source_id) for f in findings if f.kind == kind}


def test_counts_match_the_generator(demo, demo_records) -> None:
    s = demo.summary
    assert len(demo_records["ticket"]) == s.tickets
    assert len(demo_records["reply"]) == s.replies
    assert len(demo_records["note"]) == s.notes
    assert len(demo_records["staff"]) == s.staff
    assert len(demo_records["attachment"]) == s.attachments + s.kb_attachments
    assert len(demo_records["custom_field"]) == s.custom_fields


def test_every_dirty_case_yields_its_finding(demo, demo_records) -> None:
    d, f = demo.summary.dirty, demo_records["__findings__"]
    t = lambda kind: {("ticket", x) for x in d[kind]}  # noqa: E731
    assert t("emailless_requester") <= _kinds(f, "missing_email")
    assert t("invalid_email") <= _kinds(f, "invalid_email")
    assert ("contact", d["email_case_duplicate"][0]) in _kinds(f, "duplicate_email_case")
    assert t("unsafe_html") <= _kinds(f, "unsafe_html")
    assert t("large_message") <= _kinds(f, "large_message")
    assert {("attachment", x) for x in d["missing_attachment_file"]} <= _kinds(
        f, "missing_attachment_file"
    )
    assert {("attachment", x) for x in d["traversal_saved_name"]} <= _kinds(
        f, "unsafe_attachment_path"
    )
    assert {("reply", x) for x in d["orphan_reply"]} <= _kinds(f, "orphan_reply")
    assert t("deleted_staff") <= _kinds(f, "deleted_staff")
    assert t("anonymised_ticket") <= _kinds(f, "anonymised_ticket")
    assert t("deleted_category") <= _kinds(f, "deleted_category")
    assert t("legacy_encoding") <= _kinds(f, "invalid_encoding")
    assert t("zero_date") <= _kinds(f, "zero_date")


def test_dirty_records_are_shaped_right(demo, demo_records) -> None:
    d = demo.summary.dirty
    tickets, replies = _by_id(demo_records["ticket"]), _by_id(demo_records["reply"])
    contacts, atts = _by_id(demo_records["contact"]), _by_id(demo_records["attachment"])
    for tid in d["emailless_requester"]:
        assert tickets[tid].requester_contact_id == f"noemail:{tid}"
        assert contacts[f"noemail:{tid}"].email is None
    dup = contacts[d["email_case_duplicate"][0]]
    assert len(dup.customer_ids) == 2 and len(dup.email_variants) == 2
    assert not contacts[tickets[d["invalid_email"][0]].requester_contact_id].email_valid
    anon = tickets[d["anonymised_ticket"][0]]
    assert anon.anonymised and anon.requester_contact_id is None
    assert tickets[d["deleted_category"][0]].category_name is None
    assert tickets[d["deleted_staff"][0]].owner_missing
    assert tickets[d["zero_date"][0]].created_at is None
    assert tickets[d["legacy_encoding"][0]].subject == "Café crème order"
    assert len(tickets[d["large_message"][0]].message_html) >= 3_000_000
    assert replies[d["orphan_reply"][0]].orphan
    assert atts[d["traversal_saved_name"][0]].file_status == "unsafe_path"
    assert atts[d["missing_attachment_file"][0]].file_status == "missing"
    merged = tickets[d["merged_ticket"][0]]
    assert len(merged.merged_trackids) == 1
    thread = sorted(
        (r for r in demo_records["reply"] if r.ticket_id == merged.id),
        key=lambda r: (r.created_at, r.id),
    )
    assert [r.position for r in thread] == list(range(len(thread)))
    assert thread[0].id == max(r.id for r in thread)  # the merged message: newest id, oldest dt


def test_every_contact_reference_resolves(demo_records) -> None:
    contacts = {c.source_id for c in demo_records["contact"]}
    assert len(contacts) == len(demo_records["contact"])  # one per case-folded email
    for t in demo_records["ticket"]:
        assert t.requester_contact_id is None or t.requester_contact_id in contacts
        assert set(t.follower_contact_ids) <= contacts
    for r in demo_records["reply"]:
        assert r.author_contact_id is None or r.author_contact_id in contacts
        assert (r.author_type == "staff") == (r.staff_id is not None)


def test_ticket_fields_are_decoded(demo_records) -> None:
    t = next(t for t in demo_records["ticket"] if t.custom_fields)
    by_col = {c.column: c for c in t.custom_fields}
    assert by_col["custom4"].field_type == "checkbox" and by_col["custom4"].values
    assert by_col["custom5"].date is not None and by_col["custom5"].date.hour == 0
    assert by_col["custom2"].text in ("Basic", "Pro & Plus", "Team")
    assert t.history and t.history[0].at is not None and "submitted by" in t.history[0].text
    assert all("&amp;" not in x.subject for x in demo_records["ticket"])


def test_keyset_streaming_in_small_batches(demo, demo_records) -> None:
    reader = demo.reader(batch_size=7)
    ids = [r.id for r in reader.iter_records("reply")]
    assert ids == sorted(ids) and len(ids) == len(demo_records["reply"])
    mid = ids[len(ids) // 2]
    assert [r.id for r in reader.iter_records("reply", since_id=mid)] == [i for i in ids if i > mid]
    reader.close()


def test_delta_helpers(demo, demo_records) -> None:
    reader = demo.reader()
    max_ids = reader.max_ids()
    assert max_ids["ticket"] == max(t.id for t in demo_records["ticket"])
    assert reader.ticket_ids() == {t.id for t in demo_records["ticket"]}
    mark = reader.watermark()
    assert mark is not None and mark.tzinfo is not None
    changed = reader.changed_ticket_ids(mark)
    assert changed and all(isinstance(i, int) for i in changed)
    assert [t.id for t in reader.iter_records("ticket", changed_since=mark)] == changed
    assert reader.changed_ticket_ids(datetime(2999, 1, 1, tzinfo=UTC)) == []
    reader.close()


def test_session_is_read_only(demo) -> None:
    reader = demo.reader()
    with pytest.raises(pymysql.MySQLError), reader.db.conn.cursor() as cur:
        cur.execute("START TRANSACTION")
        cur.execute("UPDATE hesk_tickets SET subject = 'x' WHERE id = 1")
    reader.close()


def test_hesk_older_than_35_reads_from_snapshots(demo_pre35) -> None:
    reader = demo_pre35.reader()
    assert reader.hesk_version() == "3.2-3.4" and not reader.has_customers
    tickets = list(reader.iter_records("ticket"))
    contacts = {c.source_id: c for c in reader.iter_records("contact")}
    assert len(tickets) == demo_pre35.summary.tickets
    assert all(c.origin == "ticket_snapshot" for c in contacts.values())
    for t in tickets:
        if not t.anonymised:
            assert t.requester_contact_id in contacts
    replies = list(reader.iter_records("reply"))
    assert Counter(r.author_type for r in replies)["customer"] > 0
    assert all(
        r.author_contact_id in contacts
        for r in replies
        if r.author_type == "customer"
        and not r.orphan
        and not next(t for t in tickets if t.id == r.ticket_id).anonymised
    )
    reader.close()


def test_wrong_dsn_and_missing_tables_are_clear_errors(demo) -> None:
    with pytest.raises(HeskConnectionError) as err:
        HeskReader("mysql+pymysql://root:s3cretpw@127.0.0.1:1/hesk")
    assert "s3cretpw" not in str(err.value) and err.value.exit_code == 2
    with pytest.raises(HeskConnectionError):
        HeskReader("mysql+pymysql://root@127.0.0.1:3306/h2i_no_such_db_xyz")
    with pytest.raises(HeskSchemaError):
        HeskReader(demo.url, "wrongprefix_")

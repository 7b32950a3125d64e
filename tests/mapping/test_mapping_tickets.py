"""The conversation unit of a ticket: order, authors, files, folding, state, identities."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from hesk.records import Reply
from mapping.plan import plan_orphan, plan_ticket
from mapping.steps import Plan
from simulator.validation import default_validator
from tests.helpers.mapping_builders import (
    FOLLOWER,
    attachment,
    base_map,
    context,
    note,
    reply,
    ticket,
)


def _settled(plan: Plan) -> Counter:
    """How many times each (object, source_id) is settled by the plan."""
    keys = [(c.object, c.source_id) for s in plan.steps for c in s.completes]
    keys += [(d.object, d.source_id) for d in plan.dispositions]
    return Counter(keys)


def _operation(step) -> str:
    path = step.path.replace("{unit_id}", "{conversation_id}")
    return f"{step.method} {path}"


def _check_schemas(plan: Plan) -> None:
    validator = default_validator()
    for step in plan.steps:
        body = dict(step.body)
        if step.files:
            body["attachment_files"] = [
                {"content_type": f.content_type, "data": "AA==", "name": f.real_name}
                for f in step.files
            ]
        validator.check(_operation(step), body)


def _plan(**kw):
    t = kw.pop("t", ticket())
    replies = kw.pop(
        "replies", [reply(11, 30, staff_id=1), reply(12, 10), reply(13, 20, contact=FOLLOWER)]
    )
    notes = kw.pop("notes", [note(21, 15)])
    atts = kw.pop("attachments", [attachment(1), attachment(2, "reply", 11)])
    return plan_ticket(t, replies, notes, atts, None, kw.pop("ctx", context()))


def test_full_thread_in_order_with_authors() -> None:
    plan = _plan()
    ops = [s.op for s in plan.steps]
    assert ops == [
        "create",
        "part:ticket:files:1",
        "part:reply:12",
        "part:note:21",
        "part:reply:13",
        "part:reply:11",
        "part:history",
        "update",
        "assign",
        "close",
    ]
    create = plan.steps[0]
    assert create.body["from"] == {"type": "user", "id": "c-jane"}
    assert create.body["body"] == "Hello &lt;b&gt;\nsee https://example.com/x"
    assert create.result_id == "conversation_id" and create.creates == "conversation"
    assert create.lookup_kind == "conversation"
    parts = {s.op: s.body for s in plan.steps}
    assert parts["part:reply:12"]["intercom_user_id"] == "c-jane"
    assert parts["part:reply:13"]["intercom_user_id"] == "c-bob"
    assert parts["part:reply:11"]["admin_id"] == "102"
    assert parts["part:note:21"]["message_type"] == "note"
    times = [s.body["created_at"] for s in plan.steps[1:6]]
    assert times == sorted(times)
    _check_schemas(plan)


def test_every_admin_part_skips_notifications() -> None:
    plan = _plan()
    admin_parts = [s for s in plan.steps if s.path.endswith("/reply") and s.body["type"] == "admin"]
    assert admin_parts and all(s.body["skip_notifications"] is True for s in admin_parts)


def test_every_record_settled_exactly_once_and_ticket_last() -> None:
    plan = _plan()
    settled = _settled(plan)
    assert set(settled.values()) == {1}
    assert {
        ("ticket", "7"),
        ("reply", "11"),
        ("reply", "12"),
        ("reply", "13"),
        ("note", "21"),
        ("attachment", "1"),
        ("attachment", "2"),
        ("history", "7"),
    } == set(settled)
    assert ("ticket", "7") in [(c.object, c.source_id) for c in plan.steps[-1].completes]


def test_update_carries_title_and_typed_attributes() -> None:
    update = next(s for s in _plan().steps if s.op == "update")
    assert update.body["title"] == "Printer on fire"
    assert update.body["custom_attributes"] == {
        "hesk_ticket_id": 7,
        "hesk_trackid": "ABC-123-XYZ",
        "hesk_priority": "High",
        "hesk_merged_ids": "OLD-111-AAA",
        "Order Number": "A-1",
    }
    assert update.lookup_kind == "idempotent" and update.method == "PUT"


def test_unmatched_staff_goes_to_fallback_admin_with_prefix() -> None:
    plan = _plan(replies=[reply(11, 5, staff_id=9, author="Gone Agent")], notes=[], attachments=[])
    part = next(s for s in plan.steps if s.op == "part:reply:11")
    assert part.body["admin_id"] == "101"
    assert part.body["body"].startswith("<p><em>Originally by Gone Agent</em></p>")
    assert "fallback admin" in part.completes[0].reason


def test_more_than_ten_files_are_split() -> None:
    atts = [attachment(i, "reply", 11) for i in range(100, 123)]
    plan = _plan(replies=[reply(11, 5, staff_id=1)], notes=[], attachments=atts)
    parts = [s for s in plan.steps if s.op.startswith("part:reply:11")]
    assert [s.op for s in parts] == [
        "part:reply:11",
        "part:reply:11:files:2",
        "part:reply:11:files:3",
    ]
    assert [len(s.files) for s in parts] == [10, 10, 3]
    assert all(s.body["skip_notifications"] for s in parts)
    assert sum(_settled(plan)[("attachment", str(i))] for i in range(100, 123)) == 23
    _check_schemas(plan)


def test_bad_and_oversized_files_quarantined_part_still_written() -> None:
    atts = [
        attachment(1, "reply", 11, status="missing"),
        attachment(2, "reply", 11, status="unsafe_path"),
        attachment(3, "reply", 11, size=30 * 1024 * 1024),
        attachment(4, "reply", 11),
    ]
    plan = _plan(replies=[reply(11, 5, staff_id=1)], notes=[], attachments=atts)
    reasons = {d.source_id: d.reason for d in plan.dispositions}
    assert "missing on disk" in reasons["1"]
    assert "unsafe path" in reasons["2"]
    assert "larger than max_attachment_bytes" in reasons["3"]
    part = next(s for s in plan.steps if s.op == "part:reply:11")
    assert [f.attachment_id for f in part.files] == ["4"]


def test_long_thread_folds_oldest_parts() -> None:
    replies = [reply(1000 + i, i, staff_id=1) for i in range(520)]
    plan = _plan(replies=replies, notes=[], attachments=[])
    ops = [s.op for s in plan.steps]
    assert ops[1] == "part:transcript"
    kept = [o for o in ops if o.startswith("part:reply:")]
    assert len(kept) == 480 and kept[0] == "part:reply:1040"
    folded = plan.steps[1].completes
    assert len(folded) == 40 and all("folded" in c.reason for c in folded)
    assert set(_settled(plan).values()) == {1}
    keep_plan = _plan(
        replies=replies, notes=[], attachments=[], ctx=context(base_map(long_threads="keep"))
    )
    assert sum(s.op.startswith("part:reply:") for s in keep_plan.steps) == 520


@pytest.mark.parametrize(("status", "closes"), [(3, True), (0, False), (6, False)])
def test_status_maps_to_close(status: int, closes: bool) -> None:
    ops = [s.op for s in _plan(t=ticket(status=status)).steps]
    assert ("close" in ops) is closes


def test_category_to_team_assignment_or_tag() -> None:
    assign = next(s for s in _plan().steps if s.op == "assign")
    assert assign.body == {
        "message_type": "assignment",
        "type": "team",
        "admin_id": "101",
        "assignee_id": "201",
    }
    plan = _plan(t=ticket(category_id=2, category_name="Shipping"))
    tag = next(s for s in plan.steps if s.op == "tag")
    assert tag.body == {"id": "501", "admin_id": "101"}
    assert tag.path == "/conversations/{unit_id}/tags"
    deleted = _plan(t=ticket(category_id=9, category_name=None))
    assert not any(s.op in ("assign", "tag") for s in deleted.steps)
    assert "deleted" in deleted.steps[-1].completes[-1].reason


def test_anonymised_ticket_skipped_with_all_children() -> None:
    plan = _plan(t=ticket(anonymised=True, requester_contact_id=None))
    assert not plan.steps
    assert {d.state for d in plan.dispositions} == {"skipped"}
    assert len(plan.dispositions) == 8
    migrated = _plan(
        t=ticket(anonymised=True, requester_contact_id=None),
        ctx=context(base_map(anonymised_tickets="migrate_without_requester")),
    )
    assert migrated.steps[0].body["from"]["id"] == "c-anon"


def test_requester_quarantined() -> None:
    ctx = context(ids={})
    plan = _plan(ctx=ctx)
    assert not plan.steps
    ticket_disp = next(d for d in plan.dispositions if d.object == "ticket")
    assert ticket_disp.state == "quarantined"
    assert ticket_disp.reason.startswith("requester contact quarantined")


def test_identities_stable_when_a_reply_is_added() -> None:
    before = {s.op: s.identity_hash for s in _plan().steps}
    replies = [
        reply(11, 30, staff_id=1),
        reply(12, 10),
        reply(13, 20, contact=FOLLOWER),
        reply(14, 90),
    ]
    after = {s.op: s.identity_hash for s in _plan(replies=replies, t=ticket(reply_count=3)).steps}
    for op in (
        "create",
        "part:ticket:files:1",
        "part:reply:11",
        "part:reply:12",
        "part:reply:13",
        "part:note:21",
        "assign",
        "close",
    ):
        assert before[op] == after[op]
    assert "part:reply:14" in after


def _export_reply(
    id: int,
    minutes: int,
    text: str,
    *,
    staff_id: int | None = None,
    author: str = "Jane Doe",
    missing: bool = False,
) -> Reply:
    base = reply(id, minutes, staff_id=staff_id, author=author)
    return replace(
        base,
        message_html="",
        message_text=text,
        staff_missing=missing,
        fidelity="export",
        author_type="staff" if staff_id or missing else "customer",
    )


def test_export_file_replies_are_parts_by_their_authors() -> None:
    t = ticket(
        fidelity="export", attachments=(), message_html="", message_text="a < b\nsecond line"
    )
    replies = [
        _export_reply(11, 5, "Try <b>this</b>\nthen that", staff_id=1, author="Alice"),
        _export_reply(12, 6, "x > y &amp; z"),
        _export_reply(13, 7, "gone", author="[Staff Deleted]", missing=True),
    ]
    plan = _plan(t=t, replies=replies, notes=[], attachments=[])
    parts = {s.op: s.body for s in plan.steps if s.op.startswith("part:reply")}
    assert parts["part:reply:11"]["type"] == "admin"
    assert parts["part:reply:11"]["body"] == "Try &lt;b&gt;this&lt;/b&gt;<br>then that"
    assert parts["part:reply:12"]["type"] == "user"
    assert parts["part:reply:12"]["body"] == "x > y &amp; z"  # literal, decoded once already
    fallback = parts["part:reply:13"]
    assert fallback["type"] == "admin" and "Originally by [Staff Deleted]" in fallback["body"]
    create = next(s for s in plan.steps if s.op == "create")
    assert create.body["body"] == "a < b\nsecond line"
    assert "export file" in plan.steps[-1].completes[-1].reason
    _check_schemas(plan)


def test_broken_export_row_is_quarantined_with_its_reason() -> None:
    t = ticket(fidelity="export", broken="export row ABC-123-XYZ: Date 'x' is not a date")
    plan = _plan(t=t, replies=[], notes=[], attachments=[])
    assert not plan.steps
    states = {(d.object, d.state, d.reason) for d in plan.dispositions}
    assert ("ticket", "quarantined", "export row ABC-123-XYZ: Date 'x' is not a date") in states


def test_orphan_reply_quarantined() -> None:
    plan = plan_orphan(reply(99, 1, ticket_id=404))
    (d,) = plan.dispositions
    assert d.state == "quarantined" and "404 no longer exists" in d.reason

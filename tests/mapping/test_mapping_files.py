"""Attachments fill parts by count and by request bytes (base64 counted), in order."""

from __future__ import annotations

import base64
import json

from core.intercom_limits import FILES_PER_PART, MAX_REQUEST_BYTES
from mapping.defaults import DEFAULT_OPTIONS
from mapping.files import PART_OVERHEAD, encoded_size, parts, request_cost
from mapping.plan import plan_ticket
from mapping.steps import Plan, Step
from mapping.validation import validate_map
from tests.helpers.mapping_builders import (
    ADMINS,
    EXISTING_ATTRS,
    TEAMS,
    attachment,
    base_map,
    context,
    note,
    reply,
    ticket,
)

MB = 1024 * 1024


def _request_bytes(step: Step) -> int:
    """The exact size of the body the worker sends for ``step`` (files read as base64)."""
    body = dict(step.body)
    if step.files:
        body["attachment_files"] = [
            {
                "name": f.real_name,
                "content_type": f.content_type,
                "data": base64.b64encode(bytes(f.size)).decode("ascii"),
            }
            for f in step.files
        ]
    return len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())


def _plan(atts: list, max_request: int | None = None, replies: list | None = None) -> Plan:
    options = {} if max_request is None else {"max_request_bytes": max_request}
    return plan_ticket(
        ticket(),
        replies if replies is not None else [reply(11, 5, staff_id=1)],
        [],
        atts,
        None,
        context(base_map(**options)),
    )


def _file_parts(plan: Plan, prefix: str) -> list[Step]:
    return [s for s in plan.steps if s.op.startswith(prefix)]


def test_base64_inflation_is_counted() -> None:
    assert [encoded_size(n) for n in (0, 1, 2, 3, 4, 3 * MB)] == [0, 4, 4, 4, 8, 4 * MB]
    big = attachment(1, size=3 * MB)
    assert request_cost(big) > 4 * MB  # the base64 size, not the file size


def test_three_20_mb_files_on_one_reply_go_one_per_part_with_the_real_default() -> None:
    assert DEFAULT_OPTIONS["max_request_bytes"] == MAX_REQUEST_BYTES == 50 * MB
    atts = [attachment(i, "reply", 11, size=20 * MB) for i in (101, 102, 103)]
    plan = _plan(atts)
    steps = _file_parts(plan, "part:reply:11")
    assert [s.op for s in steps] == [
        "part:reply:11",
        "part:reply:11:files:2",
        "part:reply:11:files:3",
    ]
    assert [[f.attachment_id for f in s.files] for s in steps] == [["101"], ["102"], ["103"]]
    assert all(d.object != "attachment" for d in plan.dispositions)
    assert all(s.identity_hash for s in steps) and len({s.identity_hash for s in steps}) == 3


def test_parts_fill_up_to_the_byte_budget_and_every_body_fits() -> None:
    budget = 20_000
    sizes = [3000, 5000, 1, 7000, 4000, 9000, 2500, 2500, 2500, 100]
    atts = [attachment(200 + i, "reply", 11, size=s) for i, s in enumerate(sizes)]
    plan = _plan(atts, budget)
    steps = _file_parts(plan, "part:reply:11")
    assert len(steps) > 1
    sent = [f.attachment_id for s in steps for f in s.files]
    assert sent == [a.source_id for a in atts]  # every file, once, in order
    for step in steps:
        assert _request_bytes(step) <= budget
        assert len(step.files) <= FILES_PER_PART
    # greedy: the next file would not have fitted in the part before it
    for before, after in zip(steps, steps[1:], strict=False):
        nxt = next(a for a in atts if a.source_id == after.files[0].attachment_id)
        used = _request_bytes(before) + request_cost(nxt)
        assert used > budget - PART_OVERHEAD or len(before.files) == FILES_PER_PART
    # files-only parts complete their files; the message part completes the reply
    assert steps[0].completes[0].object == "reply"
    assert all(c.object == "attachment" for s in steps[1:] for c in s.completes)


def test_the_ten_file_limit_still_holds_under_the_byte_budget() -> None:
    atts = [attachment(300 + i, "reply", 11, size=10) for i in range(23)]
    steps = _file_parts(_plan(atts), "part:reply:11")
    assert [len(s.files) for s in steps] == [10, 10, 3]


def test_a_file_that_cannot_fit_even_alone_is_quarantined_with_size_and_limit() -> None:
    budget = 20_000
    atts = [
        attachment(401, "reply", 11, size=1000),
        attachment(402, "reply", 11, size=16_000),
        attachment(403, "reply", 11, size=2000),
    ]
    plan = _plan(atts, budget)
    reasons = {
        d.source_id: (d.state, d.reason) for d in plan.dispositions if d.object == "attachment"
    }
    state, reason = reasons["402"]
    assert state == "quarantined"
    assert "16000 bytes" in reason and "20000" in reason and "max_request_bytes" in reason
    sent = [f.attachment_id for s in _file_parts(plan, "part:reply:11") for f in s.files]
    assert sent == ["401", "403"]


def test_a_file_too_big_beside_a_long_message_moves_to_a_files_only_part() -> None:
    budget = 20_000
    long_reply = reply(11, 5, staff_id=1, html="word " * 2500)  # ~12.5 KB of body
    atts = [attachment(501, "reply", 11, size=9000)]  # ~12 KB as base64: fits alone only
    steps = _file_parts(_plan(atts, budget, [long_reply]), "part:reply:11")
    assert [s.op for s in steps] == ["part:reply:11", "part:reply:11:files:2"]
    assert steps[0].files == () and [f.attachment_id for f in steps[1].files] == ["501"]
    assert all(_request_bytes(s) <= budget for s in steps)


def test_long_and_escaped_names_are_counted() -> None:
    budget = 8000
    name = "Ünïcödé & <weird> " * 12 + ".pdf"
    atts = [attachment(600 + i, "reply", 11, size=1200, name=f"{i}{name}") for i in range(6)]
    steps = _file_parts(_plan(atts, budget), "part:reply:11")
    assert [f.attachment_id for s in steps for f in s.files] == [a.source_id for a in atts]
    assert all(_request_bytes(s) <= budget for s in steps)


def test_first_message_files_and_folded_files_also_split_by_bytes() -> None:
    budget = 12_000
    plan = _plan([attachment(700 + i, "ticket", 7, size=4000) for i in range(4)], budget)
    ticket_parts = _file_parts(plan, "part:ticket:files:")
    assert len(ticket_parts) == 2 and all(_request_bytes(s) <= budget for s in ticket_parts)
    assert [f.attachment_id for s in ticket_parts for f in s.files] == ["700", "701", "702", "703"]

    replies = [reply(1000 + i, i, staff_id=1) for i in range(520)]
    folded = [attachment(800 + i, "reply", 1000, size=4000) for i in range(3)]
    plan = plan_ticket(
        ticket(), replies, [], folded, None, context(base_map(max_request_bytes=budget))
    )
    fold_parts = _file_parts(plan, "part:transcript:files:")
    assert len(fold_parts) == 2 and all(_request_bytes(s) <= budget for s in fold_parts)
    # the fold keeps the newest 480 parts, counting the split parts exactly
    assert sum(1 for s in plan.steps if s.op.startswith("part:reply:")) == 480


def test_parts_keeps_order_and_gives_each_file_a_place() -> None:
    atts = [attachment(900 + i, size=s) for i, s in enumerate([50, 10_000, 50, 50])]
    groups = parts(atts, 8000, first_used=100)
    assert [a.source_id for g in groups for a in g] == ["900", "901", "902", "903"]
    assert groups[1] == [atts[1]]  # too big for any budget here: still alone in its own part
    assert parts([], 8000) == [[]]


def test_max_request_bytes_must_be_a_positive_integer() -> None:
    bad = base_map(max_request_bytes=0)
    problems = validate_map(bad, admins=ADMINS, teams=TEAMS, conversation_attributes=EXISTING_ATTRS)
    assert any(p.startswith("options.max_request_bytes") for p in problems)


def test_notes_files_split_too() -> None:
    atts = [attachment(950 + i, "note", 21, size=20 * MB) for i in range(2)]
    plan = plan_ticket(ticket(), [], [note(21, 15)], atts, None, context())
    steps = _file_parts(plan, "part:note:21")
    assert [len(s.files) for s in steps] == [1, 1]

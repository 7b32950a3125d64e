"""The tickets target, pure: set-up, one ticket's steps, bad values, titles, states, checks."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hesk.records import CustomFieldValue
from mapping.proposal import propose_map
from mapping.ticket_target import (
    plan_ticket_as_ticket,
    plan_ticket_setup,
    setup_check,
    state_op,
)
from mapping.validation import validate_map
from simulator.validation import default_validator
from tests.helpers.mapping_builders import (
    ADMINS,
    TEAMS,
    attachment,
    category,
    context,
    field_def,
    note,
    reply,
    staff,
    ticket,
)

STATES = [
    {"id": "1", "category": "submitted", "internal_label": "Submitted"},
    {"id": "2", "category": "in_progress", "internal_label": "In progress"},
    {"id": "3", "category": "waiting_on_customer", "internal_label": "Waiting on customer"},
    {"id": "4", "category": "resolved", "internal_label": "Resolved"},
]


def ticket_map() -> dict[str, Any]:
    m = propose_map(
        staff=[staff(1)],
        categories=[category(1, "Billing")],
        custom_fields=[
            field_def(1),
            field_def(2, "Colour", "select", ("Red", "Blue")),
            field_def(5, "Count", "text"),
        ],
        statuses={0: "New", 2: "Replied", 3: "Resolved", 6: "Vendor"},
        priorities={0: "Critical", 1: "High", 2: "Medium", 3: "Low"},
        admins=ADMINS,
        teams=TEAMS,
        conversation_attributes=[],
        me=ADMINS[0],
        target="tickets",
        ticket_states=STATES,
    )
    next(f for f in m["custom_fields"] if f["hesk_id"] == 5)["data_type"] = "integer"
    m["resolved"] = {
        "ticket_states": {"0": "1", "2": "3", "3": "4"},
        "default_ticket_state_id": "1",
    }
    return m


def ticket_context(**over: Any) -> Any:
    ctx = context(ticket_map())
    ids = {**ctx.ids, "ticket_type:type": "900", "custom_field:builtin:hesk_trackid": "901"}
    return replace(ctx, ids=ids, **over)


def _operation(step: Any) -> str:
    return f"{step.method} {step.path.replace('{unit_id}', '{ticket_id}')}"


def _valid(steps: Any) -> None:
    validator = default_validator()
    for step in steps:
        body = dict(step.body)
        if step.files:
            body["attachment_files"] = [{"content_type": "x/y", "data": "AA==", "name": "n"}]
        validator.check(
            _operation(step).replace("{ticket_id}/attributes", "{ticket_type_id}/attributes"), body
        )


def test_proposal_chooses_states_and_leaves_an_unknown_status_to_the_user() -> None:
    m = ticket_map()
    assert m["target"] == "tickets" and m["tickets"]["history"] == "attribute"
    states = {s["hesk_id"]: s["ticket_state"] for s in m["statuses"]}
    assert states == {0: "Submitted", 2: "Waiting on customer", 3: "Resolved", 6: None}
    assert validate_map(m, admins=ADMINS, teams=TEAMS, conversation_attributes=[]) == []
    check = setup_check(m, [], STATES)
    assert check["blockers"] == [
        "status 'Vendor' (Hesk id 6): no ticket state — set statuses.ticket_state to one of: "
        "In progress, Resolved, Submitted, Waiting on customer (states cannot be created by "
        "the API)"
    ]
    assert "ticket type Hesk ticket (Customer)" in check["to_create"]


def test_an_attribute_of_another_type_on_the_existing_type_blocks() -> None:
    existing = [
        {
            "id": "900",
            "name": "Hesk ticket",
            "ticket_type_attributes": {
                "data": [
                    {"name": "Count", "data_type": "string"},
                    {"name": "Colour", "data_type": "list"},
                ]
            },
        }
    ]
    check = setup_check(ticket_map(), existing, STATES)
    assert any(
        "'Count' already exists on 'Hesk ticket' as string, not integer" in b
        for b in check["blockers"]
    )
    assert "ticket attribute Colour -> existing" in check["matched"]


def test_setup_finds_or_creates_the_type_then_its_attributes() -> None:
    plan = plan_ticket_setup(ticket_context(), {"1": "h1", "2": "h2", "5": "h5"})
    assert plan.steps[0].op == "ticket_type" and plan.steps[0].creates == "ticket_type"
    assert all(s.find_first for s in plan.steps)
    bodies = {s.body["name"]: s.body for s in plan.steps[1:]}
    assert bodies["hesk_trackid"]["data_type"] == "string"
    assert bodies["hesk_priority"]["list_items"] == "Critical,High,Medium,Low"
    assert bodies["hesk_history"]["multiline"] is True
    assert bodies["Colour"]["list_items"] == "Red,Blue"
    assert bodies["Count"]["data_type"] == "integer"
    settled = {(c.object, c.source_id, c.content_hash) for s in plan.steps for c in s.completes}
    assert ("custom_field", "5", "h5") in settled
    _valid(plan.steps)


def test_one_ticket_is_create_parts_and_one_state_write() -> None:
    replies = [reply(11, 30, staff_id=1), reply(12, 10)]
    atts = [attachment(1), attachment(2, "reply", 12), attachment(3, "reply", 11)]
    plan = plan_ticket_as_ticket(ticket(), replies, [note(21, 15)], atts, ticket_context())
    ops = [s.op for s in plan.steps]
    assert ops == [
        "create",
        "part:ticket:files:1",
        "part:reply:12",
        "part:reply:12:files:2",
        "part:note:21",
        "part:reply:11",
        state_op("4", False),
    ]
    create = plan.steps[0]
    attrs = create.body["ticket_attributes"]
    assert attrs["_default_title_"] == "Printer on fire" and attrs["hesk_trackid"] == "ABC-123-XYZ"
    assert attrs["hesk_priority"] == "High" and attrs["hesk_ticket_id"] == 7
    assert "Hesk ticket history" in attrs["hesk_history"]
    assert create.body["assignment"] == {"admin_assignee_id": "102", "team_assignee_id": "201"}
    assert create.lookup == {
        "marker_attribute_id": "901",
        "marker": "ABC-123-XYZ",
        "contact_id": "c-jane",
    }
    # the customer's files are in an admin note of their own, named as the customer's
    customer_files = plan.steps[3]
    assert customer_files.body["type"] == "admin" and customer_files.body["message_type"] == "note"
    assert "Attachments sent by Jane Doe" in customer_files.body["body"]
    assert plan.steps[2].files == () and plan.steps[5].files  # staff replies carry their files
    assert all(s.body.get("skip_notifications") is True for s in plan.steps)
    assert plan.steps[-1].body == {
        "ticket_state_id": "4",
        "open": False,
        "admin_id": "101",
        "skip_notifications": True,
    }
    _valid(plan.steps)


def test_no_state_write_when_the_ticket_already_has_its_state() -> None:
    fresh = plan_ticket_as_ticket(
        ticket(status=0, status_name="New", closed_at=None), [], [], [], ticket_context()
    )
    assert [s.op for s in fresh.steps] == ["create"]
    done = plan_ticket_as_ticket(
        ticket(), [], [], [], ticket_context(), last_state=state_op("4", False)
    )
    assert [s.op for s in done.steps] == ["create"]


def test_values_that_do_not_fit_stay_in_the_history_and_the_report() -> None:
    values = (
        CustomFieldValue(5, "custom5", "Count", "text", "many", ("many",)),
        CustomFieldValue(2, "custom2", "Colour", "select", "Green", ("Green",)),
    )
    plan = plan_ticket_as_ticket(ticket(custom_fields=values), [], [], [], ticket_context())
    attrs = plan.steps[0].body["ticket_attributes"]
    assert "Count" not in attrs and "Colour" not in attrs
    assert "Count: 'many' is not a number" in attrs["hesk_history"]
    assert "'Green' is not an option" in attrs["hesk_history"]
    reason = next(c.reason for s in plan.steps for c in s.completes if c.object == "ticket")
    assert "kept in the history" in reason and "many" in reason


def test_a_title_too_long_is_cut_with_the_full_text_in_the_description() -> None:
    subject = "word " * 80
    plan = plan_ticket_as_ticket(ticket(subject=subject), [], [], [], ticket_context())
    attrs = plan.steps[0].body["ticket_attributes"]
    assert len(attrs["_default_title_"]) == 255 and attrs["_default_title_"].endswith("…")
    assert attrs["_default_description_"].startswith("Full title: " + subject.strip())
    _valid(plan.steps[:1])


def _written(plan: Any) -> dict[str, str]:
    return dict(plan.steps[0].sets)


def test_an_edited_ticket_is_one_update_keyed_on_its_new_content() -> None:
    first = plan_ticket_as_ticket(
        ticket(), [], [], [], ticket_context(), last_state=state_op("4", False)
    )
    written = _written(first)
    assert set(written) == {"attributes", "admin", "team"}
    # nothing changed: nothing but what the first run planned
    same = plan_ticket_as_ticket(
        ticket(), [], [], [], ticket_context(), last_state=state_op("4", False), written=written
    )
    assert [s.op for s in same.steps] == ["create"]
    # a new title and priority: one PUT with every attribute, the title among them
    edited = ticket(subject="Printer still on fire", priority=0, priority_name="Critical")
    plan = plan_ticket_as_ticket(
        edited, [], [], [], ticket_context(), last_state=state_op("4", False), written=written
    )
    assert [s.op for s in plan.steps] == ["create", "update"]
    update = plan.steps[1]
    assert update.method == "PUT" and update.path == "/tickets/{unit_id}"
    attrs = update.body["ticket_attributes"]
    assert attrs["_default_title_"] == "Printer still on fire"
    assert attrs["hesk_priority"] == "Critical" and "hesk_history" in attrs
    assert update.body["skip_notifications"] is True and "assignee_id" not in update.body
    assert update.sets == {"attributes": plan.steps[0].sets["attributes"]}
    assert update.sets["attributes"] != written["attributes"]
    # the same edit planned again has the same key; settled, the ticket is up to date
    again = plan_ticket_as_ticket(
        edited, [], [], [], ticket_context(), last_state=state_op("4", False), written=written
    )
    assert again.steps[1].identity_hash == update.identity_hash
    after = {**written, **update.sets}
    settled = plan_ticket_as_ticket(
        edited, [], [], [], ticket_context(), last_state=state_op("4", False), written=after
    )
    assert [s.op for s in settled.steps] == ["create"]
    # the history written again is settled by the update, not by the create
    assert any(c.object == "history" for c in update.completes)
    assert not any(c.object == "history" for c in plan.steps[0].completes)
    _valid(plan.steps)


def test_a_new_owner_or_team_is_assigned_by_the_update() -> None:
    written = _written(plan_ticket_as_ticket(ticket(), [], [], [], ticket_context()))
    unowned = plan_ticket_as_ticket(
        ticket(owner_id=None),
        [],
        [],
        [],
        ticket_context(),
        last_state=state_op("4", False),
        written=written,
    )
    update = unowned.steps[-1]
    assert update.op == "update" and update.body["assignee_id"] == "0"
    assert "ticket_attributes" not in update.body and update.sets == {"admin": ""}
    # a ticket written before writes said what they set: its attributes are written once
    legacy = plan_ticket_as_ticket(
        ticket(), [], [], [], ticket_context(), last_state=state_op("4", False), written={}
    )
    assert [s.op for s in legacy.steps] == ["create", "update"]
    assert "assignee_id" not in legacy.steps[1].body


def test_a_category_without_a_team_tags_the_ticket_as_it_tags_a_conversation() -> None:
    ctx = ticket_context()
    ctx.map["categories"][0]["team"] = None
    ctx.map["categories"][0]["tag"] = "Hesk: Billing"
    ctx = replace(ctx, tags={"1": "555"}, teams={})
    plan = plan_ticket_as_ticket(ticket(), [], [], [], ctx)
    assert [s.op for s in plan.steps][:2] == ["create", "tag"]
    tag = plan.steps[1]
    assert tag.method == "POST" and tag.path == "/tickets/{unit_id}/tags"
    assert tag.body == {"id": "555", "admin_id": "101"}
    assert "team_assignee_id" not in plan.steps[0].body.get("assignment", {})
    _valid(plan.steps[:2])
    # with a team, the team is assigned at create and no tag is applied
    teamed = plan_ticket_as_ticket(ticket(), [], [], [], ticket_context())
    assert "tag" not in [s.op for s in teamed.steps]

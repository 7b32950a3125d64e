"""Planners of the other units: contacts, staff, categories, attributes, KB, canned."""

from __future__ import annotations

from hesk.records import CannedResponse
from mapping.plan import (
    dependencies,
    external_id,
    plan_builtin_attributes,
    plan_canned_response,
    plan_category,
    plan_contact,
    plan_custom_field,
    plan_kb_article,
    plan_kb_category,
    plan_staff,
)
from simulator.validation import default_validator
from tests.helpers.mapping_builders import (
    FOLLOWER,
    REQUESTER,
    T0,
    attachment,
    base_map,
    category,
    context,
    customer,
    field_def,
    kb_article,
    kb_category,
    reply,
    staff,
    ticket,
)


def _valid(step) -> None:
    default_validator().check(f"{step.method} {step.path}", step.body)


def test_contact_body_and_external_id() -> None:
    (step,) = plan_contact(customer(), context()).steps
    assert step.body == {
        "role": "user",
        "external_id": external_id(REQUESTER),
        "email": REQUESTER,
        "name": "Jane Doe",
        "signed_up_at": int(T0.timestamp()),
    }
    assert step.lookup_kind == "contact" and step.creates == "contact"
    assert step.body["external_id"].startswith("hesk:customer:")
    assert external_id("Jane@Example.com") == external_id(REQUESTER)
    assert "@" not in step.body["external_id"]
    _valid(step)


def test_emailless_and_invalid_contacts() -> None:
    (step,) = plan_contact(customer(None, "Walk-in"), context()).steps
    assert step.body["external_id"] == "hesk:noemail:7" and "email" not in step.body
    (d,) = plan_contact(
        customer("not an email", valid=False, source_id="not an email"), context()
    ).dispositions
    assert d.state == "quarantined" and "invalid email address 'not an email'" in d.reason


def test_staff_linked_or_on_invite_list() -> None:
    (d,) = plan_staff(staff(1), context()).dispositions
    assert d.state == "migrated" and d.intercom_id == "102"
    (d,) = plan_staff(staff(2, "ghost@example.com"), context()).dispositions
    assert d.state == "skipped" and "invite list" in d.reason


def test_category_team_or_tag() -> None:
    (d,) = plan_category(category(1), context()).dispositions
    assert (d.state, d.intercom_id, d.reason) == ("migrated", "201", "linked to team Billing")
    (step,) = plan_category(category(2, "Shipping"), context()).steps
    assert step.body == {"name": "Hesk: Shipping"} and step.creates == "tag"
    assert step.lookup_kind == "tag"
    _valid(step)


def test_custom_field_attribute_bodies() -> None:
    ctx = context()
    (step,) = plan_custom_field(field_def(2, "Colour", "select", ("Red", "Blue")), ctx).steps
    assert step.body["data_type"] == "list"
    assert step.body["options"] == [{"label": "Red"}, {"label": "Blue"}]
    assert step.creates == "conversation_attribute"
    assert step.lookup_kind == "conversation_attribute"
    _valid(step)
    (linked,) = plan_custom_field(field_def(1), ctx).dispositions
    assert linked.state == "migrated" and linked.intercom_id == "301"
    (skipped,) = plan_custom_field(
        field_def(3, "Internal code", "hidden", staff_only=True), ctx
    ).dispositions
    assert skipped.state == "skipped" and "staff-only" in skipped.reason
    moved = plan_custom_field(
        field_def(3, "Internal code", "hidden", staff_only=True),
        context(base_map(staff_only_fields="move")),
    )
    assert moved.steps and moved.steps[0].body["data_type"] == "string"


def test_builtin_attributes() -> None:
    plan = plan_builtin_attributes(context())
    assert [s.op for s in plan.steps] == [
        "create:hesk_ticket_id",
        "create:hesk_trackid",
        "create:hesk_priority",
        "create:hesk_merged_ids",
    ]
    assert {c.source_id for s in plan.steps for c in s.completes} == {
        "builtin:hesk_ticket_id",
        "builtin:hesk_trackid",
        "builtin:hesk_priority",
        "builtin:hesk_merged_ids",
    }
    for step in plan.steps:
        _valid(step)
    with_ip = plan_builtin_attributes(context(base_map(migrate_ip=True)))
    assert "create:hesk_ip" in [s.op for s in with_ip.steps]


def test_kb_collections_keep_the_hierarchy() -> None:
    (root,) = plan_kb_category(kb_category(1, None, "Knowledgebase"), context()).dispositions
    assert root.state == "skipped"
    (top,) = plan_kb_category(kb_category(2, 1), context()).steps
    assert "parent_id" not in top.body and top.creates == "collection"
    (child,) = plan_kb_category(kb_category(4, 2), context()).steps
    assert child.body["parent_id"] == "401"
    _valid(child)
    (orphan,) = plan_kb_category(kb_category(5, 99), context()).dispositions
    assert orphan.state == "quarantined"


def test_kb_article_body_state_author_and_links() -> None:
    art = kb_article(html='<p onclick="x">Hi<script>bad()</script></p>')
    ctx = context(base_map(hesk_url="https://help.example.com/"))
    plan = plan_kb_article(art, ctx, [attachment(9, "kb_article", 5)])
    step, update = plan.steps  # create, then update in place (what a delta changes)
    assert update.method == "PUT" and update.body == step.body and not update.creates
    assert step.body["author_id"] == 102 and step.body["parent_id"] == 401
    assert step.body["parent_type"] == "collection" and step.body["state"] == "published"
    assert "script" not in step.body["body"] and "onclick" not in step.body["body"]
    assert "https://help.example.com/download_attachment.php?kb_att=9" in step.body["body"]
    assert step.creates == "article" and step.lookup_kind == "article"
    _valid(step)
    private, private_update = plan_kb_article(
        kb_article(state="private", author_id=77), context()
    ).steps
    assert private.body["state"] == "draft" and private.body["author_id"] == 101
    assert "private article imported as draft" in private_update.completes[0].reason


def test_canned_responses_skipped() -> None:
    canned = CannedResponse("3", 3, "Hello", "Hi", "Hi", 1)
    (d,) = plan_canned_response(canned, context()).dispositions
    assert d.state == "skipped" and "read-only" in d.reason


def test_dependencies() -> None:
    deps = dependencies(ticket(), base_map())
    assert deps[:2] == [f"contact:{REQUESTER}", f"contact:{FOLLOWER}"]
    assert "custom_field:builtin:hesk_ticket_id" in deps and "custom_field:1" in deps
    assert "category:1" in deps
    assert dependencies(kb_article(category_id=3)) == ["kb_category:3"]
    assert dependencies(kb_category(4, 2)) == ["kb_category:2"]
    assert dependencies(kb_category(2, 1)) == []
    assert dependencies(reply(1, 1)) == ["ticket:7"]
    assert dependencies(customer()) == []

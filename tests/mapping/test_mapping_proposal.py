"""The proposed map: targets, confidences and reasons; YAML round trip; validation."""

from __future__ import annotations

import copy

from mapping.proposal import dump_map_yaml, load_map_yaml, map_hash, validate_map
from mapping.validation import resolve_admins, resolve_fallback_admin, resolve_teams
from tests.helpers.mapping_builders import ADMINS, EXISTING_ATTRS, TEAMS, base_map


def _by_id(section: list[dict], hesk_id: int) -> dict:
    return next(e for e in section if e["hesk_id"] == hesk_id)


def _problems(m: dict) -> list[str]:
    return validate_map(m, admins=ADMINS, teams=TEAMS, conversation_attributes=EXISTING_ATTRS)


def test_staff_matched_by_email_case_insensitively() -> None:
    m = base_map()
    alice, ghost = _by_id(m["staff"], 1), _by_id(m["staff"], 2)
    assert alice["admin_email"] == "Alice@Example.com" and alice["confidence"] == 1.0
    assert "same email" in alice["reason"]
    assert ghost["admin_email"] is None and "fallback admin" in ghost["reason"]
    assert resolve_admins(m, ADMINS) == {"1": "102"}
    assert resolve_fallback_admin(m, ADMINS) == "101"


def test_categories_to_team_else_tag() -> None:
    m = base_map()
    billing, shipping = _by_id(m["categories"], 1), _by_id(m["categories"], 2)
    assert billing["team"] == "Billing" and billing["confidence"] == 1.0
    assert shipping["tag"] == "Hesk: Shipping" and "no team" in shipping["reason"]
    assert resolve_teams(m, TEAMS) == {"1": "201"}


def test_custom_field_types_and_similarity() -> None:
    fields = base_map()["custom_fields"]
    order = _by_id(fields, 1)
    assert order["existing_id"] == "301" and order["attribute"] == "Order Number"
    assert 0.85 <= order["confidence"] <= 1.0 and "similarity" in order["reason"]
    colour = _by_id(fields, 2)
    assert colour["data_type"] == "list" and colour["options"] == ["Red", "Blue"]
    hidden = _by_id(fields, 3)
    assert hidden["data_type"] == "string" and hidden["staff_only"] is True
    assert "staff-only" in hidden["reason"]
    assert _by_id(fields, 4)["data_type"] == "datetime"


def test_statuses_priorities_and_always_created_attributes() -> None:
    m = base_map()
    assert {e["hesk_id"]: e["state"] for e in m["statuses"]} == {
        0: "open",
        1: "open",
        2: "open",
        3: "closed",
        6: "open",
    }
    assert _by_id(m["statuses"], 6)["confidence"] < 1.0
    assert [e["value"] for e in m["priorities"]] == ["Critical", "High", "Medium", "Low"]
    names = {a["name"]: a for a in m["attributes"]}
    assert set(names) == {"hesk_ticket_id", "hesk_trackid", "hesk_priority", "hesk_merged_ids"}
    assert names["hesk_priority"]["options"] == ["Critical", "High", "Medium", "Low"]
    assert m["options"]["fallback_admin_email"] == "owner@example.com"
    assert m["options"]["anonymised_tickets"] == "skip"
    assert m["options"]["long_threads"] == "fold"
    assert m["options"]["migrate_ip"] is False


def test_yaml_round_trip_with_header() -> None:
    m = base_map()
    text = dump_map_yaml(m)
    assert text.startswith("# hesk2intercom field map")
    assert load_map_yaml(text) == m
    reordered = dict(reversed(list(m.items())))
    assert map_hash(reordered) == map_hash(m)
    changed = copy.deepcopy(m)
    changed["options"]["migrate_ip"] = True
    assert map_hash(changed) != map_hash(m)


def test_the_proposal_is_valid() -> None:
    assert _problems(base_map()) == []


def test_validate_reports_each_problem() -> None:
    m = base_map()
    _by_id(m["staff"], 2)["admin_email"] = "nobody@example.com"
    _by_id(m["categories"], 2).update({"tag": None, "team": "Nope"})
    _by_id(m["custom_fields"], 2)["attribute"] = "hesk_trackid"
    _by_id(m["priorities"], 0)["value"] = "Urgent"
    m["options"]["fallback_admin_email"] = "ghost@example.com"
    problems = "\n".join(_problems(m))
    for expected in (
        "unknown admin email nobody@example.com",
        "unknown team 'Nope'",
        "duplicate attribute name 'hesk_trackid'",
        "'Urgent' is not an option of hesk_priority",
        "no Intercom admin with email ghost@example.com",
    ):
        assert expected in problems


def test_a_map_of_the_wrong_shape_is_refused_before_the_workspace_checks() -> None:
    m = base_map()
    _by_id(m["custom_fields"], 4)["data_type"] = "date"
    _by_id(m["statuses"], 3)["state"] = "resolved"
    m["options"]["long_threads"] = "drop"
    _by_id(m["staff"], 2)["admin_email"] = "nobody@example.com"  # a workspace problem
    assert _problems(m) == [
        "options.long_threads: 'drop' is not one of 'fold', 'keep'",
        "custom_fields.4.data_type: 'date' is not one of 'string', 'integer', 'list', "
        "'decimal', 'boolean', 'datetime'",
        "statuses.3.state: 'resolved' is not one of 'open', 'closed'",
    ]


def test_validate_list_needs_two_options_and_existing_clash() -> None:
    m = base_map()
    _by_id(m["custom_fields"], 2)["options"] = ["Red"]
    _by_id(m["custom_fields"], 1)["existing_id"] = None
    problems = "\n".join(_problems(m))
    assert "needs at least 2 options" in problems
    assert "'Order Number' already exists in Intercom" in problems

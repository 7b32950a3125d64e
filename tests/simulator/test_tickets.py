"""Tickets over HTTP: types, attributes, states, create, reply, update, search, delete."""

from __future__ import annotations

import base64

import httpx

from simulator.testing import SimulatorHandle
from tests.helpers.simulator import error_code


def _type(api: httpx.Client, name: str = "Hesk ticket") -> dict:
    created = api.post("/ticket_types", json={"name": name, "category": "Customer"})
    assert created.status_code == 200, created.text
    return created.json()


def _attribute(api: httpx.Client, type_id: str, **body: object) -> dict:
    answer = api.post(f"/ticket_types/{type_id}/attributes", json={"description": "d", **body})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_fresh_workspace_has_intercoms_default_states_and_seed_adds_more(
    api: httpx.Client,
    sim: SimulatorHandle,
) -> None:
    states = api.get("/ticket_states").json()["data"]
    assert [s["category"] for s in states] == [
        "submitted",
        "in_progress",
        "waiting_on_customer",
        "resolved",
    ]
    sim.seed(ticket_states=[{"category": "in_progress", "internal_label": "On hold"}])
    labels = [s["internal_label"] for s in api.get("/ticket_states").json()["data"]]
    assert labels[-1] == "On hold"


def test_types_have_default_attributes_and_names_are_unique(api: httpx.Client) -> None:
    ticket_type = _type(api)
    names = [a["name"] for a in ticket_type["ticket_type_attributes"]["data"]]
    assert names == ["_default_title_", "_default_description_"]
    again = api.post("/ticket_types", json={"name": "hesk TICKET"})
    assert again.status_code == 400
    listed = api.get("/ticket_types").json()["data"]
    assert [t["id"] for t in listed] == [ticket_type["id"]]
    prio = _attribute(api, ticket_type["id"], name="prio", data_type="list", list_items="Low,High")
    assert [o["label"] for o in prio["input_options"]["list_options"]] == ["Low", "High"]
    dup = api.post(
        f"/ticket_types/{ticket_type['id']}/attributes",
        json={"name": "PRIO", "description": "d", "data_type": "string"},
    )
    assert dup.status_code == 400
    no_description = api.post(
        f"/ticket_types/{ticket_type['id']}/attributes", json={"name": "x", "data_type": "string"}
    )
    assert no_description.status_code == 400  # the spec requires a description


def test_create_reply_update_search_delete(
    api: httpx.Client,
    sim: SimulatorHandle,
    contact: dict,
) -> None:
    ticket_type = _type(api)
    marker = _attribute(api, ticket_type["id"], name="hesk_trackid", data_type="string")
    _attribute(api, ticket_type["id"], name="count", data_type="integer")
    admin = sim.owner_admin_id
    body = {
        "ticket_type_id": ticket_type["id"],
        "contacts": [{"id": contact["id"]}],
        "created_at": 1500000000,
        "skip_notifications": True,
        "ticket_attributes": {
            "_default_title_": "Printer",
            "_default_description_": "Broken",
            "hesk_trackid": "ABC-123",
            "count": 3,
        },
        "assignment": {"admin_assignee_id": admin},
    }
    created = api.post("/tickets", json=body)
    assert created.status_code == 200, created.text
    ticket = created.json()
    assert ticket["created_at"] == 1500000000 and ticket["open"] is True
    assert ticket["ticket_state"]["category"] == "submitted"
    assert ticket["admin_assignee_id"] == admin
    # a value of the wrong type, an unknown attribute, a title too long: refused
    for bad in ({"count": "three"}, {"nope": "x"}, {"_default_title_": "x" * 256}):
        answer = api.post("/tickets", json={**body, "ticket_attributes": bad})
        assert answer.status_code == 400, bad
    data = base64.b64encode(b"log").decode()
    note = api.post(
        f"/tickets/{ticket['id']}/reply",
        json={
            "message_type": "note",
            "type": "admin",
            "admin_id": admin,
            "body": "<p>n</p>",
            "created_at": 1500000100,
            "skip_notifications": True,
            "attachment_files": [{"name": "a.txt", "content_type": "text/plain", "data": data}],
        },
    )
    assert note.status_code == 200, note.text
    assert note.json()["attachments"][0]["name"] == "a.txt"
    user = api.post(
        f"/tickets/{ticket['id']}/reply",
        json={
            "message_type": "comment",
            "type": "user",
            "intercom_user_id": contact["id"],
            "body": "thanks",
            "created_at": 1500000200,
            "skip_notifications": True,
        },
    )
    assert user.status_code == 200, user.text
    with_files = api.post(
        f"/tickets/{ticket['id']}/reply",
        json={
            "message_type": "comment",
            "type": "user",
            "intercom_user_id": contact["id"],
            "body": "f",
            "skip_notifications": True,
            "attachment_files": [{"name": "a.txt", "content_type": "text/plain", "data": data}],
        },
    )
    assert with_files.status_code == 400
    resolved = next(
        s for s in api.get("/ticket_states").json()["data"] if s["category"] == "resolved"
    )
    put = api.put(
        f"/tickets/{ticket['id']}",
        json={"ticket_state_id": resolved["id"], "open": False, "skip_notifications": True},
    )
    assert put.status_code == 200, put.text
    read = api.get(f"/tickets/{ticket['id']}").json()
    assert read["open"] is False and read["ticket_state"]["id"] == resolved["id"]
    kinds = [p["part_type"] for p in read["ticket_parts"]["ticket_parts"]]
    assert kinds == ["note", "comment", "ticket_state_updated_by_admin"]
    assert sim.stats()["notifications_sent"] == 0
    found = api.post(
        "/tickets/search",
        json={
            "query": {
                "field": f"ticket_attribute.{marker['id']}",
                "operator": "=",
                "value": "ABC-123",
            }
        },
    )
    assert [t["id"] for t in found.json()["tickets"]] == [ticket["id"]]
    dump = sim.dump()
    assert len(dump["tickets"]) == 1 and len(dump["ticket_types"]) == 1
    assert len(dump["tickets"][0]["ticket_parts"]["ticket_parts"]) == 3
    assert api.delete(f"/tickets/{ticket['id']}").json()["deleted"] is True
    gone = api.get(f"/tickets/{ticket['id']}")
    assert gone.status_code == 404 and error_code(gone) == "not_found"


def test_every_ticket_write_without_skip_notifications_counts_a_notification(
    api: httpx.Client,
    sim: SimulatorHandle,
    contact: dict,
) -> None:
    ticket_type = _type(api)
    ticket = api.post(
        "/tickets", json={"ticket_type_id": ticket_type["id"], "contacts": [{"id": contact["id"]}]}
    ).json()
    api.post(
        f"/tickets/{ticket['id']}/reply",
        json={"message_type": "note", "type": "admin", "admin_id": sim.owner_admin_id, "body": "x"},
    )
    api.put(f"/tickets/{ticket['id']}", json={"open": False})
    assert sim.stats()["notifications_sent"] == 3


def test_ticket_bodies_are_validated_against_the_description(api: httpx.Client) -> None:
    missing = api.post("/tickets", json={"contacts": []})
    assert missing.status_code == 400 and error_code(missing) == "parameter_not_found"
    wrong = api.put("/tickets/1", json={"open": "yes"})
    assert wrong.status_code == 400

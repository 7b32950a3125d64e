"""Conversations over HTTP: create, reply, parts, update, read limit, delete, search, tags."""

from __future__ import annotations

import base64
import re

import httpx

from simulator.testing import admin_headers
from tests.helpers.simulator import error_code


def test_create_answers_user_message(api: httpx.Client, contact: dict) -> None:
    response = api.post(
        "/conversations",
        json={
            "from": {"type": "user", "id": contact["id"]},
            "body": "Hello",
            "created_at": 1500000000,
        },
    )
    message = response.json()
    assert message["type"] == "user_message" and message["message_type"] == "inapp"
    assert re.fullmatch(r"[0-9a-f]{24}", message["conversation_id"])
    conv = api.get(f"/conversations/{message['conversation_id']}").json()
    assert conv["created_at"] == 1500000000 and conv["source"]["body"] == "Hello"
    assert conv["contacts"]["contacts"][0]["id"] == contact["id"]


def test_create_for_unknown_contact(api: httpx.Client) -> None:
    response = api.post(
        "/conversations",
        json={"from": {"type": "user", "id": "ffffffffffffffffffffffff"}, "body": "x"},
    )
    assert response.status_code == 404
    assert response.json()["errors"][0] == {"code": "not_found", "message": "User Not Found"}


def test_replies_notes_and_attachments(
    api: httpx.Client, sim, conversation: str, contact: dict
) -> None:
    admin_id = sim.owner_admin_id
    data = base64.b64encode(b"hello world").decode()
    reply = api.post(
        f"/conversations/{conversation}/reply",
        json={
            "message_type": "comment",
            "type": "admin",
            "admin_id": int(admin_id),
            "body": "On it",
            "created_at": 1600000100,
            "skip_notifications": True,
            "attachment_files": [{"name": "log.txt", "content_type": "text/plain", "data": data}],
            "attachment_urls": ["https://example.com/a.png"],
        },
    )
    assert reply.status_code == 200, reply.text
    part = reply.json()["conversation_parts"]["conversation_parts"][-1]
    assert part["part_type"] == "comment" and part["created_at"] == 1600000100
    assert part["author"]["type"] == "admin" and part["author"]["id"] == admin_id
    files = part["attachments"]
    assert files[0]["name"] == "log.txt" and files[0]["filesize"] == 11
    assert files[0]["content_type"] == "text/plain"
    assert httpx.get(files[0]["url"], headers=admin_headers(sim.token)).content == b"hello world"
    assert files[1]["url"] == "https://example.com/a.png"
    note = api.post(
        f"/conversations/{conversation}/reply",
        json={"message_type": "note", "type": "admin", "admin_id": admin_id, "body": "<b>x</b>"},
    )
    assert note.json()["conversation_parts"]["conversation_parts"][-1]["part_type"] == "note"
    user = api.post(
        f"/conversations/{conversation}/reply",
        json={
            "message_type": "comment",
            "type": "user",
            "intercom_user_id": contact["id"],
            "body": "Thanks",
            "created_at": 1600000200,
        },
    )
    last = user.json()["conversation_parts"]["conversation_parts"][-1]
    via_last = api.post(
        "/conversations/last/reply",
        json={"message_type": "comment", "type": "user", "email": "ANN@example.com", "body": "+1"},
    )
    assert via_last.status_code == 200 and via_last.json()["id"] == conversation
    assert last["author"] == {
        "type": "user",
        "id": contact["id"],
        "name": "Ann",
        "email": "ann@example.com",
    }
    too_many = api.post(
        f"/conversations/{conversation}/reply",
        json={
            "message_type": "comment",
            "type": "admin",
            "admin_id": admin_id,
            "body": "x",
            "attachment_files": [{"name": "a", "content_type": "text/plain", "data": data}] * 11,
        },
    )
    assert too_many.status_code == 400
    unknown = api.post(
        "/conversations/ffffffffffffffffffffffff/reply",
        json={"message_type": "note", "type": "admin", "admin_id": admin_id, "body": "x"},
    )
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["message"] == (
        "Resource Not Found"
    )


def test_notifications_sent(api: httpx.Client, sim, conversation: str) -> None:
    admin_id = sim.owner_admin_id
    for skip in (False, True, None):
        body = {"message_type": "comment", "type": "admin", "admin_id": admin_id, "body": "x"}
        if skip is not None:
            body["skip_notifications"] = skip
        assert api.post(f"/conversations/{conversation}/reply", json=body).status_code == 200
    api.post(
        f"/conversations/{conversation}/reply",
        json={"message_type": "note", "type": "admin", "admin_id": admin_id, "body": "internal"},
    )
    assert sim.stats()["notifications_sent"] == 2


def test_manage_parts(api: httpx.Client, sim, conversation: str) -> None:
    admin_id = sim.owner_admin_id
    team = sim.seed(teams=[{"name": "Billing"}])["teams"][0]
    url = f"/conversations/{conversation}/parts"
    closed = api.post(
        url, json={"message_type": "close", "type": "admin", "admin_id": admin_id}
    ).json()
    assert closed["state"] == "closed" and closed["open"] is False
    opened = api.post(url, json={"message_type": "open", "admin_id": admin_id}).json()
    assert opened["state"] == "open"
    snoozed = api.post(
        url, json={"message_type": "snoozed", "admin_id": admin_id, "snoozed_until": 2000000000}
    ).json()
    assert snoozed["state"] == "snoozed" and snoozed["snoozed_until"] == 2000000000
    to_admin = api.post(
        url,
        json={
            "message_type": "assignment",
            "type": "admin",
            "admin_id": admin_id,
            "assignee_id": admin_id,
        },
    ).json()
    assert to_admin["admin_assignee_id"] == admin_id
    to_team = api.post(
        url,
        json={
            "message_type": "assignment",
            "type": "team",
            "admin_id": admin_id,
            "assignee_id": int(team["id"]),
        },
    ).json()
    assert to_team["team_assignee_id"] == team["id"]
    kinds = [p["part_type"] for p in to_team["conversation_parts"]["conversation_parts"]]
    assert kinds == ["close", "open", "snoozed", "assignment", "assignment"]
    bad_admin = api.post(url, json={"message_type": "close", "type": "admin", "admin_id": "999"})
    assert bad_admin.status_code == 404


def test_update_custom_attributes(api: httpx.Client, conversation: str) -> None:
    url = f"/conversations/{conversation}"
    unknown = api.put(url, json={"custom_attributes": {"hesk_priority": "high"}})
    assert unknown.status_code == 400 and error_code(unknown) == "parameter_invalid"
    for name, data_type in (("hesk_priority", "string"), ("vip", "boolean"), ("score", "decimal")):
        created = api.post("/conversations/attributes", json={"name": name, "data_type": data_type})
        assert created.status_code == 200, created.text
    ok = api.put(
        url,
        json={
            "title": "Fire",
            "custom_attributes": {"hesk_priority": "high", "vip": True, "score": 155.5},
        },
    )
    assert ok.status_code == 200, ok.text  # boolean and number accepted (spec too narrow)
    assert ok.json()["title"] == "Fire" and ok.json()["custom_attributes"]["vip"] is True


def test_500_part_limit_and_dump_has_all(api: httpx.Client, sim, conversation: str) -> None:
    for i in range(520):
        reply = api.post(
            f"/conversations/{conversation}/reply",
            json={
                "message_type": "note",
                "type": "admin",
                "admin_id": sim.owner_admin_id,
                "body": f"n{i}",
                "created_at": 1600000000 + i,
            },
        )
        assert reply.status_code == 200
    got = api.get(f"/conversations/{conversation}").json()
    parts = got["conversation_parts"]["conversation_parts"]
    assert len(parts) == 500 and parts[0]["body"] == "n20" and parts[-1]["body"] == "n519"
    dumped = next(c for c in sim.dump()["conversations"] if c["id"] == conversation)
    assert len(dumped["conversation_parts"]["conversation_parts"]) == 520


def test_delete_and_list(api: httpx.Client, contact: dict) -> None:
    ids = [
        api.post(
            "/conversations", json={"from": {"type": "user", "id": contact["id"]}, "body": f"m{i}"}
        ).json()["conversation_id"]
        for i in range(5)
    ]
    page1 = api.get("/conversations", params={"per_page": 2}).json()
    assert page1["type"] == "conversation.list" and page1["total_count"] == 5
    page2 = api.get(
        "/conversations",
        params={"per_page": 2, "starting_after": page1["pages"]["next"]["starting_after"]},
    ).json()
    assert [c["id"] for c in page1["conversations"] + page2["conversations"]] == ids[:4]
    deleted = api.delete(f"/conversations/{ids[0]}").json()
    assert deleted == {"id": ids[0], "object": "conversation", "deleted": True}
    assert api.get(f"/conversations/{ids[0]}").status_code == 404


def test_search_operators(api: httpx.Client, contact: dict) -> None:
    other = api.post("/contacts", json={"email": "bob@example.com"}).json()
    made = {}
    for who, stamp, body in (
        (contact, 100, "Printer broken"),
        (contact, 200, "Scanner"),
        (other, 300, "printer again"),
    ):
        made[stamp] = api.post(
            "/conversations",
            json={"from": {"type": "user", "id": who["id"]}, "body": body, "created_at": stamp},
        ).json()["conversation_id"]

    def search(query: dict, **pagination: int | str) -> dict:
        body = {"query": query, **({"pagination": pagination} if pagination else {})}
        response = api.post("/conversations/search", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def ids(query: dict) -> set[str]:
        return {c["id"] for c in search(query)["conversations"]}

    f = lambda field, op, value: {"field": field, "operator": op, "value": value}  # noqa: E731
    assert ids(f("contact_ids", "=", contact["id"])) == {made[100], made[200]}
    assert ids(f("created_at", "=", 200)) == {made[200]}
    assert ids(f("created_at", "!=", 200)) == {made[100], made[300]}
    assert ids(f("created_at", ">", 200)) == {made[200], made[300]}  # documented: >= for convs
    assert ids(f("created_at", ">=", 201)) == {made[300]}
    assert ids(f("created_at", "<", 200)) == {made[100], made[200]}
    assert ids(f("created_at", "<=", 100)) == {made[100]}
    assert ids(f("id", "IN", [made[100], made[300]])) == {made[100], made[300]}
    assert ids(f("id", "NIN", [made[100]])) == {made[200], made[300]}
    assert ids(f("source.body", "~", "printer")) == {made[100], made[300]}
    assert ids(f("source.body", "!~", "printer")) == {made[200]}
    assert ids(f("source.body", "^", "Scan")) == {made[200]}
    assert ids(f("source.body", "$", "again")) == {made[300]}
    api.put(f"/conversations/{made[200]}", json={"title": "Scanner jam"})
    assert ids(f("title", "=", "scanner JAM")) == {made[200]}
    nested = {
        "operator": "AND",
        "value": [
            f("contact_ids", "=", contact["id"]),
            {"operator": "OR", "value": [f("created_at", "=", 100), f("created_at", "=", 300)]},
        ],
    }
    assert ids(nested) == {made[100]}
    first = search(f("created_at", ">", 0), per_page=2)
    assert first["total_count"] == 3 and len(first["conversations"]) == 2
    rest = search(
        f("created_at", ">", 0), per_page=2, starting_after=first["pages"]["next"]["starting_after"]
    )
    assert len(rest["conversations"]) == 1 and "next" not in rest["pages"]
    bad = api.post("/conversations/search", json={"query": f("created_at", "LIKE", 1)})
    assert bad.status_code == 400


def test_tag_conversation(api: httpx.Client, sim, conversation: str) -> None:
    tag = api.post("/tags", json={"name": "Billing"}).json()
    assert api.post("/tags", json={"name": "BILLING"}).json()["id"] == tag["id"]
    missing_admin = api.post(f"/conversations/{conversation}/tags", json={"id": tag["id"]})
    assert missing_admin.status_code == 400
    ok = api.post(
        f"/conversations/{conversation}/tags",
        json={"id": int(tag["id"]), "admin_id": int(sim.owner_admin_id)},
    )
    assert ok.status_code == 200
    conv = api.get(f"/conversations/{conversation}").json()
    assert [t["name"] for t in conv["tags"]["tags"]] == ["Billing"]
    assert api.delete(f"/tags/{tag['id']}").status_code == 200
    assert api.get("/tags").json()["data"] == []

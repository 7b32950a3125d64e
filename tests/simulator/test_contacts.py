"""Contacts over HTTP: CRUD, 409 conflicts, pagination, search, notes and tags."""

from __future__ import annotations

import re

import httpx

from tests.helpers.simulator import error_code


def test_create_read_update_delete(api: httpx.Client, contact: dict) -> None:
    assert re.fullmatch(r"[0-9a-f]{24}", contact["id"])
    assert contact["type"] == "contact" and contact["role"] == "user"
    got = api.get(f"/contacts/{contact['id']}").json()
    assert got["email"] == "ann@example.com"
    updated = api.put(f"/contacts/{contact['id']}", json={"name": "Ann B", "phone": "+1"})
    assert updated.status_code == 200 and updated.json()["name"] == "Ann B"
    found = api.get("/contacts/find_by_external_id/hesk:customer:1")
    assert found.json()["id"] == contact["id"]
    deleted = api.delete(f"/contacts/{contact['id']}").json()
    assert deleted == {
        "id": contact["id"],
        "external_id": "hesk:customer:1",
        "type": "contact",
        "deleted": True,
    }
    missing = api.get(f"/contacts/{contact['id']}")
    assert missing.status_code == 404 and error_code(missing) == "not_found"
    assert api.get("/contacts/find_by_external_id/hesk:customer:1").status_code == 404


def test_conflict_on_create_is_case_insensitive(api: httpx.Client, contact: dict) -> None:
    response = api.post("/contacts", json={"email": "ANN@Example.COM"})
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["code"] == "conflict"
    assert error["message"] == (
        f"A contact matching those details already exists with id={contact['id']}"
    )
    dup_ext = api.post("/contacts", json={"external_id": "hesk:customer:1", "role": "user"})
    assert dup_ext.status_code == 409 and contact["id"] in dup_ext.text


def test_conflict_on_update(api: httpx.Client, contact: dict) -> None:
    other = api.post("/contacts", json={"email": "bob@example.com"}).json()
    response = api.put(f"/contacts/{other['id']}", json={"email": "Ann@example.com"})
    assert response.status_code == 409
    assert f"id={contact['id']}" in response.json()["errors"][0]["message"]
    same = api.put(f"/contacts/{contact['id']}", json={"email": "ANN@example.com"})
    assert same.status_code == 200  # its own email is no conflict


def test_pagination(api: httpx.Client) -> None:
    for i in range(7):
        assert api.post("/contacts", json={"email": f"p{i}@example.com"}).status_code == 200
    seen, cursor = [], None
    while True:
        params = {"per_page": 3, **({"starting_after": cursor} if cursor else {})}
        body = api.get("/contacts", params=params).json()
        assert body["total_count"] == 7 and body["pages"]["per_page"] == 3
        seen += [c["email"] for c in body["data"]]
        nxt = body["pages"].get("next")
        if not nxt:
            break
        cursor = nxt["starting_after"]
    assert seen == [f"p{i}@example.com" for i in range(7)]
    too_big = api.get("/contacts", params={"per_page": 151})
    assert too_big.status_code == 400 and error_code(too_big) == "parameter_invalid"


def test_search_contacts(api: httpx.Client, contact: dict) -> None:
    api.post("/contacts", json={"email": "bob@other.org", "role": "lead"})
    body = api.post(
        "/contacts/search", json={"query": {"field": "email", "operator": "~", "value": "example"}}
    ).json()
    assert [c["id"] for c in body["data"]] == [contact["id"]]
    body = api.post(
        "/contacts/search",
        json={
            "query": {
                "operator": "OR",
                "value": [
                    {"field": "role", "operator": "=", "value": "lead"},
                    {"field": "external_id", "operator": "=", "value": "hesk:customer:1"},
                ],
            }
        },
    ).json()
    assert body["total_count"] == 2


def test_notes_and_tags(api: httpx.Client, sim, contact: dict) -> None:
    note = api.post(
        f"/contacts/{contact['id']}/notes",
        json={"body": "VIP", "admin_id": int(sim.owner_admin_id)},
    )
    assert note.status_code == 200 and note.json()["type"] == "note"
    tag = api.post("/tags", json={"name": "Hesk"}).json()
    tagged = api.post(f"/contacts/{contact['id']}/tags", json={"id": tag["id"]})
    assert tagged.json()["id"] == tag["id"]
    got = api.get(f"/contacts/{contact['id']}").json()
    assert [t["id"] for t in got["tags"]["data"]] == [tag["id"]]
    assert got["notes"]["total_count"] == 1
    unknown = api.post("/contacts/ffffffffffffffffffffffff/notes", json={"body": "x"})
    assert unknown.status_code == 404


def test_custom_attributes_must_exist(api: httpx.Client, contact: dict) -> None:
    bad = api.put(f"/contacts/{contact['id']}", json={"custom_attributes": {"hesk_id": "1"}})
    assert bad.status_code == 400 and error_code(bad) == "parameter_invalid"
    created = api.post(
        "/data_attributes", json={"name": "hesk_id", "model": "contact", "data_type": "string"}
    )
    assert created.status_code == 200
    ok = api.put(f"/contacts/{contact['id']}", json={"custom_attributes": {"hesk_id": "1"}})
    assert ok.json()["custom_attributes"] == {"hesk_id": "1"}

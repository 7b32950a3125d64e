"""Help center, data attributes and conversation attributes over HTTP."""

from __future__ import annotations

import httpx


def test_collections_and_articles(sim, api: httpx.Client) -> None:
    centers = api.get("/help_center/help_centers").json()["data"]
    assert len(centers) == 1
    top = api.post("/help_center/collections", json={"name": "FAQ"}).json()
    child = api.post(
        "/help_center/collections", json={"name": "Billing", "parent_id": top["id"]}
    ).json()
    assert child["parent_id"] == top["id"] and top["type"] == "collection"
    missing_name = api.post("/help_center/collections", json={"name": ""})
    assert missing_name.status_code == 400
    article = api.post(
        "/articles",
        json={
            "title": "Reset password",
            "body": "<p>Do this</p>",
            "author_id": int(sim.owner_admin_id),
            "state": "published",
            "parent_id": int(child["id"]),
            "parent_type": "collection",
        },
    ).json()
    assert article["parent_ids"] == [int(child["id"])] and "parent_id" not in article
    no_author = api.post("/articles", json={"title": "x"})
    assert no_author.status_code == 400
    updated = api.put(f"/articles/{article['id']}", json={"title": "Reset it"}).json()
    assert updated["title"] == "Reset it" and updated["state"] == "published"
    found = api.get("/articles/search", params={"phrase": "reset"}).json()
    assert found["data"]["articles"][0]["id"] == article["id"]
    assert api.get("/articles").json()["total_count"] == 1
    renamed = api.put(f"/help_center/collections/{child['id']}", json={"name": "Pay"}).json()
    assert renamed["name"] == "Pay"
    assert api.get(f"/help_center/collections/{child['id']}").json()["name"] == "Pay"
    assert api.delete(f"/articles/{article['id']}").json() == {
        "id": article["id"],
        "object": "article",
        "deleted": True,
    }
    assert api.delete(f"/help_center/collections/{child['id']}").json()["deleted"] is True
    assert api.get(f"/help_center/collections/{child['id']}").status_code == 404
    assert api.get("/help_center/collections").json()["total_count"] == 1


def test_data_attributes(api: httpx.Client) -> None:
    made = api.post(
        "/data_attributes",
        json={
            "name": "plan",
            "model": "contact",
            "data_type": "options",
            "options": [{"value": "a"}, {"value": "b"}],
        },
    )
    assert made.status_code == 200, made.text
    attribute = made.json()
    assert attribute["options"] == ["a", "b"] and attribute["type"] == "data_attribute"
    dup = api.post(
        "/data_attributes", json={"name": "plan", "model": "contact", "data_type": "string"}
    )
    assert dup.status_code == 400 and "already have 'plan'" in dup.text
    archived = api.put(f"/data_attributes/{attribute['id']}", json={"archived": True}).json()
    assert archived["archived"] is True
    assert api.get("/data_attributes", params={"model": "contact"}).json()["data"] == []
    assert api.get("/data_attributes", params={"model": "conversation"}).status_code == 422


def test_conversation_attributes(api: httpx.Client) -> None:
    made = api.post(
        "/conversations/attributes",
        json={
            "name": "Category",
            "data_type": "list",
            "options": [{"label": "Billing"}, {"label": "Tech"}],
        },
    )
    assert made.status_code == 200, made.text
    attr_id = made.json()["id"]
    option = api.post(f"/conversations/attributes/{attr_id}/options", json={"label": "Sales"})
    assert [o["label"] for o in option.json()["options"]] == ["Billing", "Tech", "Sales"]
    got = api.get(f"/conversations/attributes/{attr_id}").json()
    assert got["name"] == "Category"
    put = api.put(f"/conversations/attributes/{attr_id}", json={"description": "Hesk cat"})
    assert put.json()["description"] == "Hesk cat"
    assert len(api.get("/conversations/attributes").json()["data"]) == 1
    assert api.delete(f"/conversations/attributes/{attr_id}").json()["archived"] is True
    assert api.get("/conversations/attributes").json()["data"] == []
    assert api.get("/conversations/attributes/999999").status_code == 404

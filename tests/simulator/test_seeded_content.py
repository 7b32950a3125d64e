"""A workspace seeded with the customer's own content, and faults aimed at some operations."""

from __future__ import annotations

import httpx
import pytest

from simulator.faults import FaultConfig


def test_seed_creates_tags_attributes_collections_and_articles(sim) -> None:
    owner = int(sim.owner_admin_id)
    made = sim.seed(
        contacts=[{"email": "ann@example.com"}],
        tags=[{"name": "VIP"}],
        conversation_attributes=[{"name": "plan", "data_type": "string"}],
        data_attributes=[{"name": "tier", "model": "contact", "data_type": "string"}],
        collections=[{"name": "Guides"}, {"name": "Billing", "parent_name": "Guides"}],
        articles=[{"title": "Pay", "parent_name": "Billing", "author_id": owner}],
    )
    guides, billing = made["collections"]
    assert billing["parent_id"] == guides["id"]
    assert made["articles"][0]["parent_ids"] == [int(billing["id"])]
    assert [c["email"] for c in made["contacts"]] == ["ann@example.com"]
    dump = sim.dump()
    for kind in ("tags", "conversation_attributes", "data_attributes", "collections", "articles"):
        assert dump[kind] == made[kind], kind


def test_seed_refuses_what_the_api_refuses(sim) -> None:
    with pytest.raises(httpx.HTTPStatusError) as refused:
        sim.seed(articles=[{"title": "No author"}])
    assert refused.value.response.status_code == 400
    with pytest.raises(httpx.HTTPStatusError) as refused:
        sim.seed(collections=[{"name": "Orphan", "parent_name": "Nowhere"}])
    assert "parent_name" in refused.value.response.text
    assert sim.dump()["collections"] == [] and sim.dump()["articles"] == []


def test_post_tags_answers_an_existing_tag_as_if_it_were_new(sim, api: httpx.Client) -> None:
    existing = sim.seed(tags=[{"name": "Hesk: Billing"}])["tags"][0]
    answer = api.post("/tags", json={"name": "HESK: billing"})
    assert answer.status_code == 200 and answer.json() == existing  # no way to tell
    assert sim.dump()["tags"] == [existing]


def test_faults_only_on_the_operations_named(sim, api: httpx.Client) -> None:
    sim.set_faults(rate_lost_response=1.0, lost_response_mode="502", only=["POST /tags"])
    assert api.post("/tags", json={"name": "Lost"}).status_code == 502  # applied, answer lost
    assert api.get("/tags").status_code == 200
    assert api.post("/contacts", json={"email": "kept@example.com"}).status_code == 200
    assert [t["name"] for t in sim.dump()["tags"]] == ["Lost"]
    assert sim.stats()["faults_injected"]["rate_lost_response"] == 1
    assert FaultConfig.parse("rate_5xx=1,only=POST /tags|GET  /tags").only == (
        "POST /tags",
        "GET /tags",
    )

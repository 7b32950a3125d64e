"""The /_sim admin API and --state persistence."""

from __future__ import annotations

import httpx

from simulator.testing import running_simulator


def test_dump_shapes(sim, api: httpx.Client, conversation: str) -> None:
    api.post("/tags", json={"name": "t"})
    dump = sim.dump()
    assert set(dump) == {"contacts", "conversations", "articles", "collections",
                         "data_attributes", "conversation_attributes", "tags", "admins", "teams"}
    conv = dump["conversations"][0]
    assert conv == api.get(f"/conversations/{conversation}").json()
    assert dump["contacts"][0]["type"] == "contact"
    assert dump["admins"][0]["id"] == sim.owner_admin_id


def test_stats_shape(sim, api: httpx.Client) -> None:
    api.get("/me")
    api.get("/contacts/ffffffffffffffffffffffff")
    stats = sim.stats()
    assert stats["requests"]["GET /me"] == {"200": 1}
    assert stats["requests"]["GET /contacts/{contact_id}"] == {"404": 1}
    assert stats["rate_limited"] == 0 and stats["notifications_sent"] == 0
    assert set(stats["faults_injected"]) == {"rate_429", "rate_5xx", "rate_timeout",
                                             "rate_lost_response"}


def test_seed_and_reset(sim, api: httpx.Client) -> None:
    seeded = sim.seed(admins=[{"name": "Ann", "email": "ann@corp.example"}],
                      teams=[{"name": "Support"}],
                      contacts=[{"email": "c@example.com", "name": "C", "role": "lead"}])
    admin_id = seeded["admins"][0]["id"]
    assert api.get(f"/admins/{admin_id}").json()["email"] == "ann@corp.example"
    assert api.get(f"/teams/{seeded['teams'][0]['id']}").json()["name"] == "Support"
    assert seeded["contacts"][0]["role"] == "lead"
    assert len(api.get("/admins").json()["admins"]) == 2
    assert api.get("/me").json()["id"] == sim.owner_admin_id
    sim.reset()
    dump = sim.dump()
    assert dump["contacts"] == [] and len(dump["admins"]) == 1
    assert api.get("/teams").json() == {"type": "team.list", "teams": []}
    assert api.get("/admins/424242").status_code == 404


def test_state_survives_restart(tmp_path) -> None:
    state = tmp_path / "sim.json"
    with running_simulator(state_file=state) as sim, sim.client() as api:
        contact = api.post("/contacts", json={"email": "keep@example.com"}).json()
        conv = api.post("/conversations", json={"from": {"type": "user", "id": contact["id"]},
                                                "body": "hi"}).json()["conversation_id"]
        api.post(f"/conversations/{conv}/reply", json={
            "message_type": "note", "type": "admin", "admin_id": sim.owner_admin_id,
            "body": "kept"})
        owner = sim.owner_admin_id
    assert state.exists()
    with running_simulator(state_file=state) as sim, sim.client() as api:
        again = api.get(f"/conversations/{conv}").json()
        assert again["conversation_parts"]["conversation_parts"][0]["body"] == "kept"
        assert api.post("/contacts", json={"email": "KEEP@example.com"}).status_code == 409
        assert sim.owner_admin_id == owner
        new = api.post("/tags", json={"name": "fresh"}).json()  # ids keep counting up
        assert int(new["id"]) > int(owner)


def test_state_is_saved_while_running(tmp_path) -> None:
    import json
    import time

    state = tmp_path / "live.json"
    with running_simulator(state_file=state) as sim, sim.client() as api:
        sim.app.save_interval = 0.1  # the saver reads it on each round
        api.post("/contacts", json={"email": "early@example.com"})
        deadline = time.monotonic() + 5
        while not state.exists() or "early@example.com" not in state.read_text():
            assert time.monotonic() < deadline, "state was not saved while running"
            time.sleep(0.05)
        assert json.loads(state.read_text())["format"] == 1

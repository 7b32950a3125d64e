"""The /_sim admin API (token, JSON body, Host guard) and --state persistence."""

from __future__ import annotations

import base64

import httpx
import pytest

from simulator.hosts import HostGuard
from simulator.testing import admin_headers
from tests.helpers.simulator import error_code, simulator_with


def test_dump_shapes(sim, api: httpx.Client, conversation: str) -> None:
    api.post("/tags", json={"name": "t"})
    dump = sim.dump()
    assert set(dump) == {
        "contacts",
        "conversations",
        "articles",
        "collections",
        "data_attributes",
        "conversation_attributes",
        "tags",
        "admins",
        "teams",
        "tickets",
        "ticket_types",
        "ticket_states",
    }
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
    assert set(stats["faults_injected"]) == {
        "rate_429",
        "rate_5xx",
        "rate_timeout",
        "rate_lost_response",
        "storm_429",
    }


def test_seed_and_reset(sim, api: httpx.Client) -> None:
    seeded = sim.seed(
        admins=[{"name": "Ann", "email": "ann@corp.example"}],
        teams=[{"name": "Support"}],
        contacts=[{"email": "c@example.com", "name": "C", "role": "lead"}],
    )
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
    with simulator_with(state_file=state) as sim, sim.client() as api:
        contact = api.post("/contacts", json={"email": "keep@example.com"}).json()
        conv = api.post(
            "/conversations", json={"from": {"type": "user", "id": contact["id"]}, "body": "hi"}
        ).json()["conversation_id"]
        api.post(
            f"/conversations/{conv}/reply",
            json={
                "message_type": "note",
                "type": "admin",
                "admin_id": sim.owner_admin_id,
                "body": "kept",
            },
        )
        owner = sim.owner_admin_id
    assert state.exists()
    with simulator_with(state_file=state) as sim, sim.client() as api:
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
    with simulator_with(state_file=state) as sim, sim.client() as api:
        sim.app.save_interval = 0.1  # the saver reads it on each round
        api.post("/contacts", json={"email": "early@example.com"})
        deadline = time.monotonic() + 5
        while not state.exists() or "early@example.com" not in state.read_text():
            assert time.monotonic() < deadline, "state was not saved while running"
            time.sleep(0.05)
        assert json.loads(state.read_text())["format"] == 1


ADMIN_CALLS = [
    ("GET", "/_sim/dump"),
    ("GET", "/_sim/stats"),
    ("GET", "/_sim/faults"),
    ("POST", "/_sim/reset"),
    ("POST", "/_sim/faults"),
    ("POST", "/_sim/seed"),
]


def _attachment_url(api: httpx.Client, conversation: str, owner: str) -> str:
    reply = api.post(
        f"/conversations/{conversation}/reply",
        json={
            "message_type": "note",
            "type": "admin",
            "admin_id": owner,
            "body": "log",
            "attachment_files": [
                {
                    "name": "a.txt",
                    "content_type": "text/plain",
                    "data": base64.b64encode(b"secret").decode(),
                }
            ],
        },
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["conversation_parts"]["conversation_parts"][-1]["attachments"][0]["url"]


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_every_admin_endpoint_needs_the_simulators_token(
    sim, api: httpx.Client, conversation: str, token: str | None
) -> None:
    url = _attachment_url(api, conversation, sim.owner_admin_id)
    api.post("/contacts", json={"email": "kept@example.com"})
    headers = admin_headers(token) if token else {}
    for method, path in [*ADMIN_CALLS, ("GET", url.removeprefix(sim.base_url))]:
        body = {} if method == "POST" else None
        response = httpx.request(method, sim.base_url + path, json=body, headers=headers)
        assert response.status_code == 401, (method, path)
        assert error_code(response) == "unauthorized"
    assert len(sim.dump()["contacts"]) == 2  # the refused reset changed nothing
    assert httpx.get(url, headers=admin_headers(sim.token)).content == b"secret"


def test_admin_posts_need_a_json_object(sim, api: httpx.Client) -> None:
    api.post("/contacts", json={"email": "kept@example.com"})
    auth = admin_headers(sim.token)
    cases = [
        ({}, b"", 415, "unsupported_media_type"),  # no content type at all
        ({"content-type": "text/plain"}, b"{}", 415, "unsupported_media_type"),
        (
            {"content-type": "application/x-www-form-urlencoded"},
            b"a=1",
            415,
            "unsupported_media_type",
        ),
        ({"content-type": "application/json"}, b"", 400, "bad_request"),
        ({"content-type": "application/json"}, b"{not json", 400, "bad_request"),
        ({"content-type": "application/json"}, b"[1, 2]", 400, "bad_request"),
        ({"content-type": "application/json"}, b"null", 400, "bad_request"),
    ]
    for path in ("/_sim/reset", "/_sim/seed", "/_sim/faults"):
        for headers, content, status, code in cases:
            response = httpx.post(sim.base_url + path, content=content, headers={**auth, **headers})
            assert response.status_code == status, (path, headers, content)
            assert error_code(response) == code
    assert len(sim.dump()["contacts"]) == 1  # no refused reset went through
    ok = httpx.post(
        sim.base_url + "/_sim/reset",
        json={},
        headers={**auth, "content-type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 200 and sim.dump()["contacts"] == []


def test_a_foreign_host_header_is_refused(sim) -> None:
    port = sim.base_url.rsplit(":", 1)[1]
    auth = admin_headers(sim.token)
    for host in (
        "evil.example",
        f"evil.example:{port}",
        f"127.0.0.1.evil.example:{port}",
        "localhost.evil.example",
        "",
    ):
        for method, path in ADMIN_CALLS:
            body = {} if method == "POST" else None
            response = httpx.request(
                method, sim.base_url + path, json=body, headers={**auth, "Host": host}
            )
            assert response.status_code == 421, (host, path)
            assert error_code(response) == "misdirected_request"
    for host in (
        f"127.0.0.1:{port}",
        f"localhost:{port}",
        f"LOCALHOST:{port}",
        f"[::1]:{port}",
        "localhost",
        "localhost.",
    ):
        response = httpx.get(sim.base_url + "/_sim/stats", headers={**auth, "Host": host})
        assert response.status_code == 200, host
    # Intercom paths are unchanged: the token guards them
    me = httpx.get(sim.base_url + "/me", headers={**sim.headers, "Host": "evil.example"})
    assert me.status_code == 200


def test_allow_host_adds_a_name() -> None:
    with simulator_with(allowed_hosts=("simulator",)) as sim:
        auth = admin_headers(sim.token)
        for host, status in (("simulator:8000", 200), ("Simulator", 200), ("other", 421)):
            response = httpx.get(sim.base_url + "/_sim/stats", headers={**auth, "Host": host})
            assert response.status_code == status, host


def test_host_guard_by_listening_address() -> None:
    loopback = HostGuard.listening_on("127.0.0.1")
    assert loopback.allows(b"localhost:8088") and loopback.allows(b"[::1]")
    assert not loopback.allows(b"10.0.0.5:8088") and not loopback.allows(None)
    every = HostGuard.listening_on("0.0.0.0", ["simulator"])
    assert every.allows(b"10.0.0.5:8000") and every.allows(b"[fe80::1]:8000")
    assert every.allows(b"simulator:8000") and every.allows(b"localhost")
    assert not every.allows(b"rebound.example:8000")
    one = HostGuard.listening_on("192.168.1.20")
    assert one.allows(b"192.168.1.20:8088") and not one.allows(b"localhost:8088")

"""Validation against the shipped subset of Intercom's description, and bad input."""

from __future__ import annotations

import base64
import json
import socket

import httpx

from simulator.make_subset import (
    OPERATIONS,
    OUTPUT,
    SOURCE,
    VENDORED_SOURCE,
    build_subset,
    load_description,
    render_subset,
)
from simulator.validation import load_subset
from tests.helpers.simulator import error_code, simulator_with


def test_subset_matches_the_official_description() -> None:
    """The shipped subset is, byte for byte, a fresh extraction from the vendored original."""
    shipped = load_subset()
    assert shipped["info"]["x-subset-of"] == SOURCE
    fresh = build_subset(load_description(VENDORED_SOURCE))
    assert json.loads(json.dumps(fresh)) == shipped
    assert render_subset(fresh) == OUTPUT.read_text(encoding="utf-8")
    assert {
        (m, p) for p, item in shipped["paths"].items() for m in item if m != "parameters"
    } == set(OPERATIONS)


def test_rejects_what_the_spec_rejects(sim, api: httpx.Client, conversation: str) -> None:
    wrong_type = api.post("/contacts", json={"email": 5})
    assert wrong_type.status_code == 400 and error_code(wrong_type) == "parameter_invalid"
    no_from = api.post("/conversations", json={"body": "x"})
    assert no_from.status_code == 400 and error_code(no_from) == "parameter_not_found"
    bad_enum = api.post(
        f"/conversations/{conversation}/reply",
        json={"message_type": "shout", "type": "admin", "admin_id": "1", "body": "x"},
    )
    assert bad_enum.status_code == 400
    too_many_urls = api.post(
        "/conversations",
        json={
            "from": {"type": "user", "id": "a" * 24},
            "body": "x",
            "attachment_urls": [f"https://e.com/{i}.png" for i in range(11)],
        },
    )
    assert too_many_urls.status_code == 400
    bad_collection = api.post("/help_center/collections", json={"description": "no name"})
    assert bad_collection.status_code == 400


def test_accepts_known_spec_defects(
    sim, api: httpx.Client, conversation: str, contact: dict
) -> None:
    admin = int(sim.owner_admin_id)  # integer admin ids, where the spec says string
    ok = api.post(
        f"/conversations/{conversation}/parts",
        json={
            "message_type": "assignment",
            "type": "admin",
            "admin_id": admin,
            "assignee_id": admin,
        },
    )
    assert ok.status_code == 200, ok.text
    # from.id is "format: uuid" in the spec; real ids are 24-hex
    created = api.post(
        "/conversations", json={"from": {"type": "user", "id": contact["id"]}, "body": "x"}
    )
    assert created.status_code == 200, created.text
    tag = api.post("/tags", json={"name": "n"}).json()
    assert (
        api.post(
            f"/conversations/{conversation}/tags", json={"id": int(tag["id"]), "admin_id": admin}
        ).status_code
        == 200
    )


def test_bad_input_gets_error_envelope(sim, api: httpx.Client) -> None:
    malformed = api.post(
        "/contacts", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.json()["type"] == "error.list"
    not_object = api.post("/contacts", json=[1, 2])
    assert not_object.status_code == 400
    host, port = sim.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(
            b"POST /contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + sim.token.encode()
            + b"\r\nContent-Length: "
            + str(60 * 2**20).encode()
            + b"\r\n\r\n"
        )
        head = ""
        while "error.list" not in head and (chunk := raw.recv(65536)):
            head += chunk.decode()
    assert head.startswith("HTTP/1.1 413") and "error.list" in head
    unknown = api.get("/nope")
    assert unknown.status_code == 404 and unknown.json()["type"] == "error.list"
    assert api.get("/me").status_code == 200  # still serving


def test_huge_streamed_body_is_refused(sim, api: httpx.Client) -> None:
    def chunks():
        block = b"x" * 2**20
        for _ in range(55):
            yield block

    try:
        response = api.post("/contacts", content=chunks())
        assert response.status_code == 413
    except httpx.TransportError:
        pass  # the server may close while we are still sending; it must stay up
    assert api.get("/me").status_code == 200


def test_validation_can_be_switched_off() -> None:
    with simulator_with(validate=False) as sim, sim.client() as api:
        contact = api.post("/contacts", json={"email": "a@example.com", "bogus": {"x": 1}})
        assert contact.status_code == 200


def test_the_body_limit_is_a_setting() -> None:
    limit = 20_000
    with simulator_with(max_body_bytes=limit) as sim, sim.client() as api:
        contact = api.post("/contacts", json={"email": "big@example.com"}).json()
        conversation = api.post(
            "/conversations", json={"from": {"type": "user", "id": contact["id"]}, "body": "hi"}
        ).json()["conversation_id"]

        def reply(size: int) -> httpx.Response:
            data = base64.b64encode(bytes(size)).decode()
            return api.post(
                f"/conversations/{conversation}/reply",
                json={
                    "message_type": "comment",
                    "type": "user",
                    "intercom_user_id": contact["id"],
                    "body": "file",
                    "attachment_files": [
                        {"name": "a.bin", "content_type": "application/octet-stream", "data": data}
                    ],
                },
            )

        assert reply(14_000).status_code == 200  # 18.7 KB as base64: fits
        refused = reply(15_000)  # 20 KB of base64 and the rest of the body: over
        assert refused.status_code == 413
        assert refused.json()["errors"][0] == {
            "code": "request_too_large",
            "message": f"The request body exceeds {limit} bytes",
        }
        parts = api.get(f"/conversations/{conversation}").json()["conversation_parts"]
        assert parts["total_count"] == 1  # the refused reply wrote nothing

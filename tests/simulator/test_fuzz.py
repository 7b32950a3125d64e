"""Arbitrary JSON bodies never crash the simulator: a 4xx in Intercom's envelope, never a
5xx or a hang, with validation on and off (off: a body of the wrong shape is a 400)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.simulator import simulator_with

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=12,
)
fields = st.sampled_from(
    [
        "email",
        "external_id",
        "role",
        "from",
        "body",
        "type",
        "message_type",
        "admin_id",
        "assignee_id",
        "custom_attributes",
        "created_at",
        "name",
        "query",
        "pagination",
        "id",
        "parent_id",
        "author_id",
        "options",
        "data_type",
        "model",
        "attachment_files",
        "label",
        "title",
    ]
)
bodies = json_values | st.dictionaries(fields, json_values, max_size=6)
PATHS = [
    "/contacts",
    "/conversations",
    "/conversations/search",
    "/contacts/search",
    "/tags",
    "/data_attributes",
    "/conversations/attributes",
    "/help_center/collections",
    "/articles",
    "REPLY",
    "PARTS",
    "PUTCONV",
]


def _check(sim, validate: bool) -> None:
    with sim.client(timeout=10) as api:
        contact = api.post("/contacts", json={"email": "f@example.com"}).json()
        conv = api.post(
            "/conversations", json={"from": {"type": "user", "id": contact["id"]}, "body": "x"}
        ).json()["conversation_id"]

        @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(path=st.sampled_from(PATHS), body=bodies)
        def run(path: str, body: object) -> None:
            method = "POST"
            if path == "REPLY":
                path = f"/conversations/{conv}/reply"
            elif path == "PARTS":
                path = f"/conversations/{conv}/parts"
            elif path == "PUTCONV":
                method, path = "PUT", f"/conversations/{conv}"
            response = api.request(method, path, json=body)
            if response.status_code != 200:
                assert response.json()["type"] == "error.list"
            assert response.status_code < 500, (path, body, response.text)

        run()
        assert api.get("/me").status_code == 200


def test_fuzz_with_validation(sim) -> None:
    _check(sim, validate=True)


def test_fuzz_without_validation() -> None:
    with simulator_with(validate=False) as sim:
        _check(sim, validate=False)

"""Unit tests of the one boundary that maps HTTP statuses and httpx errors to our errors.

These use ``httpx.MockTransport`` to produce exact statuses and transport failures; every
behaviour against a real server is tested in ``test_intercom_client_sim.py``.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable

import httpx
import pytest

from intercom_api.base import RetryPolicy
from intercom_api.client import IntercomClient
from intercom_api.errors import (
    Conflict,
    InDoubt,
    IntercomError,
    Invalid,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
    Unavailable,
)
from intercom_api.pacing import NullPacer

TOKEN = "tok_unit_5ecret_value"
FAST = RetryPolicy(attempts=3, rate_limited_attempts=4, backoff_initial=0, backoff_max=0, jitter=0)


def envelope(code: str, message: str, field: str | None = None) -> dict:
    item = {"code": code, "message": message}
    if field:
        item["field"] = field
    return {"type": "error.list", "request_id": "req-1", "errors": [item]}


def make_client(handler: Callable[[httpx.Request], httpx.Response]) -> IntercomClient:
    return IntercomClient(
        "https://api.example.test",
        TOKEN,
        transport=httpx.MockTransport(handler),
        pacer=NullPacer(),
        retry=FAST,
        sleep=lambda _s: None,
    )


def scripted(*steps: httpx.Response | Exception) -> tuple[Callable, list[httpx.Request]]:
    """A handler answering each request with the next step; the list records requests."""
    seen: list[httpx.Request] = []
    queue = list(steps)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(step, Exception):
            raise step
        return step

    return handler, seen


def test_headers_sent() -> None:
    handler, seen = scripted(httpx.Response(200, json={"type": "admin", "id": "1"}))
    with make_client(handler) as client:
        assert client.me()["id"] == "1"
    headers = seen[0].headers
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["intercom-version"] == "2.16"
    assert headers["accept"] == "application/json"


def test_401_is_unauthorized_with_one_hint_and_no_token() -> None:
    handler, _ = scripted(
        httpx.Response(401, json=envelope("unauthorized", "Access Token Invalid"))
    )
    with make_client(handler) as client, pytest.raises(Unauthorized) as info:
        client.me()
    assert "H2I_INTERCOM_TOKEN" in info.value.hint
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)
    assert info.value.status == 401 and not info.value.transient


def test_404_is_not_found() -> None:
    handler, _ = scripted(httpx.Response(404, json=envelope("not_found", "User Not Found")))
    with make_client(handler) as client, pytest.raises(NotFound) as info:
        client.get_contact("abc")
    assert info.value.code == "not_found"
    assert "/contacts/abc" in str(info.value)


@pytest.mark.parametrize("archived", [False, True])
def test_409_is_conflict_with_existing_id(archived: bool) -> None:
    prefix = "An archived contact" if archived else "A contact"
    message = f"{prefix} matching those details already exists with id=5da6f18e3d7cf967e4582d05"
    handler, seen = scripted(httpx.Response(409, json=envelope("conflict", message)))
    with make_client(handler) as client, pytest.raises(Conflict) as info:
        client.create_contact(email="jane@example.com", role="user")
    assert info.value.existing_id == "5da6f18e3d7cf967e4582d05"
    assert info.value.archived is archived
    assert len(seen) == 1  # never retried


@pytest.mark.parametrize("status", [400, 403, 410, 422])
def test_other_4xx_is_invalid_with_code_and_field(status: int) -> None:
    body = envelope("parameter_invalid", "email jane.doe@example.com is not valid", "email")
    handler, seen = scripted(httpx.Response(status, json=body))
    with make_client(handler) as client, pytest.raises(Invalid) as info:
        client.update_contact("abc", email="jane.doe@example.com")
    err = info.value
    assert (err.status, err.code, err.field) == (status, "parameter_invalid", "email")
    assert "jane.doe@example.com" not in str(err)  # e-mail addresses are masked
    assert not err.transient and len(seen) == 1


def test_429_on_post_is_retried_then_succeeds() -> None:
    limited = httpx.Response(
        429,
        json=envelope("rate_limit_exceeded", "Exceeded rate limit"),
        headers={"X-RateLimit-Reset": "0"},
    )
    handler, seen = scripted(limited, httpx.Response(200, json={"id": "c1"}))
    with make_client(handler) as client:
        assert client.create_contact(email="a@b.test")["id"] == "c1"
    assert len(seen) == 2


def test_429_forever_gives_rate_limited_with_reset() -> None:
    limited = httpx.Response(
        429,
        json=envelope("rate_limit_exceeded", "Exceeded"),
        headers={"X-RateLimit-Reset": "1700000000"},
    )
    handler, seen = scripted(limited)
    with make_client(handler) as client, pytest.raises(RateLimited) as info:
        client.me()
    assert info.value.reset_at == 1700000000 and info.value.transient
    assert len(seen) == FAST.rate_limited_attempts


def test_5xx_on_get_is_retried() -> None:
    handler, seen = scripted(
        httpx.Response(502), httpx.Response(503), httpx.Response(200, json={"id": "c1"})
    )
    with make_client(handler) as client:
        assert client.get_contact("c1")["id"] == "c1"
    assert len(seen) == 3


def test_each_retry_is_checked_and_each_transient_error_told_once() -> None:
    """The engine proves it still holds its unit before every send but the first, and
    records each transient error once: however the first attempt is made."""
    handler, seen = scripted(
        httpx.Response(502), httpx.Response(503), httpx.Response(200, json={"id": "c1"})
    )
    checks: list[int] = []
    told: list[int] = []
    with make_client(handler) as client:
        answer = client.request(
            "GET",
            "/contacts/c1",
            before_retry=lambda: checks.append(len(seen)),
            on_transient=lambda err: told.append(err.status or 0),
        )
    assert answer["id"] == "c1"
    assert checks == [1, 2]  # before the second and the third send, never before the first
    assert told == [502, 503]


def test_a_failed_check_before_a_retry_sends_nothing_more() -> None:
    handler, seen = scripted(httpx.Response(502), httpx.Response(200, json={"id": "c1"}))

    def lock_lost() -> None:
        raise RuntimeError("the unit's lock is gone")

    with make_client(handler) as client, pytest.raises(RuntimeError, match="lock is gone"):
        client.request("GET", "/contacts/c1", before_retry=lock_lost)
    assert len(seen) == 1


def test_5xx_on_get_exhausted_is_server_error() -> None:
    handler, seen = scripted(httpx.Response(500, json=envelope("server_error", "boom")))
    with make_client(handler) as client, pytest.raises(ServerError):
        client.get_contact("c1")
    assert len(seen) == FAST.attempts


def test_5xx_on_post_is_in_doubt_and_not_retried() -> None:
    handler, seen = scripted(httpx.Response(500, json=envelope("server_error", "boom")))
    with make_client(handler) as client, pytest.raises(InDoubt) as info:
        client.create_conversation("c1", "hello", 1_600_000_000)
    assert len(seen) == 1 and "500" in info.value.reason


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ReadTimeout("read"),
        httpx.RemoteProtocolError("gone"),
        httpx.ReadError("reset"),
        httpx.WriteTimeout("write"),
    ],
)
def test_lost_answer_on_post_is_in_doubt(exc: Exception) -> None:
    handler, seen = scripted(exc)
    with make_client(handler) as client, pytest.raises(InDoubt):
        client.reply_as_admin("1", "7", "hi", 1_600_000_000)
    assert len(seen) == 1


def test_connect_error_on_post_is_retried() -> None:
    handler, seen = scripted(httpx.ConnectError("refused"), httpx.Response(200, json={"id": "1"}))
    with make_client(handler) as client:
        assert client.create_tag("vip")["id"] == "1"
    assert len(seen) == 2


def test_timeout_on_get_is_retried_then_unavailable() -> None:
    handler, seen = scripted(httpx.ReadTimeout("read"))
    with make_client(handler) as client, pytest.raises(Unavailable) as info:
        client.get_conversation("1")
    assert len(seen) == FAST.attempts and info.value.transient


def test_search_post_is_treated_as_idempotent() -> None:
    page = {"type": "list", "data": [{"id": "c1"}], "pages": {"type": "pages"}}
    handler, seen = scripted(httpx.Response(500), httpx.Response(200, json=page))
    with make_client(handler) as client:
        assert [
            c["id"]
            for c in client.search_contacts(
                {"field": "email", "operator": "=", "value": "x@y.test"}
            )
        ] == ["c1"]
    assert len(seen) == 2


def test_unreadable_2xx_on_post_is_in_doubt() -> None:
    handler, _ = scripted(httpx.Response(200, content=b"<html>proxy</html>"))
    with make_client(handler) as client, pytest.raises(InDoubt):
        client.create_contact(email="a@b.test")


def test_errors_pickle_with_their_attributes() -> None:
    err = Conflict(
        "dup", existing_id="abc", archived=True, method="POST", path="/contacts", status=409
    )
    back = pickle.loads(pickle.dumps(err))
    assert isinstance(back, Conflict) and isinstance(back, IntercomError)
    assert (back.existing_id, back.archived, back.status, str(back)) == ("abc", True, 409, str(err))


def test_admin_reply_refuses_other_message_types() -> None:
    handler, seen = scripted(httpx.Response(200, json={}))
    with make_client(handler) as client, pytest.raises(ValueError):
        client.reply_as_admin("1", "7", "hi", 1, message_type="quick_reply")  # type: ignore[arg-type]  # a type the signature excludes, on purpose
    assert not seen

"""Errors the Intercom client raises, and the one boundary that produces them.

Every failure of an Intercom call, whether an HTTP status or an httpx exception, is
translated here, in :func:`from_response` and :func:`from_transport_error`, into the most
specific class below. Nothing else in the package inspects statuses or catches httpx errors.

    H2IError                                   (core.errors)
     └── IntercomError                         any failed Intercom call
          ├── Unauthorized       401           the token is wrong or revoked
          ├── NotFound           404           the object does not exist (any more)
          ├── Conflict           409           a contact with those details exists (id, archived)
          ├── Invalid            other 4xx     Intercom refused the request; a human must look
          ├── RateLimited        429           transient: wait until ``reset_at``, any method
          ├── ServerError        5xx           transient: on an idempotent call (GET, PUT,
          │                                    DELETE, read-only POST such as a search)
          ├── Unavailable        no answer     transient: connect failed, or an idempotent
          │                                    call timed out / lost its connection
          ├── InDoubt            write outcome unknown: a POST timed out, lost its connection
          │                      or got a 5xx after it was sent. Do not retry it blindly:
          │                      resolve it first with :mod:`intercom_api.lookups`.
          ├── NotSent            the caller's time to send it (``send_by``) ran out before
          │                      it could be sent, or sent again after a 429: not made
          └── Unresolvable       a lookup cannot tell whether the write happened (a thread
                                 past the 500-part read-back limit): a human must check

``transient`` says whether sending the same request again may help; the client already
retries transient errors within its budget, so a caller sees one only when the budget is
spent. ``InDoubt`` is deliberately *not* transient: the worker records ``WriteInDoubt`` and
asks Intercom what happened before writing again.

Messages are built from the method, the path and Intercom's error code and message (with
e-mail addresses and registered secrets masked). They never contain the token or a
request body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from core.errors import H2IError
from core.logs import redact_text

_CONFLICT_ID = re.compile(r"id=(\w+)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MAX_DETAIL = 300

#: httpx errors raised before any byte of the request left: always safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
#: Methods whose repetition has the same effect as one call.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def _new(cls: type[IntercomError]) -> IntercomError:
    return cls.__new__(cls)


def scrub(text: str) -> str:
    """``text`` with registered secrets, bearer tokens and e-mail addresses masked."""
    text = redact_text(text)
    text = _EMAIL.sub("<email>", text)
    return text if len(text) <= _MAX_DETAIL else text[:_MAX_DETAIL] + "…"


class IntercomError(H2IError):
    """Base of every error an Intercom call raises."""

    default_hint = "see the Intercom error above; docs/intercom-client.md explains each kind"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        method: str = "",
        path: str = "",
        status: int | None = None,
        request_id: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.method = method
        self.path = path
        self.status = status
        self.request_id = request_id
        self.code = code

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with every attribute (workers send errors across processes)."""
        return (_new, (type(self),), dict(self.__dict__))

    def __setstate__(self, state: dict[str, Any] | None) -> None:
        state = state or {}
        self.__dict__.update(state)
        self.args = (state.get("message", ""),)


class Unauthorized(IntercomError):
    """401: Intercom rejected the access token."""

    exit_code = 2
    default_hint = (
        "the Intercom access token is wrong or was revoked: set H2I_INTERCOM_TOKEN to a valid "
        "token (Developer Hub → your app → Authentication) and run again"
    )


class NotFound(IntercomError):
    """404: the object (or its parent) does not exist in this workspace."""

    default_hint = "the object is missing in Intercom; it may have been deleted by hand"


class Conflict(IntercomError):
    """409: a contact matching those details already exists; ``existing_id`` names it."""

    default_hint = "use the existing contact (existing_id) instead of creating another"

    def __init__(
        self, message: str, *, existing_id: str | None = None, archived: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.existing_id = existing_id
        self.archived = archived


class Invalid(IntercomError):
    """Any other 4xx: Intercom refused the request as it stands; retrying will not help."""

    default_hint = (
        "Intercom refused this record; fix the data or the field map, then retry it "
        "(it is quarantined until then)"
    )

    def __init__(
        self, message: str, *, detail: str | None = None, field: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.detail = detail
        self.field = field


class RateLimited(IntercomError):
    """429: the request was not processed; it may be sent again after ``reset_at``."""

    transient = True
    default_hint = "Intercom's rate limit was hit; the client waits and retries by itself"

    def __init__(self, message: str, *, reset_at: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reset_at = reset_at


class ServerError(IntercomError):
    """5xx on a call that is safe to repeat (GET, PUT, DELETE)."""

    transient = True
    default_hint = "Intercom had a server error; retry later (status.intercom.com)"


class Unavailable(IntercomError):
    """No answer: the connection failed, or a call that is safe to repeat timed out."""

    transient = True
    default_hint = (
        "Intercom could not be reached; check the network and H2I_INTERCOM_BASE_URL / "
        "H2I_INTERCOM_REGION, then retry"
    )


class InDoubt(IntercomError):
    """A write was sent but its outcome is unknown; ``reason`` says why."""

    transient = False
    default_hint = (
        "the write may or may not have happened: resolve it with intercom_api.lookups "
        "before sending it again"
    )

    def __init__(self, message: str, *, reason: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason


class NotSent(IntercomError):
    """A call not sent because the time its caller allowed for sending it ran out (waiting
    for the rate limit, or before sending it again after a 429); nothing was processed."""

    default_hint = "send it again: nothing reached Intercom"


class Unresolvable(IntercomError):
    """A lookup cannot tell whether an in-doubt write happened."""

    default_hint = (
        "the outcome cannot be read back from Intercom; check this object by hand in "
        "Intercom, then resolve or quarantine it"
    )


class HTTPAnswer(Protocol):
    """What the errors read of an answer: an ``httpx.Response`` or a transport ``Answer``."""

    @property
    def status_code(self) -> int: ...  # noqa: D102

    @property
    def headers(self) -> Mapping[str, str]: ...  # noqa: D102

    def json(self) -> Any: ...  # noqa: D102


def _first_error(response: HTTPAnswer) -> tuple[dict[str, Any], str | None]:
    """The first item of Intercom's ``error.list`` envelope, and its request id."""
    try:
        body = response.json()
    except ValueError:
        return {}, None
    if not isinstance(body, dict):
        return {}, None
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    if not first and "message" in body:  # a few endpoints answer a bare {"type":"error",...}
        first = {"code": body.get("code"), "message": body.get("message")}
    return first, body.get("request_id")


def _reset_at(headers: Mapping[str, str]) -> float | None:
    try:
        return float(headers["x-ratelimit-reset"])
    except (KeyError, ValueError):
        return None


def from_response(
    response: HTTPAnswer, method: str, path: str, *, idempotent: bool
) -> IntercomError:
    """The error for an HTTP error status (>= 400) Intercom answered.

    ``idempotent`` says whether sending the request twice has the effect of sending it once
    (GET, PUT, DELETE, and read-only POSTs such as searches).
    """
    status = response.status_code
    first, request_id = _first_error(response)
    code = first.get("code") or None
    raw_message = str(first.get("message") or "")
    detail = scrub(raw_message) if raw_message else None
    what = f"{method} {path}: HTTP {status}" + (f" {code}" if code else "")
    text = f"{what}: {detail}" if detail else what
    ctx: dict[str, Any] = {
        "method": method,
        "path": path,
        "status": status,
        "request_id": request_id,
        "code": code,
    }
    if status == 401:
        return Unauthorized(
            f"{method} {path}: Intercom rejected the access token (HTTP 401)", **ctx
        )
    if status == 404:
        return NotFound(text, **ctx)
    if status == 409:
        match = _CONFLICT_ID.search(raw_message)
        return Conflict(
            text,
            existing_id=match.group(1) if match else None,
            archived="archived" in raw_message.lower(),
            **ctx,
        )
    if status == 429:
        return RateLimited(text, reset_at=_reset_at(response.headers), **ctx)
    if status >= 500:
        if not idempotent:
            return InDoubt(text, reason=f"HTTP {status} after the request was sent", **ctx)
        return ServerError(text, **ctx)
    return Invalid(text, detail=detail, field=first.get("field"), **ctx)


def from_transport_error(
    exc: httpx.HTTPError, method: str, path: str, *, idempotent: bool
) -> IntercomError:
    """The error for an httpx failure that left no HTTP answer."""
    kind = type(exc).__name__
    ctx: dict[str, Any] = {"method": method, "path": path}
    if isinstance(exc, _NOT_SENT) or idempotent:
        reason = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection failed"
        return Unavailable(f"{method} {path}: {reason} ({kind})", **ctx)
    reason = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection lost"
    return InDoubt(
        f"{method} {path}: {reason} after the request was sent ({kind})", reason=reason, **ctx
    )


def unreadable_answer(method: str, path: str, status: int, *, idempotent: bool) -> IntercomError:
    """The error for a 2xx answer whose body is not the JSON Intercom always sends."""
    text = f"{method} {path}: HTTP {status} with an unreadable body"
    if idempotent:
        return ServerError(text, method=method, path=path, status=status)
    return InDoubt(text, reason="unreadable answer", method=method, path=path, status=status)

"""The HTTP layer under every Intercom operation: one keep-alive ``httpx.Client`` (on the
lean transport of :mod:`intercom_api.transport`), pacing, retries, and the translation of
failures into :mod:`intercom_api.errors`.

Read it top-down: :meth:`BaseClient.request` runs :meth:`BaseClient._send_once` under a
tenacity policy; ``_send_once`` asks the pacer, sends, tells the pacer, and maps the answer.

What is retried (and what never is):

- a 429 — always, whatever the method: Intercom did not process the request;
- a 5xx, a timeout or a dropped connection — only for idempotent calls (GET, PUT, DELETE,
  and POSTs that only read, such as searches);
- a connect error — always: nothing was sent;
- anything else on a POST that writes becomes :class:`~intercom_api.errors.InDoubt` at once.
"""

from __future__ import annotations

import ipaddress
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential_jitter

from core.errors import ConfigError
from core.intercom_limits import MAX_PER_PAGE
from core.logs import get_logger
from intercom_api import errors
from intercom_api.apps import AppSet, AppSlot
from intercom_api.errors import IDEMPOTENT_METHODS, IntercomError, RateLimited
from intercom_api.pacing import WINDOW_SECONDS, Pacer
from intercom_api.transport import Answer, DirectConnection, KeepAliveTransport, transport_for

log = get_logger(__name__)

Json = dict[str, Any]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries before it gives a transient error to the caller."""

    attempts: int = 5  # for 5xx / timeouts / connection errors on idempotent calls
    rate_limited_attempts: int = 30  # 429s: each waits for the window's reset (<= 10 s)
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    jitter: float = 0.25


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_safe_base_url(base_url: str) -> None:
    """Refuse a base URL that would send the token in clear: plain http off this machine.

    https is required for every host but loopback, where the local simulator runs.
    """
    url = httpx.URL(base_url)
    if url.scheme == "https":
        return
    if url.scheme == "http" and is_loopback_host(url.host):
        return
    raise ConfigError(
        f"refusing to send the Intercom token to {url.scheme}://{url.host}: "
        "plain http is allowed only to this machine (127.0.0.1, localhost)",
        hint="use an https:// H2I_INTERCOM_BASE_URL, or unset it to use the region's host",
    )


def _never_notify(method: str, path: str, json: Any) -> Any:
    """The body with ``skip_notifications: true`` forced on every admin reply.

    An import must never e-mail a customer, whichever way the reply reaches the client
    (a typed method or a raw :meth:`BaseClient.request` from the write engine).
    """
    if (
        method == "POST"
        and isinstance(json, dict)
        and json.get("type") == "admin"
        and path.endswith("/reply")
        and json.get("skip_notifications") is not True
    ):
        return {**json, "skip_notifications": True}
    return json


def _checked_retries(
    send: Callable[..., Json], before_retry: Callable[[], None]
) -> Callable[..., Json]:
    """``send`` with ``before_retry()`` run before every call but the first."""
    sent = False

    def checked(*args: Any) -> Json:
        nonlocal sent
        if sent:
            before_retry()
        sent = True
        return send(*args)

    return checked


def _observed(
    send: Callable[..., Json], on_transient: Callable[[IntercomError], None]
) -> Callable[..., Json]:
    """``send`` telling ``on_transient`` of every transient error a send meets."""

    def observed(*args: Any) -> Json:
        try:
            return send(*args)
        except IntercomError as exc:
            if exc.transient:
                on_transient(exc)
            raise

    return observed


def _replaying(failed: IntercomError, send: Callable[..., Json]) -> Callable[..., Json]:
    """``send``, whose first call raises ``failed`` again without sending: the retry loop
    starts from a first attempt already made (and already told to ``on_transient``)."""
    replayed = False

    def replay(*args: Any) -> Json:
        nonlocal replayed
        if not replayed:
            replayed = True
            raise failed
        return send(*args)

    return replay


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, IntercomError) and exc.transient


class BaseClient:
    """Sends requests to Intercom; the operations live in the subclasses.

    ``token`` is one token, several tokens of one workspace, or an :class:`AppSet` shared
    with other clients (each app paced by its own pacer, all by the workspace's). ``pacer``
    (with a token or tokens, not an AppSet) paces every token.
    """

    def __init__(
        self,
        base_url: str,
        token: str | Sequence[str] | AppSet,
        *,
        timeout: float = 30,
        version: str = "2.16",
        transport: httpx.BaseTransport | None = None,
        pacer: Pacer | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        require_safe_base_url(base_url)
        if isinstance(token, AppSet):
            self.apps = token
        else:
            tokens = [token] if isinstance(token, str) else list(token)
            self.apps = AppSet(tokens, pacer_for=None if pacer is None else lambda _fp: pacer)
        self.base_url = base_url.rstrip("/")
        self.version = version
        #: Seconds one request may take before it is given up (connects: at most 10).
        self.timeout = timeout
        self.retry_policy = retry or RetryPolicy()
        self._transport = transport
        self._connections: dict[str, httpx.Client | DirectConnection] = {}
        self._sent = threading.local()
        for slot in self.apps.slots:
            self._connections[slot.fingerprint] = self._connect(slot)
        policy = self.retry_policy
        self._backoff = wait_exponential_jitter(
            initial=policy.backoff_initial, max=policy.backoff_max, jitter=policy.jitter
        )
        self._retrying = Retrying(
            retry=retry_if_exception(_is_retryable),
            stop=self._should_stop,
            wait=self._wait,
            sleep=sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )

    def _connect(self, slot: AppSlot) -> httpx.Client | DirectConnection:
        """The keep-alive connection pool that sends with ``slot``'s token: straight onto
        the lean transport when it applies, else through an ``httpx.Client``."""
        headers = {
            "Authorization": f"Bearer {slot.token}",
            "Intercom-Version": self.version,
            "Accept": "application/json",
            "User-Agent": "hesk2intercom",
        }
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))
        transport = self._transport
        if transport is None:
            transport = transport_for(self.base_url)
            if isinstance(transport, KeepAliveTransport):
                direct = {**headers, "Accept-Encoding": "gzip, deflate", "Connection": "keep-alive"}
                return DirectConnection(self.base_url, direct, timeout, transport)
        return httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    @property
    def pacer(self) -> Pacer:
        """The first app's pacer (the only one with a single token)."""
        return self.apps.slots[0].pacer

    @property
    def last_app(self) -> str:
        """Fingerprint of the app that sent this thread's last call ("" before any)."""
        return getattr(self._sent, "app", "")

    def next_app(self) -> str:
        """Fingerprint of the app the next call should go through (see AppSet.choose)."""
        slot = self.apps.choose()
        return slot.fingerprint if slot is not None else ""

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pools."""
        for connection in self._connections.values():
            connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, version={self.version!r})"

    # -- requests --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        before_retry: Callable[[], None] | None = None,
        app: str | None = None,
        on_transient: Callable[[IntercomError], None] | None = None,
        send_by: float | None = None,
    ) -> Json:
        """Send one call (retrying what is safe to retry) and return Intercom's JSON answer.

        ``idempotent`` overrides the method's default (POSTs that only read set it).
        ``app``: the fingerprint of the app to send through while it is usable (a 429 or
        401 from it moves the call to another app: neither processed anything); which app
        sent it is :attr:`last_app` afterwards.
        ``before_retry`` runs before every send after the first (after the retry's wait);
        if it raises, nothing more is sent and its exception reaches the caller. The write
        engine uses it to prove it still holds its unit before it sends again.
        ``on_transient`` is told of each transient error (a 429, a 5xx, a dropped
        connection) before it is retried or given up: the engine records them per write.
        ``send_by`` (``time.monotonic()``): no byte of the call leaves after it; a call the
        pacers or a retry's wait held past it raises :class:`NotSent` (nothing processed).
        """
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        json = _never_notify(method, path, json)
        send = self._send_once
        if on_transient is not None:
            send = _observed(send, on_transient)
        if before_retry is not None:
            send = _checked_retries(send, before_retry)
        args = (method, path, params, json, idempotent, app, send_by)
        try:  # most calls succeed at once: only a retried one pays for tenacity's loop
            return send(*args)
        except IntercomError as exc:
            if not exc.transient:
                raise
            return self._retrying(_replaying(exc, send), *args)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Json:
        """GET ``path``."""
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None, *, idempotent: bool = False) -> Json:
        """POST ``json`` to ``path``; a write unless ``idempotent``."""
        return self.request("POST", path, json=json, idempotent=idempotent)

    def put(self, path: str, json: Any = None) -> Json:
        """PUT ``json`` to ``path``."""
        return self.request("PUT", path, json=json)

    def delete(self, path: str, params: Mapping[str, Any] | None = None) -> Json:
        """DELETE ``path``."""
        return self.request("DELETE", path, params=params)

    def _send_once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        idempotent: bool,
        app: str | None = None,
        send_by: float | None = None,
    ) -> Json:
        apps = self.apps
        slot = apps.choose(app)
        if slot is None:
            slot = apps.slots[-1]  # every token was refused: let Intercom say so again
        for _move in range(2 * len(apps.slots)):
            response = self._send_on(slot, method, path, params, json, idempotent, send_by)
            status = response.status_code
            if status == 401 and len(apps.usable()) > 1:
                apps.revoke(slot)  # nothing was processed: send it on another app
            elif status == 429 and apps.has_other(slot):
                apps.rate_limited(slot, _reset_at(response))
            else:
                break
            slot = apps.choose() or slot
        if response.status_code >= 400:
            if response.status_code == 429:
                apps.rate_limited(slot, _reset_at(response))
            raise errors.from_response(response, method, path, idempotent=idempotent)
        if not response.content:
            return {}
        try:
            answer = response.json()
        except ValueError:
            raise errors.unreadable_answer(
                method, path, response.status_code, idempotent=idempotent
            ) from None
        return answer if isinstance(answer, dict) else {"data": answer}

    def _send_on(
        self,
        slot: AppSlot,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        idempotent: bool,
        send_by: float | None = None,
    ) -> httpx.Response | Answer:
        """One HTTP exchange through ``slot``, paced by it and by the workspace."""
        _check_send_by(send_by, method, path)  # late already: take nothing from the pacers
        slot.pacer.acquire()
        self.apps.pace_workspace()
        _check_send_by(send_by, method, path)
        self._sent.app = slot.fingerprint
        try:
            response = self._connections[slot.fingerprint].request(
                method, path, params=params, json=json
            )
        except httpx.HTTPError as exc:
            raise errors.from_transport_error(exc, method, path, idempotent=idempotent) from None
        slot.pacer.observe(response.status_code, response.headers)
        self.apps.learn_limits()
        return response

    # -- retry policy (tenacity callbacks) -------------------------------------------------

    def _should_stop(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        policy = self.retry_policy
        limit = policy.rate_limited_attempts if isinstance(exc, RateLimited) else policy.attempts
        return state.attempt_number >= limit

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited) and exc.reset_at is not None:
            until_reset = min(max(exc.reset_at - time.time(), 0.0), WINDOW_SECONDS)
            return until_reset + random.uniform(0.0, self.retry_policy.jitter)
        return float(self._backoff(state))

    @staticmethod
    def _log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        method, path = state.args[0], state.args[1]
        log.warning(
            "intercom.retry",
            method=method,
            path=path,
            attempt=state.attempt_number,
            error=type(exc).__name__,
            status=getattr(exc, "status", None),
            wait_s=round(state.upcoming_sleep, 3),
        )

    # -- pagination ------------------------------------------------------------------------

    def paginate(
        self,
        path: str,
        key: str = "data",
        params: Mapping[str, Any] | None = None,
        *,
        per_page: int = MAX_PER_PAGE,
    ) -> Iterator[Json]:
        """Yield every item of a list endpoint, one page in memory at a time.

        Follows cursor pages (``pages.next.starting_after``) and page-number pages
        (``pages.next`` given as a URL, ``page`` + 1).
        """
        query: dict[str, Any] = {**(params or {}), "per_page": per_page}
        seen: set[str] = set()
        while True:
            answer = self.get(path, query)
            yield from answer.get(key) or []
            pages = answer.get("pages") or {}
            nxt = pages.get("next")
            if isinstance(nxt, dict) and nxt.get("starting_after"):
                cursor = str(nxt["starting_after"])
                if cursor in seen:
                    return
                seen.add(cursor)
                query["starting_after"] = cursor
            elif isinstance(nxt, str) and nxt and pages.get("page"):
                query["page"] = int(pages["page"]) + 1
            else:
                return

    def search(
        self,
        path: str,
        query: Json,
        key: str,
        *,
        per_page: int = MAX_PER_PAGE,
        sort: Json | None = None,
    ) -> Iterator[Json]:
        """Yield every hit of a search endpoint (``POST …/search``), page by page."""
        body: Json = {"query": query, "pagination": {"per_page": per_page}}
        if sort:
            body["sort"] = sort
        seen: set[str] = set()
        while True:
            answer = self.post(path, body, idempotent=True)
            yield from answer.get(key) or []
            nxt = (answer.get("pages") or {}).get("next")
            cursor = nxt.get("starting_after") if isinstance(nxt, dict) else None
            if not cursor or cursor in seen:
                return
            seen.add(cursor)
            body["pagination"] = {"per_page": per_page, "starting_after": cursor}


def _check_send_by(send_by: float | None, method: str, path: str) -> None:
    """Raise NotSent once ``send_by`` (``time.monotonic()``) has passed."""
    if send_by is not None and time.monotonic() > send_by:
        raise errors.NotSent(
            f"{method} {path} not sent: its time to be sent ran out", method=method, path=path
        )


def _reset_at(response: httpx.Response | Answer) -> float | None:
    """The ``X-RateLimit-Reset`` of an answer, as Unix seconds (None when absent)."""
    value = response.headers.get("x-ratelimit-reset")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None

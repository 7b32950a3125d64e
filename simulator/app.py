"""The simulator as an ASGI app: auth, rate limits, faults, validation, then the handler.

One dispatcher serves every Intercom path (routes by noun live in ``admins.py``,
``contacts.py``, ``conversations.py``, ...); it is mounted in a Starlette app that owns the
lifespan (loading and saving ``--state``). State lives in memory on the event loop thread.

Order for an Intercom path: 401 unless the bearer token is one of the apps' tokens (no
rate-limit headers) -> 429 over the app's 10-second window, then over the workspace's (every
app together; headers are the app's) -> 403 when the app lacks the route's scope -> injected
fault draw (the app's faults if set, else the simulator's: latency, 429, 5xx, timeout, lost
response) -> body (413 over ``max_body_bytes``, 400 on malformed JSON) -> route (404) ->
validation -> handler.

Order for ``/_sim/*``: 421 unless ``Host`` names where the simulator listens (``hosts.py``)
-> 401 without the bearer token -> for a POST, 415 unless the body is declared JSON, 400
unless it is a JSON object -> route (404) -> handler. No faults, no rate limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.routing import Mount

from core.intercom_limits import (
    APP_CALLS_PER_WINDOW,
    MAX_REQUEST_BYTES,
    WORKSPACE_CALLS_PER_WINDOW,
)
from core.logs import get_logger

from . import (
    admin_api,
    admins,
    attributes,
    contacts,
    conversations,
    help_center,
    tags,
    tickets,
)
from .admins import new_workspace
from .apps import AppRegistry, required_scope
from .errors import ApiError, error_body
from .faults import FaultConfig, FaultInjector
from .hosts import HostGuard
from .persistence import load, snapshot, write_atomic
from .ratelimit import RateLimiter
from .routing import Request, Router
from .state import Workspace
from .stats import Stats
from .validation import RequestValidator, default_validator

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Intercom's calls per window of one app, and of the whole workspace.
DEFAULT_RATE_LIMIT = APP_CALLS_PER_WINDOW
DEFAULT_WORKSPACE_RATE_LIMIT = WORKSPACE_CALLS_PER_WINDOW
SAVE_INTERVAL = 2.0
ROUTES = [
    *admins.ROUTES,
    *contacts.ROUTES,
    *attributes.ROUTES,
    *tags.ROUTES,
    *conversations.ROUTES,
    *help_center.ROUTES,
    *tickets.ROUTES,
]
_log = get_logger(__name__)
_JSON = (b"content-type", b"application/json; charset=utf-8")


class DropConnection(Exception):
    """Raised after a response has started, so the server closes the connection mid-answer."""


class _DropFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, DropConnection):
                return False
            exc = exc.__cause__ or exc.__context__
        return True


logging.getLogger("uvicorn.error").addFilter(_DropFilter())


def _encode(body: Any) -> bytes:
    if body is None:
        return b""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class SimulatorApp:
    """The dispatcher and the state it serves (one per server)."""

    def __init__(
        self,
        *,
        token: str | Sequence[str],
        rate_limit: int = DEFAULT_RATE_LIMIT,
        workspace_rate_limit: int | None = None,
        faults: FaultConfig | None = None,
        state_file: Path | None = None,
        validate: bool = True,
        save_interval: float = SAVE_INTERVAL,
        max_body_bytes: int = MAX_REQUEST_BYTES,
        hosts: HostGuard | None = None,
    ) -> None:
        tokens = [t.strip() for t in token.split(",")] if isinstance(token, str) else list(token)
        if not tokens or not all(tokens):
            raise ValueError("the simulator needs a token")
        self.tokens = tokens
        self.token = tokens[0]
        self.apps = AppRegistry.of(tokens)
        self.max_body_bytes = max_body_bytes
        self.hosts = hosts or HostGuard.listening_on("127.0.0.1")
        self.limiter = RateLimiter(rate_limit)
        # Never below one app's own limit: a lone app is held by its limit, as on Intercom.
        self.workspace_limiter = RateLimiter(
            workspace_rate_limit or max(DEFAULT_WORKSPACE_RATE_LIMIT, rate_limit)
        )
        self.start_faults = faults or FaultConfig()
        self.faults = FaultInjector(self.start_faults)
        self.state_file = Path(state_file) if state_file else None
        self.validator: RequestValidator | None = default_validator() if validate else None
        self.router = Router(ROUTES)
        self.stats = Stats()
        self.save_interval = save_interval
        self.ws: Workspace = new_workspace()
        self._dirty = False
        if self.state_file is not None:
            loaded = load(self.state_file)
            if loaded is not None:
                self.ws = loaded

    # --- state -----------------------------------------------------------------------
    def mark_dirty(self) -> None:
        """Note that the workspace changed (the saver writes it soon)."""
        self._dirty = True

    def reset(self) -> None:
        """A fresh workspace, zeroed stats and windows, the start-up faults."""
        self.ws = new_workspace()
        self.stats = Stats()
        self.apps = AppRegistry.of(self.tokens)
        self.limiter.reset()
        self.workspace_limiter.reset()
        self.faults.configure(self.start_faults)
        self._dirty = True

    def save(self) -> None:
        """Write the state file now (no-op without ``--state``)."""
        if self.state_file is not None:
            write_atomic(self.state_file, snapshot(self.ws))
            self._dirty = False

    async def saver(self) -> None:
        """Save every ``save_interval`` seconds while there are unsaved changes.

        The snapshot is taken on the loop (a consistent view) and written from a thread.
        A big workspace takes longer to serialise, so the pause after a save grows to 20x
        the time the snapshot blocked the loop: saving never costs more than ~5% of it.
        """
        pause = self.save_interval
        while True:
            await asyncio.sleep(pause)
            if self._dirty and self.state_file is not None:
                self._dirty = False
                started = time.perf_counter()
                payload = snapshot(self.ws)
                pause = max(self.save_interval, 20 * (time.perf_counter() - started))
                await asyncio.to_thread(write_atomic, self.state_file, payload)

    # --- HTTP ------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith("/_sim/"):
            await self._admin(scope, receive, send, path)
            return
        await self._intercom(scope, receive, send, path)

    async def _intercom(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        method: str = scope["method"]
        matched = self.router.match(method, path)
        key = matched[0].key if matched else "unmatched"
        auth = length = host = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth = value
            elif name == b"content-length":
                length = value
            elif name == b"host":
                host = value
        app = self.apps.get(auth)
        if app is None:
            self.stats.count(key, 401)
            await _respond(send, 401, error_body("unauthorized", "Access Token Invalid"), [])
            return
        app.requests_total += 1
        allowed, headers = self.limiter.hit(app.id)
        limit = self.limiter.limit
        if allowed:
            allowed, ws_headers = self.workspace_limiter.hit("workspace")
            if not allowed:  # the app's own headers, spent until the workspace's reset
                limit = self.workspace_limiter.limit
                self.stats.workspace_rate_limited += 1
                headers = [headers[0], (b"x-ratelimit-remaining", b"0"), ws_headers[2]]
        else:
            app.over_app_limit += 1
        if not allowed:
            app.rate_limited += 1
            self.stats.count(key, 429)
            message = f"Exceeded rate limit of {limit} in 10_seconds"
            await _respond(send, 429, error_body("rate_limit_exceeded", message), headers)
            return
        if app.scopes is not None:
            needed = required_scope(method, path)
            if not app.allows(needed):
                self.stats.count(key, 403)
                message = f"The access token lacks the permission {needed}"
                await _respond(send, 403, error_body("forbidden", message), headers)
                return
        fault = "none"
        injector = app.faults or self.faults
        cfg = injector.config
        if cfg.active and cfg.covers(key):
            if cfg.latency_ms:
                await asyncio.sleep(cfg.latency_ms / 1000)
            fault = "storm_429" if injector.storm_left() else injector.draw(key)
            if fault == "storm_429":
                self.stats.faults_injected[fault] += 1
                app.rate_limited += 1
                self.stats.count(key, 429)
                reset = str(int(injector.storm_until) + 1).encode()
                headers = [
                    *headers[:1],
                    (b"x-ratelimit-remaining", b"0"),
                    (b"x-ratelimit-reset", reset),
                ]
                message = f"Exceeded rate limit of {self.limiter.limit} in 10_seconds"
                await _respond(send, 429, error_body("rate_limit_exceeded", message), headers)
                return
            if fault != "none":
                self.stats.faults_injected[fault] += 1
            if fault == "rate_429":
                self.stats.count(key, 429)
                headers = [*headers[:1], (b"x-ratelimit-remaining", b"0"), headers[2]]
                message = f"Exceeded rate limit of {self.limiter.limit} in 10_seconds"
                await _respond(send, 429, error_body("rate_limit_exceeded", message), headers)
                return
            if fault == "rate_5xx":
                status = injector.rng.choice((500, 502, 503))
                code = {500: "server_error", 502: "server_error", 503: "service_unavailable"}
                self.stats.count(key, status)
                await _respond(
                    send, status, error_body(code[status], "Injected server error"), headers
                )
                return
        try:
            status, body = await self._handle(
                app, scope, receive, method, path, matched, length, host
            )
        except ApiError as err:
            status, body = err.status, err.body()
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            if self.validator is not None:  # a valid body broke a handler: our bug
                _log.exception("simulator handler failed", operation=key)
                status, body = 500, error_body("server_error", "Internal simulator error")
            else:  # without validation, handlers meet bodies of the wrong shape
                status, body = 400, error_body("parameter_invalid", f"Invalid body: {exc!r}")
        except Exception:  # a handler bug must still answer Intercom's envelope
            _log.exception("simulator handler failed", operation=key)
            status, body = 500, error_body("server_error", "Internal simulator error")
        if fault == "rate_timeout":
            await asyncio.sleep(cfg.timeout_ms / 1000)
        if fault == "rate_lost_response":
            if injector.drop_connection():
                self.stats.count(key, 0)  # status 0: the connection was dropped
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [_JSON, (b"content-length", b"100000"), *headers],
                    }
                )
                await send({"type": "http.response.body", "body": b"{", "more_body": True})
                raise DropConnection("injected lost response")
            self.stats.count(key, 502)
            await _respond(send, 502, error_body("server_error", "Bad Gateway"), headers)
            return
        self.stats.count(key, status)
        await _respond(send, status, body, headers)

    async def _handle(
        self,
        app: Any,
        scope: Scope,
        receive: Receive,
        method: str,
        path: str,
        matched: Any,
        length: bytes | None,
        host: bytes | None,
    ) -> tuple[int, Any]:
        raw = await _read_body(receive, length, self.max_body_bytes)
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                raise ApiError(400, "bad_request", "The request body is not valid JSON") from exc
        if matched is None:
            if self.router.allows_path(path):
                raise ApiError(405, "method_not_allowed", f"{method} is not allowed on {path}")
            raise ApiError(404, "not_found", "Resource Not Found")
        route, params = matched
        if body is not None and not isinstance(body, dict):
            raise ApiError(400, "parameter_invalid", "The request body must be a JSON object")
        if self.validator is not None and method in ("POST", "PUT"):
            self.validator.check(route.key, body)
        query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        base = f"http://{host.decode('latin-1')}" if host else ""
        req = Request(method, path, params, query, body, base)
        req.extra["app"] = app
        status, answer = route.handler(self.ws, req)
        if route.writes:
            self._dirty = True
        if req.extra.get("notification"):
            self.stats.notifications_sent += 1
        return status, answer

    async def _admin(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        method: str = scope["method"]
        headers = dict(scope["headers"])
        try:
            if not self.hosts.allows(headers.get(b"host")):
                raise ApiError(
                    421,
                    "misdirected_request",
                    "The Host header names no address this simulator listens on: call it "
                    "by that address, or start it with --allow-host NAME",
                )
            if not self.apps.known(headers.get(b"authorization")):
                raise ApiError(401, "unauthorized", "Access Token Invalid")
            if method == "GET" and path.startswith("/_sim/attachments/"):
                blob_id = path.split("/")[3] if path.count("/") >= 3 else ""
                data = admin_api.attachment(self, blob_id)
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-type", b"application/octet-stream"),
                            (b"content-length", str(len(data)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": data})
                return
            body = None
            if method != "GET":
                body = await self._admin_body(receive, headers)
            handler = admin_api.HANDLERS.get((method, path.rstrip("/")))
            if handler is None:
                raise ApiError(404, "not_found", f"No admin endpoint {method} {path}")
            status, answer = handler(self, body)
        except ApiError as err:
            status, answer = err.status, err.body()
        await _respond(send, status, answer, [])

    async def _admin_body(self, receive: Receive, headers: dict[bytes, bytes]) -> dict[str, Any]:
        """The JSON object an admin POST must carry (415 if not declared JSON, 400 if not
        a JSON object)."""
        kind = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
        if kind != b"application/json":
            raise ApiError(
                415,
                "unsupported_media_type",
                "The admin API takes a JSON body: send Content-Type: application/json",
            )
        raw = await _read_body(receive, headers.get(b"content-length"), self.max_body_bytes)
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, "bad_request", "The request body is not valid JSON") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "bad_request", "The request body must be a JSON object")
        return body

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        """Start the periodic saver; save once more on shutdown."""
        task = asyncio.create_task(self.saver()) if self.state_file else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self.save()


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "request_too_large", f"The request body exceeds {limit} bytes")


async def _read_body(receive: Receive, length: bytes | None, limit: int) -> bytes:
    if length is not None:
        try:
            declared = int(length)
        except ValueError:
            declared = 0
        if declared > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]]) -> None:
    payload = _encode(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON, (b"content-length", str(len(payload)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": payload})


@dataclass(frozen=True)
class SimulatorOptions:
    """How a simulator is set up: the tokens it accepts (a comma-separated string or a
    list, one app each), its rate limits, injected faults, state file, request checks and
    the ``Host`` names its admin API answers besides the one it listens on."""

    token: str | Sequence[str]
    rate_limit: int = DEFAULT_RATE_LIMIT
    workspace_rate_limit: int | None = None
    faults: FaultConfig | None = None
    state_file: Path | None = None
    validate: bool = True
    max_body_bytes: int = MAX_REQUEST_BYTES
    allowed_hosts: tuple[str, ...] = ()


def create_app(options: SimulatorOptions, host: str = "127.0.0.1") -> Starlette:
    """The simulator's ASGI app; ``app.state.simulator`` is the :class:`SimulatorApp`.

    ``host`` is where it listens: with ``options.allowed_hosts``, the ``Host`` names the
    admin API answers (:class:`~simulator.hosts.HostGuard`).
    """
    sim = SimulatorApp(
        token=options.token,
        rate_limit=options.rate_limit,
        workspace_rate_limit=options.workspace_rate_limit,
        faults=options.faults,
        state_file=options.state_file,
        validate=options.validate,
        max_body_bytes=options.max_body_bytes,
        hosts=HostGuard.listening_on(host, options.allowed_hosts),
    )
    app = Starlette(routes=[Mount("/", app=sim)], lifespan=sim.lifespan)
    app.state.simulator = sim
    return app

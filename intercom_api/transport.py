"""A lean keep-alive transport for the client's ``httpx.Client``, on the standard library.

httpx's default transport (httpcore + h11) costs about as much CPU per call as everything
else a worker does for a write; ``http.client`` parses a response in C-backed code and does
a fraction of that work. The ``httpx.Client`` API, its timeouts and its exception types stay
the same, so :mod:`intercom_api.errors` classifies failures exactly as before:

- nothing sent (refused, unresolvable, connect timeout) -> ``httpx.ConnectError`` /
  ``httpx.ConnectTimeout``;
- sent, then no complete answer -> ``httpx.ReadTimeout`` / ``httpx.WriteTimeout`` /
  ``httpx.RemoteProtocolError`` (a POST that writes is then *in doubt*).

A pooled connection is reused only when its socket is quiet; one the server closed while
idle is dropped *before* anything is sent on it, so an idle-timeout close never turns a
write into an in-doubt one. Proxies from the environment are not handled here:
:func:`transport_for` gives httpx's own transport when one applies.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import urllib.request
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from core import json_codec

#: Idle connections kept per transport (the client is one per worker thread).
MAX_IDLE = 4


def transport_for(base_url: str) -> httpx.BaseTransport:
    """The transport for ``base_url``: the lean one, or httpx's when a proxy applies."""
    url = httpx.URL(base_url)
    proxies = urllib.request.getproxies()
    if proxies.get(url.scheme) and not urllib.request.proxy_bypass(url.host):
        return httpx.HTTPTransport(proxy=proxies[url.scheme])
    return KeepAliveTransport()


class KeepAliveTransport(httpx.BaseTransport):
    """HTTP/1.1 with keep-alive over ``http.client``; thread-safe, a few idle connections."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl = ssl_context
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    # -- httpx.BaseTransport -----------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and read the whole answer."""
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        origin = (
            request.url.scheme,
            request.url.host,
            request.url.port or _default_port(request.url.scheme),
        )
        headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in request.headers.raw]
        status, answer_headers, content = self.exchange(
            origin,
            request.method,
            request.url.raw_path.decode("ascii"),
            headers,
            request.read(),
            timeouts,
            request=request,
        )
        return httpx.Response(
            status,
            headers=answer_headers,
            content=content,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    def exchange(
        self,
        origin: tuple[str, str, int],
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        timeouts: dict[str, float | None],
        *,
        request: httpx.Request | None = None,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """One request/answer exchange on a pooled connection: status, headers, body.

        Failures are httpx's exception types, classified as in the module's docstring.
        """
        conn = self._checkout(origin, timeouts)
        try:
            conn.sock.settimeout(timeouts.get("write"))
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value)
            conn.endheaders(body or None)
        except TimeoutError as exc:
            conn.close()
            raise httpx.WriteTimeout(str(exc) or "write timed out", request=request) from None
        except OSError as exc:
            conn.close()
            raise httpx.WriteError(str(exc) or type(exc).__name__, request=request) from None
        try:
            conn.sock.settimeout(timeouts.get("read"))
            answer = conn.getresponse()
            content = answer.read()
        except TimeoutError as exc:
            conn.close()
            raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from None
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise httpx.RemoteProtocolError(
                f"server disconnected without a complete answer ({type(exc).__name__})",
                request=request,
            ) from None
        if answer.will_close:
            conn.close()
        else:
            self._checkin(origin, conn)
        return answer.status, answer.getheaders(), content

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    # -- the pool ----------------------------------------------------------------------

    def _checkout(
        self, origin: tuple[str, str, int], timeouts: dict[str, float | None]
    ) -> http.client.HTTPConnection:
        while True:
            with self._lock:
                conns = self._idle.get(origin)
                conn = conns.pop() if conns else None
            if conn is None:
                return self._connect(origin, timeouts)
            if _quiet(conn):
                return conn
            conn.close()  # closed by the server while idle: nothing was sent on it

    def _checkin(self, origin: tuple[str, str, int], conn: http.client.HTTPConnection) -> None:
        with self._lock:
            conns = self._idle.setdefault(origin, [])
            if len(conns) < MAX_IDLE:
                conns.append(conn)
                return
        conn.close()

    def _connect(
        self, origin: tuple[str, str, int], timeouts: dict[str, float | None]
    ) -> http.client.HTTPConnection:
        scheme, host, port = origin
        timeout = timeouts.get("connect")
        conn: http.client.HTTPConnection
        if scheme == "https":
            context = self._ssl or _default_ssl_context()
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        elif scheme == "http":
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        else:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}")
        try:
            conn.connect()
        except TimeoutError as exc:
            conn.close()
            raise httpx.ConnectTimeout(str(exc) or "connect timed out") from None
        except OSError as exc:
            conn.close()
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn


def _quiet(conn: http.client.HTTPConnection) -> bool:
    """True when an idle connection has nothing to read (no EOF, no stray bytes)."""
    sock: Any = conn.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


_SSL: ssl.SSLContext | None = None


def _default_ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context (certifi's roots), made once."""
    global _SSL
    if _SSL is None:
        _SSL = httpx.create_ssl_context()
    return _SSL


class Answer:
    """An HTTP answer as :class:`DirectConnection` reads it: what the client looks at, and
    nothing else (no cookies, no URL, no request model). Header names are lower case."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    def json(self) -> Any:
        """The body as JSON (ValueError if it is not)."""
        return json_codec.loads(self.content)


class DirectConnection:
    """One app's requests straight onto a :class:`KeepAliveTransport`, without building
    httpx's request and response models (about a third of a worker's CPU per write).

    The wire is the same as through ``httpx.Client`` (same headers, JSON encoding, query
    encoding and timeouts), and so are the exceptions: httpx's, raised by the transport.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        timeout: httpx.Timeout,
        transport: KeepAliveTransport,
    ) -> None:
        url = httpx.URL(base_url)
        port = url.port or _default_port(url.scheme)
        self._origin = (url.scheme, url.host, port)
        self._prefix = url.raw_path.decode("ascii").rstrip("/")
        host = url.host if url.port is None else f"{url.host}:{url.port}"
        self._headers = [("Host", host), *headers.items()]
        self._timeouts = timeout.as_dict()
        self.transport = transport

    def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> Answer:
        """Send one request; its answer, whatever the status."""
        target = self._prefix + quote(path, safe="/:@!$&'()*+,;=-._~%")
        if params:
            target += "?" + str(httpx.QueryParams(params))
        headers = self._headers
        body: bytes | None = None
        if json is not None:
            body = _json_bytes(json)
            headers = [
                *headers,
                ("Content-Length", str(len(body))),
                ("Content-Type", "application/json"),
            ]
        elif method in ("POST", "PUT", "PATCH"):
            headers = [*headers, ("Content-Length", "0")]
        status, raw, content = self.transport.exchange(
            self._origin, method, target, headers, body, self._timeouts
        )
        answer_headers = {name.lower(): value for name, value in raw}
        encoding = answer_headers.get("content-encoding", "identity").lower()
        if encoding in ("gzip", "deflate") and content:
            try:
                content = zlib.decompress(content, 47 if encoding == "gzip" else 15)
            except zlib.error:
                raise httpx.DecodingError("the answer's body cannot be decoded") from None
        return Answer(status, answer_headers, content)

    def close(self) -> None:
        """Close the idle connections."""
        self.transport.close()


def _json_bytes(value: Any) -> bytes:
    """JSON as httpx encodes a ``json=`` body (compact, UTF-8)."""
    return json_codec.dumps_bytes(value)

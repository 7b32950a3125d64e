"""The lean keep-alive transport, against real sockets: reuse, idle closes, and every way a
call can fail, classified as the write protocol needs (retry-safe vs in doubt)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from intercom_api.base import BaseClient, RetryPolicy
from intercom_api.errors import InDoubt, Unavailable
from intercom_api.transport import KeepAliveTransport, transport_for

OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"id":"42"}'

Handler = Callable[[socket.socket, int], bool]


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        body += conn.recv(65536)
    return head


@contextmanager
def raw_server(handler: Handler) -> Iterator[tuple[str, list[int]]]:
    """A one-thread HTTP server; ``handler(conn, n)`` answers request n (False: hang up).

    Yields the base URL and the list of accepted connections (their request counts)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    accepted: list[int] = []
    stop = threading.Event()
    counter = [0]

    def serve_conn(conn: socket.socket, index: int) -> None:
        with conn:
            while not stop.is_set():
                if not _read_request(conn):
                    return
                counter[0] += 1
                accepted[index] += 1
                if not handler(conn, counter[0]):
                    return

    def accept_loop() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(0)
            threading.Thread(target=serve_conn, args=(conn, len(accepted) - 1), daemon=True).start()

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", accepted
    finally:
        stop.set()
        thread.join()
        listener.close()


def _client(url: str, timeout: float = 5) -> BaseClient:
    return BaseClient(
        url,
        "tok-transport-test",
        timeout=timeout,
        retry=RetryPolicy(attempts=2),
        sleep=lambda _s: None,
    )


def test_keep_alive_reuses_one_connection() -> None:
    def answer(conn: socket.socket, _n: int) -> bool:
        conn.sendall(OK)
        return True

    with raw_server(answer) as (url, accepted), _client(url) as client:
        for _ in range(20):
            assert client.post("/contacts", {"email": "a@example.com"}) == {"id": "42"}
    assert accepted == [20]


def test_a_connection_closed_while_idle_is_replaced_before_sending() -> None:
    """Server closes after each answer (as at an idle timeout): no write may become in doubt."""

    def answer_then_close(conn: socket.socket, _n: int) -> bool:
        conn.sendall(OK)
        return False

    with raw_server(answer_then_close) as (url, accepted), _client(url) as client:
        for _ in range(5):
            assert client.post("/conversations", {"body": "hi"})["id"] == "42"
            time.sleep(0.05)  # idle: the server's close arrives before the next call
    assert accepted == [1, 1, 1, 1, 1]


def test_refused_connection_is_retry_safe() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    with _client(f"http://127.0.0.1:{port}") as client, pytest.raises(Unavailable):
        client.post("/conversations", {"body": "hi"})


def test_hang_up_after_the_request_makes_a_write_in_doubt() -> None:
    def hang_up(_conn: socket.socket, _n: int) -> bool:
        return False

    with raw_server(hang_up) as (url, accepted), _client(url) as client:
        with pytest.raises(InDoubt) as caught:
            client.post("/conversations", {"body": "hi"})
        assert "connection lost" in str(caught.value)
    assert sum(accepted) == 1  # sent once, never re-sent


def test_a_read_timeout_makes_a_write_in_doubt_and_a_read_retried() -> None:
    def never_answer(_conn: socket.socket, _n: int) -> bool:
        threading.Event().wait(1.0)
        return False

    with raw_server(never_answer) as (url, accepted), _client(url, timeout=0.2) as client:
        with pytest.raises(InDoubt) as caught:
            client.post("/conversations", {"body": "hi"})
        assert "timed out" in str(caught.value)
        assert sum(accepted) == 1
        with pytest.raises(Unavailable):
            client.get("/me")
        assert sum(accepted) == 3  # a GET is retried (RetryPolicy(attempts=2))


def test_truncated_answer_is_not_taken_for_success() -> None:
    def half(conn: socket.socket, _n: int) -> bool:
        conn.sendall(OK[:-4])
        return False

    with raw_server(half) as (url, _), _client(url) as client, pytest.raises(InDoubt):
        client.post("/conversations", {"body": "hi"})


def test_a_proxy_from_the_environment_gets_httpx_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("https_proxy", "http://proxy.internal:3128")
    monkeypatch.setenv("no_proxy", "")
    assert isinstance(transport_for("https://api.intercom.io"), httpx.HTTPTransport)
    monkeypatch.delenv("https_proxy")
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    assert isinstance(transport_for("https://api.intercom.io"), KeepAliveTransport)


TOO_MANY = (
    b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
    b"X-RateLimit-Limit: 1\r\nX-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 0\r\n"
    b"Content-Length: 80\r\n\r\n"
    + b'{"type":"error.list","errors":[{"code":"rate_limit_exceeded","message":"slow"}]}'
)


def test_before_retry_runs_before_each_resend_and_can_stop_it() -> None:
    """A write answered 429 is sent again only after the caller's check passes."""

    def limited_once(conn: socket.socket, n: int) -> bool:
        conn.sendall(TOO_MANY if n % 2 == 1 else OK)
        return True

    checks: list[int] = []
    with raw_server(limited_once) as (url, accepted), _client(url) as client:
        answer = client.request(
            "POST", "/conversations", json={"body": "hi"}, before_retry=lambda: checks.append(1)
        )
        assert answer == {"id": "42"}
        assert checks == [1] and sum(accepted) == 2

        class LockLost(Exception):
            pass

        def lost() -> None:
            raise LockLost

        with pytest.raises(LockLost):
            client.request("POST", "/conversations", json={"body": "hi"}, before_retry=lost)
        assert sum(accepted) == 3  # the 429 was not followed by a resend

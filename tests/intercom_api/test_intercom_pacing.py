"""The process-local pacer, on a fake clock: waits only when the window runs low."""

from __future__ import annotations

import threading

from intercom_api.pacing import LocalPacer, Pacer


class FakeTime:
    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def headers(limit: int, remaining: int, reset: float) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(int(reset)),
    }


def make() -> tuple[LocalPacer, FakeTime]:
    t = FakeTime()
    return LocalPacer(jitter=0, clock=t.clock, sleep=t.sleep), t


def test_is_a_pacer() -> None:
    assert isinstance(LocalPacer(), Pacer)


def test_no_wait_while_plenty_remains() -> None:
    pacer, t = make()
    for _ in range(50):
        pacer.acquire()
        pacer.observe(200, headers(100, 80, t.now + 10))
    assert t.slept == []


def test_waits_for_reset_when_nothing_remains() -> None:
    pacer, t = make()
    pacer.observe(200, headers(100, 0, 1_010))
    pacer.acquire()
    assert t.now >= 1_010


def test_spreads_the_last_requests_of_the_window() -> None:
    pacer, t = make()
    pacer.observe(200, headers(100, 5, 1_010))  # 5 left, 10 s to go: at most one per ~2 s
    for _ in range(5):
        pacer.acquire()
    assert t.slept and t.now < 1_010  # spaced out, yet not all waiting for the reset
    assert t.now - 1_000 >= 5


def test_429_blocks_everyone_until_reset() -> None:
    pacer, t = make()
    pacer.observe(429, headers(100, 0, 1_007))
    pacer.acquire()
    assert t.now >= 1_007


def test_reset_far_in_the_future_is_capped_to_one_window() -> None:
    pacer, t = make()
    pacer.observe(429, headers(100, 0, 5_000))  # server clock far ahead of ours
    pacer.acquire()
    assert t.now <= 1_010.5


def test_threads_share_the_window() -> None:
    pacer = LocalPacer(jitter=0)
    pacer.observe(200, headers(1000, 900, 0))  # window already over: never blocks
    threads = [threading.Thread(target=pacer.acquire) for _ in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=5)
    assert not any(th.is_alive() for th in threads)


def test_unreadable_headers_are_ignored() -> None:
    pacer, t = make()
    pacer.observe(200, headers(100, 0, t.now + 5))  # the window is spent...
    odd = {"x-ratelimit-limit": "inf", "x-ratelimit-remaining": "1e999", "x-ratelimit-reset": "nan"}
    pacer.observe(200, odd)  # ...and numbers nobody can use change nothing, nor raise
    pacer.acquire()
    assert t.slept == [5.0]

"""The coordinator reads a phase's progress sooner as the phase's end nears."""

from __future__ import annotations

import pytest

from commands import coordinator
from commands.coordinator import POLL_SECONDS, TAIL_POLL_SECONDS, PollPacing


class Clock:
    """The coordinator's monotonic clock, moved by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 100.0
        monkeypatch.setattr(coordinator.time, "monotonic", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def test_a_short_phase_is_read_again_before_it_ends(clock: Clock) -> None:
    pacing = PollPacing()

    assert pacing.next_poll(settled=0, pending=360) == TAIL_POLL_SECONDS  # no pace known yet
    clock.advance(0.1)
    # 60 settled in 0.1 s: 300 left take 0.5 s, so look again half-way there
    assert pacing.next_poll(settled=60, pending=300) == pytest.approx(0.25)
    clock.advance(0.25)
    assert pacing.next_poll(settled=210, pending=150) == pytest.approx(0.125)
    clock.advance(0.15)
    assert pacing.next_poll(settled=300, pending=20) == TAIL_POLL_SECONDS


def test_until_a_unit_settles_the_phase_is_read_as_often_as_it_was_read(clock: Clock) -> None:
    """A set-up phase of a few writes ends within 50 ms of its first reading: waiting half a
    second for the next one left every worker idle (0.45 s of a 20 s write phase)."""
    pacing = PollPacing()
    clock.advance(0.7)  # the first catch-up of a large capture, before the first reading

    assert pacing.next_poll(settled=0, pending=21) == TAIL_POLL_SECONDS
    clock.advance(TAIL_POLL_SECONDS + 0.02)
    assert pacing.next_poll(settled=0, pending=21) == pytest.approx(TAIL_POLL_SECONDS + 0.02)
    clock.advance(0.05)
    assert pacing.next_poll(settled=0, pending=21) == pytest.approx(TAIL_POLL_SECONDS + 0.07)
    clock.advance(5.0)
    assert pacing.next_poll(settled=0, pending=21) == POLL_SECONDS


@pytest.mark.parametrize(
    ("first", "then", "pending"),
    [
        (0, 1_000, 29_000),  # a long phase: far from its end
        (5, 5, 10),  # nothing settled since the first reading: no pace to go by
    ],
)
def test_otherwise_a_phase_is_read_every_half_second(
    clock: Clock, first: int, then: int, pending: int
) -> None:
    pacing = PollPacing()
    pacing.next_poll(settled=first, pending=pending + then - first)
    clock.advance(1.0)
    assert pacing.next_poll(settled=then, pending=pending) == POLL_SECONDS

"""The coordinator reads a phase's progress sooner as the phase's end nears."""

from __future__ import annotations

import pytest

from commands import coordinator
from commands.coordinator import POLL_SECONDS, TAIL_POLL_SECONDS, PollPacing


def test_a_short_phase_is_read_again_before_it_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(coordinator.time, "monotonic", lambda: now[0])
    pacing = PollPacing()

    assert pacing.next_poll(settled=0, pending=360) == TAIL_POLL_SECONDS  # no pace known yet
    now[0] += 0.1
    # 60 settled in 0.1 s: 300 left take 0.5 s, so look again half-way there
    assert pacing.next_poll(settled=60, pending=300) == pytest.approx(0.25)
    now[0] += 0.25
    assert pacing.next_poll(settled=210, pending=150) == pytest.approx(0.125)
    now[0] += 0.15
    assert pacing.next_poll(settled=300, pending=60) == TAIL_POLL_SECONDS


def test_a_long_phase_is_read_every_half_second(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(coordinator.time, "monotonic", lambda: now[0])
    pacing = PollPacing()
    pacing.next_poll(settled=0, pending=30_000)
    now[0] += 1.0
    assert pacing.next_poll(settled=1_000, pending=29_000) == POLL_SECONDS


def test_a_phase_with_nothing_settled_yet_is_read_every_half_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    monkeypatch.setattr(coordinator.time, "monotonic", lambda: now[0])
    pacing = PollPacing()
    pacing.next_poll(settled=5, pending=10)
    now[0] += 2.0
    assert pacing.next_poll(settled=5, pending=10) == POLL_SECONDS

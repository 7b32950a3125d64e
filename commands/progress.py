"""The ``migrate`` progress display: one Rich bar for the capture, one per object."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from commands.coordinator import PhaseProgress
from engine.capture import CaptureStats

#: How often the progress display is drawn again.
REDRAWS_PER_SECOND = 4


class MigrateProgress:
    """Bars with rates: the capture's records read, then each object's settled records."""

    def __init__(self, console: Any) -> None:
        columns = (
            TextColumn("{task.description:<16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>8}/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        # The coordinator shares the cores with the workers: four redraws a second (Rich
        # draws ten by default) cost it a tenth of its CPU less.
        self.progress = Progress(
            *columns, console=console, transient=False, refresh_per_second=REDRAWS_PER_SECOND
        )
        self._capture: Any = None
        self._capture_start = 0.0
        self._tasks: dict[str, Any] = {}
        self._rates: dict[str, tuple[float, int]] = {}

    def __enter__(self) -> MigrateProgress:
        self.progress.__enter__()
        self._capture = self.progress.add_task("capture", total=None, rate="")
        self._capture_start = time.monotonic()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.progress.__exit__(exc_type, exc, tb)

    def on_batch(self, stats: CaptureStats) -> None:
        """Show how many records the capture has read so far."""
        n = sum(stats.read.values())
        rate = n / max(time.monotonic() - self._capture_start, 1e-6)
        self.progress.update(self._capture, completed=n, rate=f"{rate:,.0f}")

    def captured(self, stats: CaptureStats) -> None:
        """Close the capture's bar at its final count."""
        total = sum(stats.read.values())
        self.progress.update(self._capture, total=total, completed=total)

    def on_progress(self, p: PhaseProgress) -> None:
        """Show each object's settled records of its total, with the rate since it began."""
        now = time.monotonic()
        for obj, total in p.totals.items():
            if obj not in self._tasks:
                self._tasks[obj] = self.progress.add_task(obj, total=total, rate="")
                self._rates[obj] = (now, p.settled.get(obj, 0))
            t_start, n_start = self._rates[obj]
            done = p.settled.get(obj, 0)
            rate = (done - n_start) / max(now - t_start, 1e-6)
            self.progress.update(self._tasks[obj], total=total, completed=done, rate=f"{rate:,.1f}")

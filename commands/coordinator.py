"""The coordinator: dispatch a run's units phase by phase and follow them to the end.

Phases follow the dependencies (attributes and links, contacts, KB collections, tickets,
articles, then leftovers such as orphan replies). A phase's pending units are sent to the
workers as ``(migration_id, key)`` messages; the coordinator follows the dispositions
projection until none is pending. A unit that stalls (its worker was killed, say) is sent
again: messages are harmless to repeat.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import redis
from dramatiq.errors import BrokerConnectionError
from sqlalchemy.engine import Engine

from commands.options import MigrateOptions
from core.errors import ConfigError, H2IError
from core.logs import get_logger
from core.objects import PHASES, SHOWN_WITH, WORKSPACE
from engine.resources import Resources, service_outage
from ledger.dispositions import Dispositions, SettledTally, pending_keys, settled_counts
from ledger.projections import ProjectionTable
from ledger.sessions import refresh_statistics

log = get_logger(__name__)

#: How often the coordinator reads the progress of a phase; in a phase's tail (no more
#: pending units than worker threads) more often, so the next phase starts sooner.
POLL_SECONDS = 0.5
TAIL_POLL_SECONDS = 0.03
#: Before a phase, the ledger's statistics are refreshed once it grew by this share.
STATISTICS_GROWTH = 0.1


class PollPacing:
    """How long the coordinator sleeps before reading a phase's progress again.

    Half a second while the phase has long to go; sooner as its end nears (at the pace
    the units have been settling), so that a short phase (a few hundred contacts in half
    a second) does not leave the workers idle until the next reading. Until a first unit
    settles there is no pace to go by: the coordinator looks again after as long as it has
    been looking (a set-up phase of a few writes is over in 50 ms).
    """

    def __init__(self) -> None:
        self._start = time.monotonic()
        self._first: int | None = None
        self._first_at = self._start

    def next_poll(self, settled: int, pending: int) -> float:
        """Seconds to sleep, given the settled and pending counts just read."""
        now = time.monotonic()
        if self._first is None:
            self._first, self._first_at = settled, now
            return TAIL_POLL_SECONDS
        rate = (settled - self._first) / max(now - self._start, 1e-3)
        if rate <= 0:
            return min(POLL_SECONDS, max(TAIL_POLL_SECONDS, now - self._first_at))
        return min(POLL_SECONDS, max(TAIL_POLL_SECONDS, pending / rate / 2))


class BackgroundStatistics:
    """Refreshes the ledger's planner statistics on a thread of its own, one at a time.

    An ANALYZE takes from 50 ms to over half a second (longer while a VACUUM holds the
    table). In the coordinator's thread it delayed the reading that ends a phase: a set-up
    phase of a few writes was over 0.4 s before the coordinator noticed, and every worker
    idled meanwhile.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._thread: threading.Thread | None = None
        self._failed: BaseException | None = None

    @property
    def running(self) -> bool:
        """True while a refresh is under way."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Start a refresh unless one is running (then False). Raises what the previous
        refresh raised, an outage of PostgreSQL apart (the phases wait for that)."""
        if self.running:
            return False
        failed, self._failed = self._failed, None
        if failed is not None:
            raise failed
        self._thread = threading.Thread(target=self._refresh, name="h2i-statistics", daemon=True)
        self._thread.start()
        return True

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the refresh under way, if any."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _refresh(self) -> None:
        try:
            skipped = refresh_statistics(self._engine)
        except Exception as err:
            if service_outage(err):
                log.warning("phase.statistics_unavailable", error=type(err).__name__)
            else:  # logged now, raised by the next start: the last refresh's is never lost
                log.warning("phase.statistics_failed", error=type(err).__name__)
                self._failed = err
            return
        if skipped:
            log.warning(
                "phase.statistics_skipped",
                tables=skipped,
                hint="another job (a long VACUUM) held them; autovacuum's statistics stay",
            )


class MigrationPending(H2IError):
    """Work is left (interrupted, or no worker made progress); run migrate again."""

    exit_code = 4


@dataclass
class PhaseProgress:
    """Counts per object for progress display: settled of total."""

    totals: dict[str, int] = field(default_factory=dict)
    settled: dict[str, int] = field(default_factory=dict)


def pending_units(res: Resources, objects: tuple[str, ...]) -> list[str]:
    """Capture keys of every pending record of these objects (from the projection)."""
    return pending_keys(res.engine, res.ledger.migration_id, objects)


def as_progress(counted: dict[str, tuple[int, int]]) -> PhaseProgress:
    """Progress for display from (captured, settled) counts per object."""
    progress = PhaseProgress()
    for obj, (total, settled) in counted.items():
        progress.totals[obj] = total
        progress.settled[obj] = settled
    return progress


class Coordinator:
    """Dispatches a migration's units to the workers and follows them to the end."""

    def __init__(
        self, res: Resources, options: MigrateOptions, send: Callable[[Sequence[str]], None]
    ):
        self.res = res
        self.options = options
        self.send = send
        self.table = ProjectionTable(res.engine, res.ledger.migration_id, Dispositions())
        self._analysed_at = -1  # the ledger's last seq when its statistics were refreshed
        self.statistics = BackgroundStatistics(res.engine)
        self._tally: SettledTally | None = None  # kept by every catch-up of self.table

    def phases(self) -> list[tuple[str, tuple[str, ...]]]:
        """The phases to run (all, or those of ``--only``; setup always comes first)."""
        if not self.options.only:
            return list(PHASES)
        wanted = self.options.only
        chosen = [PHASES[0]]
        chosen += [(n, o) for n, o in PHASES[1:] if wanted in o]
        if len(chosen) == 1 and wanted not in PHASES[0][1]:
            every = sorted({o for _, objs in PHASES for o in objs} - {WORKSPACE})
            raise ConfigError(
                f"--only {wanted}: unknown object", hint="use one of " + ", ".join(every)
            )
        return chosen

    def run_phase(
        self, objects: tuple[str, ...], on_progress: Callable[[PhaseProgress], None]
    ) -> int:
        """Send the phase's pending units and wait until none is pending; returns how many.

        PostgreSQL or Redis going away (restarted, say) does not end the phase: the
        coordinator waits for it to come back. Messages a restarted Redis lost are sent
        again by the stall rule, like those of a killed worker.
        """
        keys: list[str] | None = None
        pacing = PollPacing()
        last_settled = -1
        last_change = time.monotonic()
        stalls = 0
        away_since: float | None = None
        shown = objects + tuple(o for obj in objects for o in SHOWN_WITH.get(obj, ()))
        while True:
            try:
                if keys is None:
                    self._catch_up()
                    keys = pending_units(self.res, objects)
                    self.send(keys)
                    # After the sends, so that the workers start meanwhile: the first units
                    # plan their reads on the older statistics, the rest on the new ones
                    # (refreshed on a thread of its own while this one follows the phase).
                    self._refresh_statistics()
                self._catch_up()
                assert self._tally is not None
                progress = as_progress(self._tally.counts(shown))
                if _pending(progress, objects) == 0:
                    # The phase ends on a counting of the rows, never on the tally alone.
                    self._tally = self._count()
                    progress = as_progress(self._tally.counts(shown))
            except Exception as err:
                if not service_outage(err):
                    raise
                away_since = self._wait_for_services(err, away_since)
                continue
            if away_since is not None:
                log.info("phase.services_back", after_s=round(time.monotonic() - away_since, 1))
                away_since = None
            on_progress(progress)
            pending = _pending(progress, objects)
            if pending == 0:
                return len(keys)
            settled = sum(progress.settled.values())
            now = time.monotonic()
            if settled != last_settled:
                last_settled, last_change, stalls = settled, now, 0
            elif now - last_change > self.options.stall_seconds:
                stalls += 1
                if stalls > self.options.max_stalls:
                    raise MigrationPending(
                        f"{pending} records still pending and no worker made progress",
                        hint="start workers (`hesk2intercom worker`) or check their logs in "
                        f"{self.options.log_dir}, then run `hesk2intercom migrate` again",
                    )
                log.info("phase.stalled", pending=pending, resend=True)
                try:
                    self.send(pending_units(self.res, objects))
                except Exception as err:
                    if not service_outage(err):
                        raise
                    away_since = self._wait_for_services(err, away_since)
                    continue  # sent again once the stall rule fires after the outage
                last_change = now
            in_tail = pending <= max(1, self.options.workers) * self.options.threads
            time.sleep(TAIL_POLL_SECONDS if in_tail else pacing.next_poll(settled, pending))

    def _catch_up(self) -> None:
        """Bring the dispositions projection up to date, and the tally of settled records
        with it; the tally is counted afresh when another process (``status``, a report)
        caught the projection up since this coordinator last did."""
        tally = self._tally
        self.table.catch_up(observe=tally.observe if tally is not None else None)
        if tally is None or not self.table.continuous:
            self._tally = self._count()

    def _count(self) -> SettledTally:
        """A tally from a counting of the projection's rows."""
        return SettledTally(settled_counts(self.res.engine, self.res.ledger.migration_id))

    def _refresh_statistics(self) -> None:
        """Refresh the ledger's planner statistics, in the background, if it grew since the
        last refresh: the units of the phase about to start read the events the phases
        before added."""
        last = self.res.ledger.last_seq()
        grown = last > self._analysed_at * (1 + STATISTICS_GROWTH) + 100
        if (self._analysed_at < 0 or grown) and self.statistics.start():
            self._analysed_at = last

    def _wait_for_services(self, err: BaseException, since: float | None) -> float:
        """Pause while PostgreSQL or Redis is unreachable; give up (exit 4) after as long
        as the stall rule would wait. Returns when the outage began."""
        now = time.monotonic()
        service = "Redis" if _is_redis_error(err) else "PostgreSQL (the ledger)"
        if since is None:
            log.warning("phase.service_unreachable", service=service, error=type(err).__name__)
            since = now
        patience = self.options.stall_seconds * (self.options.max_stalls + 1)
        if now - since > patience:
            raise MigrationPending(
                f"{service} has been unreachable for {now - since:.0f} s; work is left pending",
                hint=f"start {service.split(' ')[0]} (or fix its H2I_ URL), then run "
                "`hesk2intercom migrate` again to resume",
            ) from None
        time.sleep(1.0)
        return since


def _pending(progress: PhaseProgress, objects: tuple[str, ...]) -> int:
    """Records of these objects captured and not yet settled."""
    return sum(progress.totals.get(o, 0) - progress.settled.get(o, 0) for o in objects)


def _is_redis_error(err: BaseException) -> bool:
    return isinstance(err, redis.RedisError | BrokerConnectionError)

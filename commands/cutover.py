"""``cutover``: record the freeze, run the final delta, prove Hesk was not written since.

Refuses before anything moves when the last run left records pending (exit 4), and after
the final delta when Hesk was written after the freeze — a ticket whose ``lastchange`` or
a reply or note whose ``dt`` is at or after it (exit 3), naming them. Otherwise prints
the final reconciliation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from commands.delta import DeltaResult, last_capture, run_delta
from commands.options import MigrateOptions
from commands.worker_pool import unit_runner
from core.errors import H2IError
from core.settings import Settings
from engine.resources import Resources
from hesk.db import to_utc
from hesk.reader import HeskReader
from hesk.reader_base import records_of
from hesk.records import Note, Reply
from ledger.dispositions import Dispositions, summarise
from ledger.events import CutoverFrozen
from ledger.projections import ProjectionTable
from reports.report import build_report


class CutoverPending(H2IError):
    """Records are still pending from an earlier run: finish them before the cutover."""

    exit_code = 4


class HeskStillWritten(H2IError):
    """Hesk was written after the freeze: the cutover is not final."""

    exit_code = 3


@dataclass
class CutoverResult:
    """The freeze, the final delta and the reconciliation."""

    frozen_at: str
    delta: DeltaResult
    report: dict[str, Any] = field(default_factory=dict)


def hesk_now(reader: HeskReader) -> datetime:
    """The Hesk database's clock (UTC): the freeze is compared with its timestamps."""
    value = to_utc(reader.db.scalar("SELECT UTC_TIMESTAMP()"))
    return value or datetime.now(UTC)


def writes_since(reader: HeskReader, frozen: datetime) -> list[str]:
    """What Hesk recorded at or after the freeze, one phrase per kind (empty: nothing)."""
    found: list[str] = []
    tickets = reader.changed_ticket_ids(frozen)
    if tickets:
        found.append(f"{len(tickets)} ticket(s) changed (ids {_ids(tickets)})")
    replies = [r.id for r in records_of(reader, Reply, changed_since=frozen)]
    notes = [n.id for n in records_of(reader, Note, changed_since=frozen)]
    for obj, ids in (("reply", replies), ("note", notes)):
        if ids:
            found.append(f"{len(ids)} new {obj}(s) (ids {_ids(ids)})")
    return found


def _ids(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids[:10]) + (" …" if len(ids) > 10 else "")


def pending_count(res: Resources) -> int:
    """Records captured and not settled yet (from the dispositions projection)."""
    table = ProjectionTable(res.engine, res.ledger.migration_id, Dispositions())
    table.catch_up()
    counts = summarise(v for _k, v in table.items())
    return sum(c["pending"] for c in counts.values())


def run_cutover(
    res: Resources,
    options: MigrateOptions,
    *,
    frozen_at: datetime | None = None,
    send: Any = None,
) -> CutoverResult:
    """Freeze, final delta, no-write check, reconciliation."""

    last_capture(res.ledger)
    pending = pending_count(res)
    if pending:
        raise CutoverPending(
            f"{pending} record(s) are still pending from the last run: the cutover would "
            "not be final",
            hint="run `hesk2intercom migrate` to finish them, then `hesk2intercom cutover`",
        )
    with HeskReader.from_settings(res.settings) as reader:
        frozen = frozen_at or hesk_now(reader)
    stamp = frozen.astimezone(UTC).isoformat()
    res.ledger.append_one(CutoverFrozen(object="cutover", source_id=stamp, frozen_at=stamp))
    delta = run_delta(res, options, send=send, customers=True)  # the last chance: read all
    with HeskReader.from_settings(res.settings) as reader:
        written = writes_since(reader, frozen)
    if written:
        raise HeskStillWritten(
            f"Hesk was written after the freeze at {stamp}: " + "; ".join(written),
            hint="stop every write to Hesk (maintenance mode, mail piping off), then run "
            "`hesk2intercom cutover` again",
        )
    return CutoverResult(stamp, delta, build_report(res.engine, res.ledger.migration_id))


def cutover_command(settings: Settings, *, workers: int = 0) -> CutoverResult:
    """The ``cutover`` command: units run here or by N worker processes."""
    res = Resources.from_settings(settings)
    opts = MigrateOptions(workers=workers, stall_seconds=settings.stall_seconds)
    try:
        with unit_runner(res, opts) as send:
            return run_cutover(res, opts, send=send)
    finally:
        res.close()

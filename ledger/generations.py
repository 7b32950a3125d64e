"""Generations: a migration starts again, cleanly, after a completed rollback.

A migration named ``M`` writes its events under the ledger id ``M`` (generation 1). When a
rollback of a generation completes (``RollbackCompleted``), the next ``migrate`` writes
under ``M@gen2``, then ``M@gen3`` …: write keys stay unique, every projection of the new
generation starts from seq 0, and the old generation's history stays in the ledger as the
proof of what was created and deleted. The active generation is derived from the ledger
alone (the first one without a ``RollbackCompleted``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

_COMPLETED = (
    "SELECT 1 FROM events WHERE migration_id = %(m)s AND type = 'RollbackCompleted' LIMIT 1"
)
_ANY = "SELECT 1 FROM events WHERE migration_id = %(m)s LIMIT 1"


def ledger_id(migration: str, generation: int) -> str:
    """The ledger id of one generation of a migration."""
    return migration if generation <= 1 else f"{migration}@gen{generation}"


@dataclass(frozen=True)
class Generation:
    """The active generation of a migration and the one rolled back before it, if any."""

    migration: str
    number: int

    @property
    def ledger_id(self) -> str:
        """Where this generation's events live."""
        return ledger_id(self.migration, self.number)

    @property
    def previous_id(self) -> str | None:
        """The ledger id of the generation rolled back before this one (None for the first)."""
        return ledger_id(self.migration, self.number - 1) if self.number > 1 else None


def active_generation(engine: Engine, migration: str) -> Generation:
    """The generation new events of ``migration`` go to."""
    number = 1
    with engine.connect() as conn:
        while conn.exec_driver_sql(_COMPLETED, {"m": ledger_id(migration, number)}).first():
            number += 1
    return Generation(migration, number)


def active_ledger_id(engine: Engine, migration: str) -> str:
    """The ledger id new events of ``migration`` go to."""
    return active_generation(engine, migration).ledger_id


def has_events(engine: Engine, ledger: str) -> bool:
    """True when this ledger id holds any event."""
    with engine.connect() as conn:
        return conn.exec_driver_sql(_ANY, {"m": ledger}).first() is not None

"""The mark of a migration: a short random token recorded once, in its first generation.

A contact created by this migration carries the mark in its ``external_id``
(mapping.people): when a lookup settles an in-doubt ``POST /contacts``, and when a rollback
decides what to delete, only a contact with this mark counts as this migration's own. The
migration's name cannot serve: a migration in another ledger database may share it. Every
generation of a migration (ledger.generations) uses the mark of the first, so a contact's
``external_id`` is the same after a rollback and a new ``migrate``.
"""

from __future__ import annotations

import secrets

from sqlalchemy.engine import Connection

from ledger.events import MigrationMarked
from ledger.store import Ledger

_KEY = "mark"


def new_mark() -> str:
    """A fresh mark: ``m`` and 10 hex digits (never all digits, so never a Hesk id)."""
    return "m" + secrets.token_hex(5)


def recorded_mark(ledger: Ledger, *, conn: Connection | None = None) -> str:
    """The mark recorded for this ledger id, or "" when none is yet."""
    found = ledger.get(_KEY, conn=conn)
    event = found.event if found is not None else None
    return event.mark if isinstance(event, MigrationMarked) else ""


def migration_mark(ledger: Ledger, *, conn: Connection | None = None) -> str:
    """This ledger id's mark, recorded now if it has none (the first writer's mark wins)."""
    mark = recorded_mark(ledger, conn=conn)
    if mark:
        return mark
    ledger.append_one(
        MigrationMarked(object="migration", source_id=ledger.migration_id, mark=new_mark()),
        conn=conn,
    )
    return recorded_mark(ledger, conn=conn)

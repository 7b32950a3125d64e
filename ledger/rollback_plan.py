"""The rollback plan: a projection of the write protocol's events.

One row per Intercom object this migration **created** — a ``WriteSucceeded`` with
``created=True``, or a ``WriteResolved`` that proved the object an in-doubt create found is
this migration's — keyed by the intent's key. A write that only matched an existing object
(``created=False``: a contact answered with 409, a tag, attribute or collection that
existed, anything a lookup found that is not proven ours) never gets a row, and a
``RollbackDeleted`` or ``RollbackKept`` removes the row: what is left is what a rollback
still has to delete. Creates still in doubt (an intent without outcome) are kept apart:
the ledger does not prove them, so they are reported, never deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict, cast

from sqlalchemy.engine import Engine

from ledger.events import (
    Recorded,
    RollbackDeleted,
    RollbackKept,
    WriteFailed,
    WriteIntended,
    WriteResolved,
    WriteSucceeded,
)

#: Deletion order: dependants before what they depend on.
#: Ticket types and their attributes are never deleted: the API cannot delete them, and the
#: next generation links them by name.
ORDER = (
    "ticket",
    "conversation",
    "article",
    "collection",
    "contact",
    "tag",
    "conversation_attribute",
)
#: How each type is deleted ("archived" where the API cannot delete).
VERB = {t: "deleted" for t in ORDER} | {"conversation_attribute": "archived"}


class PlanRow(TypedDict, total=False):
    """One row of the rollback plan (a create of ours), as :func:`plan_rows` returns it.

    ``key`` is the intent's key; ``type`` the Intercom type created; ``state`` is
    ``created`` (``id`` set, ``proof``: ``succeeded`` or ``resolved`` with ``why``) or
    ``in-doubt``; ``seq`` orders the creates.
    """

    key: str
    object: str
    source_id: str
    op: str
    seq: int
    type: str
    state: str
    id: str
    proof: str
    why: str


class RollbackPlan:
    """Per created object (by intent key): its Intercom id and type, until it is deleted."""

    name = "rollback_plan"
    types: tuple[str, ...] | None = (
        WriteIntended.TYPE,
        WriteSucceeded.TYPE,
        WriteResolved.TYPE,
        WriteFailed.TYPE,
        RollbackDeleted.TYPE,
        RollbackKept.TYPE,
    )
    omitted: tuple[str, ...] = ()

    def keys(self, recorded: Recorded) -> Iterable[str]:
        """The intent key of a create, its outcome or its deletion (nothing otherwise)."""
        e = recorded.event
        if isinstance(e, WriteIntended):
            return (e.key,) if e.target.get("creates") in ORDER else ()
        if isinstance(e, WriteSucceeded | WriteResolved):
            return (e.intent_key,) if e.intercom_type in ORDER else ()
        if isinstance(e, RollbackDeleted | RollbackKept | WriteFailed):
            return (e.intent_key,)
        return ()

    def apply(self, key: str, value: Any, recorded: Recorded) -> Any:
        """Fold one event into the created object's row (None: nothing left to delete)."""
        e = recorded.event
        if isinstance(e, RollbackDeleted | RollbackKept):
            return None
        if isinstance(e, WriteIntended):
            return {
                "object": e.object,
                "source_id": e.source_id,
                "op": e.operation,
                "seq": recorded.seq,
                "type": e.target.get("creates"),
                "state": "in-doubt",
            }
        if value is None:  # an outcome whose intent is not a create of ours
            return None
        if isinstance(e, WriteFailed):  # refused: not made (unless it could not be checked)
            return value if "in doubt" in e.reason else None
        if isinstance(e, WriteSucceeded):
            proven = e.created and bool(e.intercom_id)
            return (
                {**value, "state": "created", "id": e.intercom_id, "proof": "succeeded"}
                if proven
                else None
            )
        assert isinstance(e, WriteResolved)
        if not e.found:
            return None  # proven not made: a later attempt has its own intent
        if not (e.created and e.intercom_id):
            return None
        # "why": how the lookup proved it ours; empty from versions that matched by name
        return {
            **value,
            "state": "created",
            "id": e.intercom_id,
            "proof": "resolved",
            "why": str(e.detail.get("proof") or ""),
        }


def rank(intercom_type: str) -> int:
    """Position of a type in the deletion order."""
    return ORDER.index(intercom_type) if intercom_type in ORDER else len(ORDER)


def plan_rows(
    engine: Engine, migration_id: str, intercom_type: str, state: str = "created"
) -> list[PlanRow]:
    """Rows of the plan of one type, newest creation first (children before parents)."""
    sql = (
        "SELECT key, value FROM projection_rows WHERE projection = %(p)s AND migration_id = "
        "%(m)s AND value->>'type' = %(t)s AND value->>'state' = %(s)s "
        "ORDER BY (value->>'seq')::bigint DESC"
    )
    params = {"p": RollbackPlan.name, "m": migration_id, "t": intercom_type, "s": state}
    with engine.connect() as conn:
        # the stored value is the row without its key
        return [cast(PlanRow, {**v, "key": k}) for k, v in conn.exec_driver_sql(sql, params)]


def plan_counts(engine: Engine, migration_id: str) -> tuple[dict[str, int], dict[str, int]]:
    """Per type, in deletion order: objects created (to delete) and creates in doubt."""
    sql = (
        "SELECT value->>'type', value->>'state', count(*) FROM projection_rows "
        "WHERE projection = %(p)s AND migration_id = %(m)s GROUP BY 1, 2"
    )
    created: dict[str, int] = {}
    doubt: dict[str, int] = {}
    with engine.connect() as conn:
        for t, state, n in conn.exec_driver_sql(sql, {"p": RollbackPlan.name, "m": migration_id}):
            (created if state == "created" else doubt)[t] = int(n)
    return (
        dict(sorted(created.items(), key=lambda kv: rank(kv[0]))),
        dict(sorted(doubt.items(), key=lambda kv: rank(kv[0]))),
    )

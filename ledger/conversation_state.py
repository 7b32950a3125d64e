"""Folds over one ticket unit's write events (the ledger's answer, not Intercom's)."""

from __future__ import annotations

from collections.abc import Iterable

from ledger.events import Recorded, WriteIntended, WriteResolved, WriteSucceeded


def conversation_closed(events: Iterable[Recorded]) -> bool:
    """Whether the last state write (close/open) made on a ticket's conversation closed it.

    ``events``: the ticket unit's events in seq order (others are ignored).
    """
    intents: dict[str, str] = {}
    last = ""
    for rec in events:
        e = rec.event
        if isinstance(e, WriteIntended) and e.operation in ("close", "open"):
            intents[e.key] = e.operation
        elif (
            isinstance(e, WriteSucceeded | WriteResolved)
            and e.intent_key in intents
            and getattr(e, "found", True)
        ):
            last = intents[e.intent_key]
    return last == "close"


def ticket_state_written(events: Iterable[Recorded]) -> str | None:
    """The op (``state:<id>:open|closed``) of the last state write made on a ticket, if any.

    ``events``: the ticket unit's events in seq order (others are ignored).
    """
    intents: dict[str, str] = {}
    last: str | None = None
    for rec in events:
        e = rec.event
        if isinstance(e, WriteIntended) and e.operation.startswith("state:"):
            intents[e.key] = e.operation
        elif (
            isinstance(e, WriteSucceeded | WriteResolved)
            and e.intent_key in intents
            and getattr(e, "found", True)
        ):
            last = intents[e.intent_key]
    return last


def ticket_content_written(events: Iterable[Recorded]) -> dict[str, str] | None:
    """What the ticket's writes so far left on it (``attributes``, ``admin``, ``team``).

    Folds the ``sets`` of each succeeded write's intent, oldest first; None while no write
    of the ticket succeeded (it is not created yet). A ticket created before writes said
    what they set gives an empty dict: its content is unknown.
    ``events``: the ticket unit's events in seq order (others are ignored).
    """
    intents: dict[str, dict[str, str]] = {}
    out: dict[str, str] | None = None
    for rec in events:
        e = rec.event
        if isinstance(e, WriteIntended) and e.operation in ("create", "update", "assign"):
            intents[e.key] = dict(e.target.get("sets") or {})
        elif (
            isinstance(e, WriteSucceeded | WriteResolved)
            and e.intent_key in intents
            and getattr(e, "found", True)
        ):
            out = {**(out or {}), **intents[e.intent_key]}
    return out

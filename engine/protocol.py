"""The write protocol: exactly once against an API without idempotency keys.

For every Step of a unit: append ``WriteIntended`` (durable) before the HTTP call, call
Intercom, append the outcome. An intent without an outcome is *in doubt* (a crash, a
timeout, a lost response): before anything is sent again, a lookup asks Intercom whether
the write happened and ``WriteResolved`` records the answer; only a proven miss is sent
again, as a new attempt with its own key. One worker runs a unit at a time (a Postgres
advisory lock, see units.py), so an intent without an outcome really is in doubt.

To save a commit per call, an outcome is written together with the next intent (or at
the end of the unit): an outcome lost in a crash only makes its write in doubt, which the
lookup settles. Writes into an object the unit already has (a ticket's replies) have their
intents recorded ahead, several in one statement (``intend_ahead``); each call must leave
within AHEAD_SECONDS of that statement, or it is settled as not sent and goes again as its
next attempt.

Created or matched (engine.matching): a create of a tag, a conversation attribute or a
collection first looks for one with its name; one that exists is linked
(``WriteSucceeded(created=False)``) and nothing is sent. What the pre-check saw goes into
the intent, and an in-doubt create counts as created only when the object found is proven
this migration's (its mark, or absent from that pre-check). Rollback deletes only what
was created.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from core.errors import H2IError
from core.logs import get_logger
from engine import matching
from engine.resources import Resources
from intercom_api import lookups
from intercom_api.errors import (
    IDEMPOTENT_METHODS,
    Conflict,
    InDoubt,
    IntercomError,
    Invalid,
    NotFound,
    NotSent,
    RateLimited,
    ServerError,
)
from ledger.database import translate_db_error
from ledger.events import (
    Event,
    Recorded,
    WriteFailed,
    WriteInDoubt,
    WriteIntended,
    WriteResolved,
    WriteSucceeded,
)
from ledger.keys import outcome_key, write_key
from ledger.sessions import HeldLock, ping, seconds_since
from ledger.store import SettlementsRead
from mapping.steps import LookupKind, Step

log = get_logger(__name__)
MAX_ATTEMPTS = 5


class _Subject(TypedDict):
    """What every event recorded about one write names: its record and its intent."""

    object: str
    source_id: str
    intent_key: str


@dataclass(frozen=True)
class Outcome:
    """How a step ended: the Intercom id it produced or found, or why it failed."""

    intercom_id: str = ""
    created: bool = False
    failed: str = ""

    @property
    def ok(self) -> bool:
        """True when the write is in Intercom (made now, before, or matched)."""
        return not self.failed


@dataclass
class UnitRun:
    """The ledger state of one unit while a worker runs it, with unflushed outcomes."""

    res: Resources
    object: str
    source_id: str
    known: dict[str, Recorded | Event] = field(default_factory=dict)
    buffer: list[Event] = field(default_factory=list)
    api_calls: int = 0
    unreadable_files: set[str] = field(default_factory=set)
    #: The unit's own object was created by this run just now (not found, not linked): a
    #: find-first step inside it (an attribute of a new ticket type) has nothing to find.
    created_unit: bool = False
    #: The autocommit connection holding the unit's lock (units.py), used for appends.
    conn: Connection | None = None
    #: The Intercom id of the unit's own object once created or found (its conversation,
    #: ticket or ticket type): the parent its later steps write into and are looked up in.
    unit_id: str = ""
    #: Workspace listings read once per unit run and shared by its find-first steps and
    #: pre-checks (``matching.listing``): a ticket type's attributes, the conversation
    #: attributes. Names within a unit differ, so one reading serves each of its steps.
    listings: dict[str, list[Any]] = field(default_factory=dict)
    #: A ticket's replies, notes and attachments as read with its lock (None: not read).
    children: list[Recorded] | None = None
    #: A ticket's dependencies' settlements as read with its lock (None: not read).
    settled_ahead: SettlementsRead | None = None
    #: Intents recorded ahead of their calls (``intend_ahead``), by key: the monotonic
    #: time by which each call must have started, or it is not sent on that intent.
    ahead: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        res: Resources,
        obj: str,
        source_id: str,
        *,
        conn: Connection | None = None,
        found: list[Recorded] | None = None,
    ) -> UnitRun:
        """Load every event already recorded for this unit (one indexed query), or take
        them as ``found`` (read with the unit's lock).

        With ``conn`` (the unit's lock connection) the read and every later append run on it.
        """
        run = cls(res, obj, source_id, conn=conn)
        if found is None and conn is not None:
            found = res.ledger.unit_events(obj, source_id, conn=conn)
        elif found is None:
            found = list(res.ledger.read(objects=[obj], source_id=source_id))
        for rec in found:
            run.known[rec.event.key] = rec
        return run

    def recorded(self) -> list[Recorded]:
        """The unit's events as loaded from the ledger, in seq order."""
        return [r for r in self.known.values() if isinstance(r, Recorded)]

    def newest(self, *kinds: type[Event]) -> Event | None:
        """The newest loaded event of the unit's own record that is one of ``kinds``."""
        found = [r.event for r in self.recorded() if isinstance(r.event, kinds)]
        return found[-1] if found else None

    def record(self, event: Event) -> None:
        """Queue an event for the next flush."""
        self.known[event.key] = event
        self.buffer.append(event)

    def flush(self, *durable: Event) -> None:
        """Append queued events plus ``durable`` in one transaction."""
        for e in durable:
            self.known[e.key] = e
        events = [*self.buffer, *durable]
        if events:
            ledger = self.res.ledger
            if self.conn is not None and len(events) <= ledger.batch_size:
                # One autocommit INSERT on the lock's connection: atomic on its own, as
                # Ledger.append's own autocommit path, without a pool checkout and ping.
                try:
                    ledger.append(events, conn=self.conn)
                except DBAPIError as err:
                    raise translate_db_error(err, ledger.engine.url) from None
            else:
                ledger.append(events)
        self.buffer.clear()

    def finish(self, lock: HeldLock) -> None:
        """Append the queued events and let the unit's ``lock`` go, in one statement (the
        unit stays locked until they are committed); with nothing queued, only the unlock."""
        self.settle_ahead("its unit ended first")
        ledger = self.res.ledger
        if not self.buffer or self.conn is not lock.conn or len(self.buffer) > ledger.batch_size:
            self.flush()
            lock.release()
            return
        try:
            lock.release(by=ledger.append_unlock_statement(self.buffer, lock.name))
        except DBAPIError as err:
            raise translate_db_error(err, ledger.engine.url) from None
        self.buffer.clear()

    def settle_ahead(self, why: str) -> None:
        """Queue a not-made outcome for each intent recorded ahead whose call was never
        handed to the client (``why`` says what stopped it)."""
        for key in self.ahead:
            _not_sent(self, key, why)
        self.ahead.clear()

    def abandon(self) -> None:
        """On the way out of a unit that raised: record what it knows (the outcomes queued,
        the intents recorded ahead and never sent) while it still holds the lock, so the
        next run looks up only what really is in doubt. Best effort: the error that ended
        the unit is what matters, and a failed append only leaves those writes in doubt."""
        self.settle_ahead("its unit stopped first")
        if self.conn is None or not self.buffer:
            return
        try:
            self.flush()
        except (DBAPIError, H2IError):
            self.buffer.clear()

    def check_lock(self) -> None:
        """Raise unless the session holding the unit's lock is still alive.

        Run before the client sends a write again (after a 429 or a connect error and its
        wait): if Postgres restarted meanwhile, the lock is gone and another worker may own
        the unit, so this worker must not send; the intent stays in doubt for the lookup.
        """
        if self.conn is not None:
            try:
                ping(self.conn)
            except DBAPIError as err:
                raise translate_db_error(err, self.res.ledger.engine.url) from None

    def event(self, key: str) -> Event | None:
        """The event recorded under ``key`` in this unit, if any."""
        found = self.known.get(key)
        if isinstance(found, Recorded):
            return found.event
        return found


#: Beyond the client's timeout, how long a request may still take to land.
LANDING_MARGIN_SECONDS = 5.0


def run_step(
    run: UnitRun,
    step: Step,
    path: str,
    body: dict[str, Any],
    *,
    landing_margin: float = LANDING_MARGIN_SECONDS,
) -> Outcome:
    """Make sure this step's write is in Intercom exactly once; say how it ended.

    ``landing_margin``: beyond the client's timeout, how long an earlier run's request may
    still take to land (a lookup that misses its write before then proves nothing).
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        intent_key = write_key(step.op, run.object, run.source_id, step.identity_hash, attempt)
        send_by = run.ahead.pop(intent_key, None)
        if send_by is not None:  # its intent was recorded ahead (intend_ahead)
            intended = run.event(intent_key)
            assert isinstance(intended, WriteIntended)
            app = intended.target["app"]
            outcome = _call(run, step, intent_key, path, body, app, send_by=send_by)
            if outcome is not None:
                return outcome
            continue  # in doubt and proven not made, or not sent in time: a new attempt
        if run.event(intent_key) is None:
            if step.find_first and attempt == 1 and not run.created_unit:
                matched = _find_first(run, step, intent_key, path, body)
                if matched is not None:
                    return matched
            target = _target(run, step, path)
            app = target["app"]
            checked = matching.precheck(run, step, body) if matching.prechecked(step) else None
            if checked is not None:
                target["before"] = checked.before  # what a lookup must not take for ours
                if checked.settles:
                    target["sent"] = False
            intent = _intent(run, step, attempt, target)
            if checked is not None and checked.settles:
                return _link(run, step, intent, body, checked)
            run.flush(intent)  # durable before the call
            outcome = _call(run, step, intent_key, path, body, app)
            if outcome is not None:
                return outcome
            continue  # in doubt and proven not made: a new attempt
        settled = _settled(run, step, intent_key, path, body, landing_margin)
        if settled is not None:
            return settled
    return Outcome(failed=f"{step.op}: gave up after {MAX_ATTEMPTS} attempts")


def _target(run: UnitRun, step: Step, path: str) -> dict[str, Any]:
    """What an intent says it sends: method, path, what it creates, and the app (token)
    that sends it."""
    target: dict[str, Any] = {
        "method": step.method,
        "path": path,
        "creates": step.creates,
        "app": run.res.client.next_app(),
    }
    if step.sets:
        target["sets"] = dict(step.sets)  # what the object has once this is written
    return target


def _intent(run: UnitRun, step: Step, attempt: int, target: dict[str, Any]) -> WriteIntended:
    return WriteIntended(
        object=run.object,
        source_id=run.source_id,
        operation=step.op,
        content_hash=step.identity_hash,
        attempt=attempt,
        target=target,
    )


#: Longest a call may wait after its intent was recorded ahead (``intend_ahead``); well
#: inside the landing margin, which is how long a lookup's miss is not trusted.
AHEAD_SECONDS = 2.0
#: Most intents recorded ahead in one statement.
AHEAD_MAX = 8
#: Why an intent recorded ahead was settled as not made when its batch's time ran out.
NOT_SENT_IN_TIME = "its time to be sent ran out"


def can_intend_ahead(run: UnitRun, step: Step) -> bool:
    """Whether ``step``'s first intent may be recorded ahead of its call: a write into an
    existing object (no create, no find-first, no pre-check) not intended yet."""
    if step.creates or step.find_first or matching.prechecked(step):
        return False
    key = write_key(step.op, run.object, run.source_id, step.identity_hash, 1)
    return key not in run.ahead and run.event(key) is None


def intend_ahead(run: UnitRun, steps: Sequence[tuple[Step, str]]) -> None:
    """Record the first intents of ``steps`` (each with its path) in one statement, with
    the outcomes queued before them, so each of their calls needs no statement of its own.

    Each call is still sent only after its intent is durable, and only within
    AHEAD_SECONDS of it: a worker that lost its lock meanwhile (Postgres restarted) may
    still send those, and a lookup's miss is trusted only a landing margin past the
    client's timeout after the intent, so the next runner waits for them as for one call.
    """
    intents = [_intent(run, step, 1, _target(run, step, path)) for step, path in steps]
    due = time.monotonic() + AHEAD_SECONDS
    run.flush(*intents)
    for intent in intents:
        run.ahead[intent.key] = due


def _not_sent(run: UnitRun, intent_key: str, why: str) -> None:
    """Settle an intent recorded ahead whose call was never sent: proven not made."""
    run.record(
        WriteResolved(
            object=run.object,
            source_id=run.source_id,
            intent_key=intent_key,
            found=False,
            created=False,
            detail={"proof": f"not sent: {why}"},
        )
    )


def _link(
    run: UnitRun,
    step: Step,
    intent: WriteIntended,
    body: dict[str, Any],
    checked: matching.Precheck,
) -> Outcome:
    """Settle a create whose pre-check found the object already there: link it, or refuse.

    Nothing is sent; the intent (``sent: false``) and its outcome are recorded together.
    """
    common: _Subject = {"object": run.object, "source_id": run.source_id, "intent_key": intent.key}
    if checked.refused:
        reason = f"{step.op} not sent: {checked.refused}"
        run.flush(intent, WriteFailed(**common, reason=reason))
        return Outcome(failed=reason)
    assert checked.match is not None
    intercom_id = str(checked.match["id"])
    run.flush(
        intent,
        WriteSucceeded(
            **common,
            intercom_id=intercom_id,
            intercom_type=step.creates,
            created=False,
            detail=matching.matched_detail(step, body),
        ),
    )
    return Outcome(intercom_id, created=False)


def _settled(
    run: UnitRun,
    step: Step,
    intent_key: str,
    path: str,
    body: dict[str, Any],
    landing_margin: float,
) -> Outcome | None:
    """The outcome of an earlier intent, resolving it by lookup if it is in doubt."""
    ok = run.event(outcome_key(intent_key, "ok"))
    if isinstance(ok, WriteSucceeded):
        return Outcome(ok.intercom_id, ok.created)
    failed = run.event(outcome_key(intent_key, "failed"))
    if isinstance(failed, WriteFailed):
        return Outcome(failed=failed.reason)
    resolved = run.event(outcome_key(intent_key, "resolved"))
    if isinstance(resolved, WriteResolved):
        return Outcome(resolved.intercom_id, resolved.created) if resolved.found else None
    return _resolve(
        run,
        step,
        intent_key,
        path,
        body,
        earlier=run.known.get(intent_key),
        landing_margin=landing_margin,
    )


#: Kinds of transient errors counted per write (``detail.retried`` of its outcome).
_TRANSIENT_KINDS = {RateLimited: "rate_limited", ServerError: "server_error"}
#: Intercom objects whose answer carries a public ``url`` kept on the outcome.
_PUBLIC_OBJECTS = ("article", "collection")


def _transient_kind(err: IntercomError) -> str:
    return next((k for t, k in _TRANSIENT_KINDS.items() if isinstance(err, t)), "unavailable")


def _public_detail(answer: dict[str, Any]) -> dict[str, Any]:
    """An article's or collection's public ``url`` and ``state``, as Intercom answered."""
    if answer.get("type") not in _PUBLIC_OBJECTS or "url" not in answer:
        return {}
    kept = {"url": answer.get("url")}
    if "state" in answer:
        kept["state"] = answer.get("state")
    return kept


def _sent_by(client: Any, app: str) -> dict[str, Any]:
    """The outcome's note of the app that sent the write, when not the intent's: a 429 or
    401 from that one (nothing processed) moved the call to another."""
    sent = client.last_app
    return {"sent_by_app": sent} if sent and sent != app else {}


def _call(
    run: UnitRun,
    step: Step,
    intent_key: str,
    path: str,
    body: dict[str, Any],
    app: str = "",
    *,
    send_by: float | None = None,
) -> Outcome | None:
    common: _Subject = {"object": run.object, "source_id": run.source_id, "intent_key": intent_key}
    run.api_calls += 1
    client = run.res.client
    retried: Counter[str] = Counter()

    def detail(**more: Any) -> dict[str, Any]:
        more = {**more, **_sent_by(client, app)}
        return {**more, "retried": dict(retried)} if retried else more

    try:
        answer = client.request(
            step.method,
            path,
            json=body,
            before_retry=run.check_lock,
            app=app or None,
            on_transient=lambda err: retried.update((_transient_kind(err),)),
            send_by=send_by,
        )
    except NotSent:
        # The rest of its batch was recorded at the same time: none of them is sent on
        # those intents either (each would take a slot from the pacers only to be refused).
        _not_sent(run, intent_key, NOT_SENT_IN_TIME)
        run.settle_ahead(NOT_SENT_IN_TIME)
        return None
    except Conflict as err:
        if step.lookup_kind == LookupKind.CONTACT and err.existing_id:
            run.record(
                WriteSucceeded(
                    **common,
                    intercom_id=err.existing_id,
                    intercom_type="contact",
                    created=False,
                    detail=detail(matched="409 conflict"),
                )
            )
            return Outcome(err.existing_id, created=False)
        reason = f"Intercom refused {step.op}: {err.message}"
        run.record(WriteFailed(**common, reason=reason, detail=detail()))
        return Outcome(failed=reason)
    except InDoubt as err:
        moved = _sent_by(client, app)
        reason = err.reason or err.message
        if moved:
            reason += f" (sent by app {moved['sent_by_app']})"
        run.record(WriteInDoubt(**common, reason=reason, detail=detail()))
        log.info("write.in_doubt", op=step.op, unit=f"{run.object}:{run.source_id}")
        return _resolve(run, step, intent_key, path, body)
    except (Invalid, NotFound) as err:
        reason = f"Intercom refused {step.op}: {err.message}"
        run.record(WriteFailed(**common, reason=reason, detail=detail()))
        return Outcome(failed=reason)
    intercom_id = _result_id(answer, step)
    run.record(
        WriteSucceeded(
            **common,
            intercom_id=intercom_id,
            intercom_type=step.creates,
            created=bool(step.creates),
            detail=detail(**_public_detail(answer)),
        )
    )
    return Outcome(intercom_id, created=bool(step.creates))


def _find_first(
    run: UnitRun, step: Step, intent_key: str, path: str, body: dict[str, Any]
) -> Outcome | None:
    """Find-or-create: link what already exists (``created=False``), or None to create it.

    The intent is recorded with its outcome, so the ledger shows a matched write like a 409
    contact; a rollback never deletes it. A found object that does not fit (an attribute
    of another data type) fails the step with the reason.
    """
    intent = WriteIntended(
        object=run.object,
        source_id=run.source_id,
        operation=step.op,
        content_hash=step.identity_hash,
        attempt=1,
        target={"method": step.method, "path": path, "creates": step.creates},
    )
    common: _Subject = {"object": run.object, "source_id": run.source_id, "intent_key": intent_key}
    try:
        found = matching.find_first_object(run, step, body)
    except lookups.Unresolvable as err:
        run.record(intent)
        run.record(WriteFailed(**common, reason=f"{step.op}: {err.message}"))
        return Outcome(failed=f"{step.op}: {err.message}")
    if not found:
        return None
    run.record(intent)
    run.record(
        WriteSucceeded(
            **common,
            intercom_id=found,
            intercom_type=step.creates,
            created=False,
            detail={"matched": "existing, by name"},
        )
    )
    return Outcome(found, created=False)


def _result_id(answer: dict[str, Any], step: Step) -> str:
    value = answer.get(step.result_id) or answer.get("id") or ""
    return str(value)


def _resolve(
    run: UnitRun,
    step: Step,
    intent_key: str,
    path: str,
    body: dict[str, Any],
    earlier: Recorded | Event | None = None,
    landing_margin: float = LANDING_MARGIN_SECONDS,
) -> Outcome | None:
    """Ask Intercom whether an in-doubt write happened; record and return what it says.

    ``earlier``: the intent as loaded, when another run (a worker since gone) recorded it;
    a miss on it is proven only ``landing_margin`` seconds past the client's timeout.
    """
    common: _Subject = {"object": run.object, "source_id": run.source_id, "intent_key": intent_key}
    try:
        found = matching.settle(run, step, intent_key, body)
    except lookups.Unresolvable as err:
        reason = f"{step.op} is in doubt and cannot be checked: {err.message}"
        run.record(WriteFailed(**common, reason=reason))
        return Outcome(failed=reason)
    if found is None and isinstance(earlier, Recorded):
        _refuse_young_miss(run, step, earlier, landing_margin)
    run.record(
        WriteResolved(
            **common,
            found=found is not None,
            intercom_id=found.intercom_id if found else "",
            intercom_type=step.creates,
            created=found.created if found else False,
            detail=found.detail if found else {},
        )
    )
    run.flush()
    return Outcome(found.intercom_id, created=found.created) if found else None


class IntentTooYoung(H2IError):
    """An earlier run's write looked up and not found, but its request may still land."""

    transient = True


def _refuse_young_miss(run: UnitRun, step: Step, intent: Recorded, landing_margin: float) -> None:
    """Raise IntentTooYoung while another worker's request for ``intent`` may be in flight.

    A worker whose lock was lost while it lived (Postgres restarted) may still be sending
    this write: a miss proves nothing until its request has landed or timed out. A miss on
    an older intent is a proven miss. The ages are taken on the database's clock.
    """
    if run.conn is None or step.method in IDEMPOTENT_METHODS:
        return  # sending a PUT again changes nothing: its miss needs no proof
    age = seconds_since(run.conn, intent.recorded_at)
    wait = run.res.client.timeout + landing_margin - age
    if wait > 0:
        run.flush()  # keep the outcomes already known
        raise IntentTooYoung(
            f"{step.op} of {run.object}:{run.source_id} is in doubt and not found yet; "
            f"looked up again in {wait:.0f} s (its request may still land)"
        )

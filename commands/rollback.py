"""``rollback``: delete every Intercom object this migration created, derived from the ledger.

The plan is the ``RollbackPlan`` projection (ledger/rollback_plan.py): created objects
not yet deleted; objects the migration only matched (``created=False``) are never in it.
Deletions go in reverse dependency order (conversations — their parts go with them —,
articles, collections children first, contacts, tags, then conversation attributes, which
Intercom can only archive). Each deletion is a ``RollbackDeleted`` event; a 404 means
already gone and counts as done. A rollback stopped at any instant is resumed by running
it again: the plan no longer holds what was deleted.

An object in the plan that is found not to be this migration's after all (a contact an
in-doubt lookup settled that lacks this migration's mark, or an in-doubt create an older
version settled by name alone) is left in Intercom with a ``RollbackKept`` event saying
why (engine.deletion): it leaves the plan and never blocks the rollback. Every object left
is named, with its reason, in the output and in ``RollbackCompleted.kept``.

When nothing is left, ``RollbackCompleted`` closes the generation and the next one is
started (ledger.generations): a new ``migrate`` starts cleanly, with the confirmed map.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from rich.markup import escape

from core.errors import H2IError
from core.logs import get_logger
from core.settings import Settings
from engine.deletion import Target, delete_created
from engine.protocol import UnitRun, run_step
from engine.resources import Resources
from ledger.events import (
    GenerationStarted,
    MapConfirmed,
    RollbackCompleted,
    RollbackDeleted,
    RollbackKept,
    RollbackStarted,
    RunStarted,
    WriteIntended,
    confirmed_map_event,
)
from ledger.generations import Generation, active_generation, has_events
from ledger.projections import ProjectionTable
from ledger.rollback_plan import ORDER, VERB, RollbackPlan, plan_counts, plan_rows
from ledger.store import Ledger
from mapping.common import identity
from mapping.defaults import builtin_attributes
from mapping.steps import LookupKind, Step

log = get_logger(__name__)


class UnknownMigration(H2IError):
    """The ledger holds nothing for this migration name."""

    exit_code = 2


class RollbackPending(H2IError):
    """Some created objects could not be deleted yet; running rollback again resumes."""

    exit_code = 4


@dataclass
class RollbackSummary:
    """What a rollback has to do (a plan) or did (a result)."""

    migration: str
    generation: int
    to_delete: dict[str, int] = field(default_factory=dict)
    in_doubt: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    already_gone: dict[str, int] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    #: Creates still in doubt (type, object, source_id): never deleted, the ledger does
    #: not prove them.
    unsettled: list[dict[str, str]] = field(default_factory=list)
    already_rolled_back: bool = False
    completed: bool = False


def _table(res: Resources) -> ProjectionTable:
    return ProjectionTable(res.engine, res.ledger.migration_id, RollbackPlan())


def _count(res: Resources) -> tuple[dict[str, int], dict[str, int]]:
    return plan_counts(res.engine, res.ledger.migration_id)


def check_migration(res: Resources, gen: Generation) -> None:
    """Raise UnknownMigration when the ledger has never heard of this migration."""
    if has_events(res.engine, res.ledger.migration_id):
        return
    if gen.previous_id is None:
        raise UnknownMigration(
            f"no migration named {gen.migration!r} in the ledger: nothing to roll back",
            hint="check H2I_MIGRATION (hesk2intercom status shows what the ledger holds)",
        )


def plan_rollback(res: Resources) -> RollbackSummary:
    """What a rollback of the active generation would delete (changes nothing)."""
    gen = active_generation(res.engine, res.settings.migration)
    check_migration(res, gen)
    summary = RollbackSummary(gen.migration, gen.number)
    if gen.previous_id is not None and not res.ledger.count(
        types=[RunStarted.TYPE, WriteIntended.TYPE, RollbackStarted.TYPE]
    ):
        summary.already_rolled_back = True  # nothing ran since the last rollback
        done = Ledger(res.engine, gen.previous_id).latest(RollbackCompleted.TYPE)
        if done is not None and isinstance(done.event, RollbackCompleted):
            summary.kept = [_kept_line(k) for k in done.event.kept]
        return summary
    _table(res).catch_up()
    summary.to_delete, summary.in_doubt = _count(res)
    return summary


def run_name(gen: Generation) -> str:
    """The rollback run of a generation: one per generation, resumed under the same name."""
    return f"rollback-{gen.number}"


def run_rollback(
    res: Resources,
    *,
    threads: int = 4,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> RollbackSummary:
    """Delete what the plan holds, type by type; complete the rollback when nothing is left."""
    summary = plan_rollback(res)
    if summary.already_rolled_back:
        return summary
    gen = active_generation(res.engine, res.settings.migration)
    run = run_name(gen)
    res.ledger.append_one(RollbackStarted(object="rollback", source_id=run, run=run))
    archived: list[dict[str, Any]] = []
    for intercom_type in ORDER:
        rows = plan_rows(res.engine, res.ledger.migration_id, intercom_type)
        if not rows:
            continue
        targets = [
            Target(
                r["key"],
                r["object"],
                r["source_id"],
                str(r["id"]),
                intercom_type,
                r.get("proof", ""),
                r.get("op", ""),
                r.get("why", ""),
            )
            for r in rows
        ]
        done = 0

        def one(target: Target) -> tuple[Target, str]:
            return target, delete_created(res, run, target)

        # Collections go one by one, children first; the rest in parallel.
        workers = 1 if intercom_type == "collection" else max(1, threads)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for target, outcome in pool.map(one, targets):
                done += 1
                if outcome in ("deleted", "already_gone"):
                    bucket = summary.deleted if outcome == "deleted" else summary.already_gone
                    bucket[intercom_type] = bucket.get(intercom_type, 0) + 1
                    if intercom_type == "conversation_attribute":
                        archived.append(target.attribute_ref())
                elif not outcome.startswith("kept"):
                    summary.failed.append(f"{intercom_type} {target.intercom_id}: {outcome}")
                if on_progress:
                    on_progress(intercom_type, done, len(targets))
    _table(res).catch_up()
    left, summary.in_doubt = _count(res)
    summary.to_delete = left
    summary.unsettled = _unsettled(res)
    summary.kept = [_kept_line(k) for k in _kept_records(res)]
    if summary.failed or any(left.values()):
        named = summary.failed or [
            f"{t} {r['id']}: not deleted (plan changed during the run)"
            for t in ORDER
            for r in plan_rows(res.engine, res.ledger.migration_id, t)
        ]
        raise RollbackPending(
            f"rollback not finished: {sum(left.values())} object(s) left: "
            + "; ".join(named[:5])
            + (f"; and {len(named) - 5} more" if len(named) > 5 else ""),
            hint="fix the cause (see the message), then run `hesk2intercom rollback` again "
            "to resume",
        )
    _complete(res, gen, run, summary, _archived_by_this_rollback(res, archived))
    summary.completed = True
    return summary


_IN_DOUBT = "its create is in doubt (not proven by the ledger): left untouched"


def _unsettled(res: Resources) -> list[dict[str, str]]:
    """The creates still in doubt: which type, for which source record."""
    return [
        {"type": t, "object": r["object"], "source_id": r["source_id"]}
        for t in ORDER
        for r in plan_rows(res.engine, res.ledger.migration_id, t, state="in-doubt")
    ]


def _kept_line(k: dict[str, str]) -> str:
    """One object a rollback left, for people: ``contact 5f… (of contact x@y): why``."""
    what = f"{k['type']} {k['id']}" if k.get("id") else str(k["type"])
    return f"{what} (of {k['object']} {k['source_id']}): {k['reason']}"


def _kept_records(res: Resources) -> list[dict[str, str]]:
    """Every object this generation's rollback kept on purpose, with why (resumes included)."""
    out = []
    for rec in res.ledger.read(types=[RollbackKept.TYPE]):
        e = rec.event
        assert isinstance(e, RollbackKept)
        out.append(
            {
                "type": e.intercom_type,
                "id": e.intercom_id,
                "object": e.object,
                "source_id": e.source_id,
                "reason": e.reason,
            }
        )
    return out


def _archived_by_this_rollback(res: Resources, fresh: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every conversation attribute this generation's rollback archived (resumes included)."""
    out = {a["id"]: a for a in fresh}
    deleted = {
        e.intent_key: e
        for e in (rec.event for rec in res.ledger.read(types=[RollbackDeleted.TYPE]))
        if isinstance(e, RollbackDeleted)
        and e.intercom_type == "conversation_attribute"
        and e.intercom_id not in out
    }
    for key, rec in res.ledger.get_many(deleted).items():
        e, intent = deleted[key], rec.event
        out[e.intercom_id] = {
            "id": e.intercom_id,
            "object": e.object,
            "source_id": e.source_id,
            "op": getattr(intent, "operation", ""),
        }
    return sorted(out.values(), key=lambda a: (a["object"], a["source_id"], a["op"]))


def _complete(
    res: Resources,
    gen: Generation,
    run: str,
    summary: RollbackSummary,
    archived: list[dict[str, Any]],
) -> None:
    """Close this generation and open the next one with the confirmed map."""
    counts = {t: summary.deleted.get(t, 0) + summary.already_gone.get(t, 0) for t in ORDER}
    the_map = confirmed_map_event(res.ledger)
    nxt = Ledger(res.engine, Generation(gen.migration, gen.number + 1).ledger_id)
    events: list[Any] = [
        GenerationStarted(
            object="generation",
            source_id=str(gen.number + 1),
            previous=res.ledger.migration_id,
            archived_attributes=archived,
        )
    ]
    if isinstance(the_map, MapConfirmed):
        events.append(
            MapConfirmed(
                object="map",
                source_id="map",
                map_hash=the_map.map_hash,
                map=link_archived(the_map.map, archived),
            )
        )
    # The next generation first, then the completion that makes it the active one.
    nxt.append(events)
    res.ledger.append_one(
        RollbackCompleted(
            object="rollback",
            source_id=run,
            run=run,
            counts=counts,
            kept=_kept_records(res)
            + [{**u, "id": "", "reason": _IN_DOUBT} for u in summary.unsettled],
        )
    )


def link_archived(the_map: dict[str, Any], archived: list[dict[str, Any]]) -> dict[str, Any]:
    """The map with each archived attribute linked by id (restored, not created, next time)."""
    out = copy.deepcopy(the_map)
    by_source = {a["source_id"]: a["id"] for a in archived if a["object"] == "custom_field"}
    builtin = {
        a["op"].split(":", 1)[1]: a["id"]
        for a in archived
        if a["object"] == "workspace" and a["op"].startswith("create:")
    }
    if builtin:
        items = out.get("attributes") or builtin_attributes(
            migrate_ip=bool((out.get("options") or {}).get("migrate_ip"))
        )
        out["attributes"] = [
            {**i, "existing_id": builtin.get(str(i["name"]), i.get("existing_id"))} for i in items
        ]
    for item in out.get("custom_fields") or ():
        found = by_source.get(str(item.get("hesk_id")))
        if found is not None:
            item["existing_id"] = found
    return out


def begin_generation(res: Resources) -> None:
    """Before a migrate: refuse during an unfinished rollback; restore archived attributes.

    The attributes a rollback archived keep their names taken in Intercom, so the next
    generation links them (see ``link_archived``) and un-archives them here, through the
    write protocol: the restore is a write of this generation, archived again by its own
    rollback.
    """

    gen_event = None
    for rec in res.ledger.read(types=[RollbackStarted.TYPE, GenerationStarted.TYPE]):
        if isinstance(rec.event, RollbackStarted):
            raise RollbackPending(
                "a rollback of this migration was started and is not finished: "
                "migrate refuses to write into a half-deleted migration",
                hint="run `hesk2intercom rollback --yes` to finish it, then migrate again",
            )
        gen_event = rec.event
    if not isinstance(gen_event, GenerationStarted):
        return
    for attr in gen_event.archived_attributes:
        run = UnitRun.load(res, str(attr["object"]), str(attr["source_id"]))
        step = Step(
            op=f"restore:{attr['id']}",
            method="PUT",
            path=f"/conversations/attributes/{attr['id']}",
            body={"archived": False},
            identity_hash=identity({"restore": str(attr["id"])}),
            lookup={},
            lookup_kind=LookupKind.IDEMPOTENT,
            creates="conversation_attribute",
        )
        run_step(run, step, step.path, step.body)
        run.flush()


def render_rollback(summary: RollbackSummary, console: Any, *, planned: bool) -> None:
    """Print a rollback plan (``planned``) or result."""
    name = escape(summary.migration)
    if summary.already_rolled_back:
        console.print(
            f"Migration [bold]{name}[/] is already rolled back: nothing to delete. "
            "`hesk2intercom migrate` starts it again."
        )
        for line in summary.kept:
            console.print(f"  [yellow]left in Intercom[/] {escape(line)}", highlight=False)
        return
    if planned:
        total = sum(summary.to_delete.values())
        console.print(
            f"Rollback plan of migration [bold]{name}[/] "
            f"(generation {summary.generation}): {total} object(s)"
        )
        for t in ORDER:
            if summary.to_delete.get(t):
                console.print(f"  {VERB[t]:<9} {summary.to_delete[t]:>7} {t}(s)", highlight=False)
        for t, n in summary.in_doubt.items():
            console.print(
                f"  [yellow]in doubt[/] {n} {t}(s): creation not proven by the "
                "ledger, left untouched (run migrate to settle them)"
            )
        console.print(
            "Only objects this migration created are listed; matched ones "
            "(contacts, tags, collections and attributes that existed before, "
            "admins, teams) are never touched."
        )
        return
    for t in ORDER:
        d, g = summary.deleted.get(t, 0), summary.already_gone.get(t, 0)
        if d or g:
            console.print(
                f"  {VERB[t]:<9} {d:>7} {t}(s)" + (f" ({g} already gone)" if g else ""),
                highlight=False,
            )
    for line in summary.kept:
        console.print(f"  [yellow]kept[/] {escape(line)}", highlight=False)
    for u in summary.unsettled:
        console.print(
            f"  [yellow]left[/] {escape(_kept_line({**u, 'reason': _IN_DOUBT}))}", highlight=False
        )
    for line in summary.failed:
        console.print(f"  [red]not deleted[/] {escape(line)}", highlight=False)
    if summary.completed:
        console.print(
            f"Migration [bold]{name}[/] rolled back. `hesk2intercom migrate` "
            "starts it again from a clean slate."
        )


def rollback_plan_for(settings: Settings) -> RollbackSummary:
    """The ``rollback`` command's plan (``--dry-run``): what would be deleted."""
    res = Resources.from_settings(settings)
    try:
        return plan_rollback(res)
    finally:
        res.close()


def rollback_command(settings: Settings, *, threads: int = 4) -> RollbackSummary:
    """The ``rollback`` command: delete what the plan holds."""
    res = Resources.from_settings(settings)
    try:
        return run_rollback(res, threads=threads)
    finally:
        res.close()

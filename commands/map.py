"""``map propose`` / ``map confirm`` / ``map show``: the field map between discover and
preflight.

Each reads Hesk (the reader) and the Intercom workspace (the client), then calls the pure
functions of mapping/. Confirmation records ``MapConfirmed`` with the map and its names
resolved to workspace ids, so workers never look them up again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from commands.workspace import client_for, read_workspace
from core.errors import ConfigError
from core.settings import Settings
from engine.context import resolve_map
from hesk.open import open_source
from hesk.reader_base import records_of
from hesk.records import Category, CustomFieldDefinition, Staff
from ledger.database import open_engine
from ledger.events import MapConfirmed, chosen_target, confirmed_map_event
from ledger.generations import active_ledger_id
from ledger.store import Ledger
from mapping.defaults import DEFAULT_TARGET, TARGETS
from mapping.fieldmap import FieldMap, MapShapeError, parse_map
from mapping.mapfile import dump_map_yaml, load_map_yaml, map_hash
from mapping.proposal import propose_map
from mapping.ticket_target import resolve_ticket_states, target_of
from mapping.validation import validate_map


class TargetLocked(ConfigError):
    """The map asks for another target than the one this migration writes to."""


def check_target(ledger: Ledger, the_map: dict[str, Any]) -> None:
    """Refuse a map whose target differs from the one this migration's runs recorded."""
    recorded = chosen_target(ledger)
    wanted = target_of(the_map)
    if recorded is not None and recorded != wanted:
        raise TargetLocked(
            f"this migration writes tickets as {recorded}; the map asks for {wanted}",
            hint="roll it back first (`hesk2intercom rollback --yes`), or set "
            f"target: {recorded} in the map",
        )


def propose(settings: Settings, target: str = DEFAULT_TARGET) -> dict[str, Any]:
    """The proposed field map for this Hesk source and this workspace."""
    if target not in TARGETS:
        raise ConfigError(f"--target {target}: unknown target", hint="use " + " or ".join(TARGETS))
    with client_for(settings) as client:
        ws = read_workspace(client, tickets=target == "tickets")
    with open_source(settings) as reader:
        return propose_map(
            staff=list(records_of(reader, Staff)),
            categories=list(records_of(reader, Category)),
            custom_fields=list(records_of(reader, CustomFieldDefinition)),
            statuses=reader.statuses,
            priorities=reader.priorities,
            admins=ws.admins,
            teams=ws.teams,
            conversation_attributes=ws.conversation_attributes,
            me=ws.me,
            target=target,
            ticket_states=ws.ticket_states,
        )


def load_map_file(path: Path) -> FieldMap:
    """Read a map file and check its whole shape, or say plainly (one line) what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read the map file {path}: {err.strerror}") from None
    try:
        return parse_map(load_map_yaml(text))
    except MapShapeError as err:
        raise ConfigError(
            f"the map file {path} has {_count(err.problems)}: "
            + "; ".join(err.problems[:5])
            + ("; …" if len(err.problems) > 5 else ""),
            hint="fix it (the header comments list every section and key), or write a new "
            "one with `hesk2intercom map propose --out FILE`",
        ) from None
    except Exception as err:  # YAML errors carry the line and column
        raise ConfigError(
            f"the map file {path} is not valid YAML: {' '.join(str(err).split())}",
            hint="fix it, or write a new one with `hesk2intercom map propose --out FILE`",
        ) from None


def _count(problems: list[str]) -> str:
    return "1 problem" if len(problems) == 1 else f"{len(problems)} problems"


def confirm(settings: Settings, path: Path) -> tuple[MapConfirmed, bool]:
    """Validate the map against the workspace and record it; True if newly recorded."""
    typed = load_map_file(path)
    tickets = typed.target == "tickets"
    with client_for(settings) as client:
        ws = read_workspace(client, tickets=tickets)
    problems = validate_map(
        typed,
        admins=ws.admins,
        teams=ws.teams,
        conversation_attributes=ws.conversation_attributes,
    )
    if problems:
        raise ConfigError(
            f"the map has {_count(problems)}: " + "; ".join(problems[:5]),
            hint=f"edit {path} and run `map confirm` again",
        )
    the_map = typed.to_dict()
    the_map.pop("resolved", None)
    digest = map_hash(the_map)
    the_map["resolved"] = resolve_map(the_map, admins=ws.admins, teams=ws.teams, me=ws.me)
    if tickets:
        the_map["resolved"].update(resolve_ticket_states(the_map, ws.ticket_states))
    event = MapConfirmed(object="map", source_id="map", map_hash=digest, map=the_map)
    engine = open_engine(settings.ledger_url)
    try:
        ledger = Ledger(engine, active_ledger_id(engine, settings.migration))
        check_target(ledger, the_map)
        is_new = ledger.append_one(event)
    finally:
        engine.dispose()
    return event, is_new


def confirmed_map(settings: Settings) -> dict[str, Any] | None:
    """The newest confirmed map of this migration, if any."""
    engine = open_engine(settings.ledger_url)
    try:
        found = confirmed_map_event(Ledger(engine, active_ledger_id(engine, settings.migration)))
        return found.map if found is not None else None
    finally:
        engine.dispose()


def write_proposal(settings: Settings, out: Path, target: str = DEFAULT_TARGET) -> dict[str, Any]:
    """Write the proposed map to ``out`` (YAML); returns the proposal."""
    proposal = propose(settings, target)
    out.write_text(dump_map_yaml(proposal), encoding="utf-8")
    return proposal


def confirmed_map_yaml(settings: Settings) -> str | None:
    """The confirmed map as YAML, or None when none is confirmed."""
    the_map = confirmed_map(settings)
    return None if the_map is None else dump_map_yaml(the_map)

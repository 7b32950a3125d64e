"""Map proposal, confirmation and preflight: the steps between discover and migrate.

Each reads Hesk (the reader) and the Intercom workspace (the client), then calls the pure
functions of mapping/. Confirmation records ``MapConfirmed`` with the map and its names
resolved to workspace ids, so workers never look them up again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ConfigError, H2IError
from core.settings import Settings
from hesk.open import open_source
from intercom_api.client import IntercomClient
from ledger.database import open_engine
from ledger.events import MapConfirmed, confirmed_map_event
from ledger.generations import active_ledger_id
from ledger.store import Ledger
from mapping.mapfile import load_map_yaml, map_hash
from mapping.proposal import propose_map
from mapping.validation import validate_map
from workers.context import resolve_map


class PreflightBlocked(H2IError):
    """Preflight found blockers; the migration must not start."""

    exit_code = 3


@dataclass
class Workspace:
    """What the migration needs to know of the Intercom workspace."""

    me: dict[str, Any]
    admins: list[dict[str, Any]]
    teams: list[dict[str, Any]]
    conversation_attributes: list[dict[str, Any]]
    collections: list[dict[str, Any]] = field(default_factory=list)


def client_for(settings: Settings) -> IntercomClient:
    """An Intercom client from the settings (ConfigError when the token is missing)."""
    return IntercomClient.from_settings(settings)


def read_workspace(client: IntercomClient) -> Workspace:
    """Read the admins, teams and conversation attributes of the workspace."""
    return Workspace(
        me=client.me(),
        admins=list(client.list_admins()),
        teams=list(client.list_teams()),
        conversation_attributes=list(client.list_conversation_attributes()),
    )


def propose(settings: Settings) -> dict[str, Any]:
    """The proposed field map for this Hesk source and this workspace."""
    with client_for(settings) as client:
        ws = read_workspace(client)
    with open_source(settings) as reader:
        return propose_map(
            staff=list(reader.iter_records("staff")),
            categories=list(reader.iter_records("category")),
            custom_fields=list(reader.iter_records("custom_field")),
            statuses=reader.statuses,
            priorities=reader.priorities,
            admins=ws.admins,
            teams=ws.teams,
            conversation_attributes=ws.conversation_attributes,
            me=ws.me,
        )


def load_map_file(path: Path) -> dict[str, Any]:
    """Read a map file, or say plainly why it cannot be read."""
    try:
        return load_map_yaml(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"cannot read the map file {path}: {err.strerror}") from None
    except Exception as err:  # YAML errors carry the line and column
        raise ConfigError(
            f"the map file {path} is not valid: {err}",
            hint="fix it, or write a new one with `hesk2intercom map propose --out FILE`",
        ) from None


def confirm(settings: Settings, path: Path) -> tuple[MapConfirmed, bool]:
    """Validate the map against the workspace and record it; True if newly recorded."""
    the_map = load_map_file(path)
    with client_for(settings) as client:
        ws = read_workspace(client)
    problems = validate_map(
        the_map, admins=ws.admins, teams=ws.teams,
        conversation_attributes=ws.conversation_attributes,
    )
    if problems:
        raise ConfigError(
            f"the map has {len(problems)} problem(s): " + "; ".join(problems[:5]),
            hint=f"edit {path} and run `map confirm` again",
        )
    the_map = dict(the_map)
    the_map.pop("resolved", None)
    digest = map_hash(the_map)
    the_map["resolved"] = resolve_map(the_map, admins=ws.admins, teams=ws.teams, me=ws.me)
    event = MapConfirmed(object="map", source_id="map", map_hash=digest, map=the_map)
    engine = open_engine(settings.ledger_url)
    try:
        is_new = Ledger(engine, active_ledger_id(engine, settings.migration)).append_one(event)
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


@dataclass
class PreflightResult:
    """What preflight found: blockers stop the migration, manual steps are advice."""

    region: str
    base_url: str
    admin: str
    blockers: list[str] = field(default_factory=list)
    manual_steps: list[str] = field(default_factory=list)
    to_create: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)


def preflight(settings: Settings) -> PreflightResult:
    """Check token, region, admins, teams, attributes and collections before migrating."""
    with client_for(settings) as client:
        ws = read_workspace(client)
    result = PreflightResult(
        region=settings.intercom_region,
        base_url=settings.intercom_url,
        admin=f"{ws.me.get('name')} <{ws.me.get('email')}>",
    )
    the_map = confirmed_map(settings)
    if the_map is None:
        result.blockers.append(
            "no confirmed field map: run `map propose --out map.yaml` then `map confirm`"
        )
        return result
    problems = validate_map(
        the_map, admins=ws.admins, teams=ws.teams,
        conversation_attributes=ws.conversation_attributes,
    )
    result.blockers.extend(problems)
    resolved = the_map.get("resolved") or {}
    if not resolved.get("fallback_admin_id"):
        result.blockers.append("no fallback admin: set options.fallback_admin_email in the map")
    existing = {str(a.get("name")) for a in ws.conversation_attributes}
    for attr in the_map.get("attributes") or ():
        if attr.get("name") not in existing:
            result.to_create.append(
                f"conversation attribute {attr['name']} ({attr['data_type']})"
            )
    for entry in the_map.get("custom_fields") or ():
        if entry.get("migrate") and entry.get("attribute") not in existing:
            result.to_create.append(
                f"conversation attribute {entry['attribute']} ({entry.get('data_type')})"
            )
    for entry in the_map.get("staff") or ():
        if str(entry.get("hesk_id")) in (resolved.get("admins") or {}):
            result.matched.append(f"staff {entry.get('hesk_name')} -> {entry.get('admin_email')}")
        else:
            result.manual_steps.append(
                f"invite {entry.get('hesk_name')} <{entry.get('hesk_email')}> as a teammate "
                "(until then their replies are authored by the fallback admin)"
            )
    for entry in the_map.get("categories") or ():
        if entry.get("team") and str(entry.get("hesk_id")) not in (resolved.get("teams") or {}):
            result.blockers.append(
                f"team {entry['team']!r} for category {entry.get('hesk_name')!r} does not exist: "
                "create it in Intercom (teams cannot be created by API) or map it to a tag"
            )
    result.manual_steps.append(
        "turn off assignment rules, CSAT surveys, SLAs and workflows while importing"
    )
    return result

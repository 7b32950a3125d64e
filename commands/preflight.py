"""``preflight``: check token, region, admins, teams and attributes before migrating."""

from __future__ import annotations

from dataclasses import dataclass, field

from commands.apps import check_apps
from commands.map import confirmed_map
from commands.workspace import client_for, read_workspace
from core.errors import H2IError
from core.settings import Settings
from mapping.ticket_target import is_tickets, setup_check
from mapping.validation import validate_map


class PreflightBlocked(H2IError):
    """Preflight found blockers; the migration must not start."""

    exit_code = 3


@dataclass
class PreflightResult:
    """What preflight found: blockers stop the migration, manual steps are advice."""

    region: str
    base_url: str
    admin: str
    #: one line per token: position, fingerprint, workspace (never the token)
    apps: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    manual_steps: list[str] = field(default_factory=list)
    to_create: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)


def preflight(settings: Settings) -> PreflightResult:
    """Check tokens, region, admins, teams, attributes and collections before migrating.

    Every token must reach the same workspace (else ConfigError, exit 2) and hold the
    permissions the migration uses (else a blocker naming it).
    """
    the_map = confirmed_map(settings)
    tickets = is_tickets(the_map)
    checks = check_apps(settings, scopes=True, tickets=tickets)
    with client_for(settings) as client:
        ws = read_workspace(client, tickets=tickets)
    result = PreflightResult(
        region=settings.intercom_region,
        base_url=settings.intercom_url,
        admin=f"{ws.me.get('name')} <{ws.me.get('email')}>",
    )
    for check in checks:
        result.apps.append(f"{check.name}: workspace {check.workspace_id}")
        if check.missing_scopes:
            result.blockers.append(
                f"{check.name} lacks the permission(s) {', '.join(check.missing_scopes)}: "
                "tick them in the Developer Hub (the app → Authentication), or drop the token"
            )
    if the_map is None:
        result.blockers.append(
            "no confirmed field map: run `map propose --out map.yaml` then `map confirm`"
        )
        return result
    problems = validate_map(
        the_map,
        admins=ws.admins,
        teams=ws.teams,
        conversation_attributes=ws.conversation_attributes,
    )
    result.blockers.extend(problems)
    resolved = the_map.get("resolved") or {}
    if not resolved.get("fallback_admin_id"):
        result.blockers.append("no fallback admin: set options.fallback_admin_email in the map")
    if tickets:
        found = setup_check(the_map, ws.ticket_types, ws.ticket_states)
        result.blockers += found["blockers"]
        result.to_create += found["to_create"]
        result.matched += found["matched"]
    existing = {str(a.get("name")) for a in ws.conversation_attributes}
    for attr in () if tickets else the_map.get("attributes") or ():
        if attr.get("name") not in existing:
            result.to_create.append(f"conversation attribute {attr['name']} ({attr['data_type']})")
    for entry in () if tickets else the_map.get("custom_fields") or ():
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

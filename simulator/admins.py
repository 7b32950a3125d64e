"""Admins (teammates), teams and the token owner: read-only in Intercom's API."""

from __future__ import annotations

from typing import Any

from .errors import not_found
from .routing import Request, Route
from .state import DEFAULT_ADMIN_EMAIL, WORKSPACE_ID, Obj, Workspace, lookup_id


def add_admin(ws: Workspace, name: str, email: str) -> Obj:
    """Create an admin (only the admin API and reset do this; Intercom has no create)."""
    admin_id = ws.number()
    admin: Obj = {
        "type": "admin",
        "id": admin_id,
        "name": name,
        "email": email,
        "email_verified": True,
        "job_title": None,
        "away_mode_enabled": False,
        "away_mode_reassign": False,
        "has_inbox_seat": True,
        "team_ids": [],
        "avatar": {"type": "avatar", "image_url": None},
    }
    ws.admins[admin_id] = admin
    return admin


def add_team(ws: Workspace, name: str, admin_ids: list[str] | None = None) -> Obj:
    """Create a team (only the admin API does this; Intercom has no create)."""
    team_id = ws.number()
    team: Obj = {"type": "team", "id": team_id, "name": name, "admin_ids": list(admin_ids or [])}
    ws.teams[team_id] = team
    for admin_id in team["admin_ids"]:
        if admin_id in ws.admins:
            ws.admins[admin_id]["team_ids"].append(team_id)
    return team


def new_workspace() -> Workspace:
    """An empty workspace holding the token owner (the default admin) and a help center."""
    ws = Workspace()
    owner = add_admin(ws, "Workspace Owner", DEFAULT_ADMIN_EMAIL)
    ws.owner_id = owner["id"]
    hc_id = ws.number()
    ws.help_centers[hc_id] = {
        "id": hc_id,
        "workspace_id": WORKSPACE_ID,
        "created_at": 1700000000,
        "updated_at": 1700000000,
        "identifier": "simulator",
        "website_turned_on": False,
        "display_name": "Simulator Help Center",
        "url": "https://intercom.help/simulator",
        "default": True,
        "locales": ["en"],
    }
    from .tickets import add_default_states  # tickets imports this module

    add_default_states(ws)
    return ws


def require_admin(ws: Workspace, raw: object) -> Obj:
    """The admin with id ``raw`` (int or str), else 404."""
    admin = lookup_id(ws.admins, raw)
    if admin is None:
        raise not_found("Admin not found")
    return admin


def me(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /me``: the token owner, with its app."""
    owner = dict(ws.admins[ws.owner_id])
    app = req.extra.get("app")  # the private app of the token (simulator/apps.py)
    owner["app"] = {
        "type": "app",
        "id_code": getattr(app, "workspace_id", WORKSPACE_ID),
        "name": "Intercom Simulator",
        "created_at": 1700000000,
        "secure": False,
        "identity_verification": False,
        "timezone": "UTC",
        "region": "US",
    }
    return 200, owner


def list_admins(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /admins``."""
    return 200, {"type": "admin.list", "admins": list(ws.admins.values())}


def get_admin(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /admins/{admin_id}``."""
    return 200, require_admin(ws, req.params["admin_id"])


def list_teams(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /teams``."""
    return 200, {"type": "team.list", "teams": list(ws.teams.values())}


def get_team(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /teams/{team_id}``."""
    team = lookup_id(ws.teams, req.params["team_id"])
    if team is None:
        raise not_found("Team not found")
    return 200, team


ROUTES = [
    Route("GET", "/me", me, False),
    Route("GET", "/admins", list_admins, False),
    Route("GET", "/admins/{admin_id}", get_admin, False),
    Route("GET", "/teams", list_teams, False),
    Route("GET", "/teams/{team_id}", get_team, False),
]

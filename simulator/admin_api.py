"""The simulator's own admin API under ``/_sim`` (no faults, no rate limit; ``app.py`` checks
the Host, the token and the JSON body before a handler runs).

``GET /_sim/dump``, ``GET /_sim/stats``, ``POST /_sim/reset``, ``POST /_sim/faults``,
``POST /_sim/seed``, ``POST /_sim/revoke``, and ``GET /_sim/attachments/{id}/{name}``
serving uploaded files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .admins import add_admin, add_team
from .contacts import create_contact
from .conversations import all_views
from .errors import ApiError, invalid, not_found
from .faults import FaultConfig, FaultInjector, FaultSpecError
from .routing import Request
from .seeding import seed_content
from .tickets import add_state, require_state_seed
from .tickets import all_views as all_tickets

if TYPE_CHECKING:
    from .app import SimulatorApp


def dump(sim: SimulatorApp, body: Any) -> tuple[int, Any]:
    """The whole workspace, each object in its GET shape, conversations with all parts."""
    ws = sim.ws
    return 200, {
        "contacts": list(ws.contacts.values()),
        "conversations": all_views(ws),
        "articles": list(ws.articles.values()),
        "collections": list(ws.collections.values()),
        "data_attributes": list(ws.data_attributes.values()),
        "conversation_attributes": list(ws.conversation_attributes.values()),
        "tags": list(ws.tags.values()),
        "admins": list(ws.admins.values()),
        "teams": list(ws.teams.values()),
        "tickets": all_tickets(ws),
        "ticket_types": list(ws.ticket_types.values()),
        "ticket_states": list(ws.ticket_states.values()),
    }


def stats(sim: SimulatorApp, body: Any) -> tuple[int, Any]:
    """Requests by path and status, 429s, faults injected, notifications sent; per app
    (by id, never by token) and for the workspace as a whole."""
    return 200, {
        **sim.stats.to_dict(),
        "apps": sim.apps.counts(),
        "workspace": {
            "limit": sim.workspace_limiter.limit,
            "app_limit": sim.limiter.limit,
            "rate_limited": sim.stats.workspace_rate_limited,
        },
    }


def reset(sim: SimulatorApp, body: Any) -> tuple[int, Any]:
    """Empty workspace (default admin only), zeroed stats, start-up faults."""
    sim.reset()
    return 200, {"reset": True, "owner_admin_id": sim.ws.owner_id}


def faults(sim: SimulatorApp, body: Any) -> tuple[int, Any]:
    """Replace the fault config with the JSON body (missing keys are zero).

    With ``"app": APP_ID`` the config applies to that app's calls only (the others keep
    the simulator-wide config); ``{"app": APP_ID}`` alone clears the app's own faults.
    """
    if not isinstance(body, dict):
        raise invalid("expected a JSON object of fault settings")
    settings = dict(body)
    app_id = settings.pop("app", None)
    app = None
    if app_id is not None:
        app = sim.apps.by_id.get(str(app_id))
        if app is None:
            raise not_found(f"No app {app_id}: GET /_sim/stats lists the apps")
    try:
        config = FaultConfig.from_dict(settings)
    except FaultSpecError as exc:
        raise invalid(str(exc)) from exc
    if app is None:
        sim.faults.configure(config)
        return 200, config.to_dict()
    app.faults = FaultInjector(config) if config.active else None
    return 200, {**config.to_dict(), "app": app.id}


def seed(sim: SimulatorApp, body: Any) -> tuple[int, Any]:
    """Create admins, teams, contacts, ticket states and apps (``{"token",
    "workspace_id"?, "scopes"?}``: another token, maybe of another workspace or with fewer
    permissions); answer them with their ids (an app's token is never echoed)."""
    if not isinstance(body, dict):
        raise invalid("expected {admins, teams, contacts, ticket_states, apps}")
    ws = sim.ws
    out: dict[str, list[Any]] = {
        "admins": [],
        "teams": [],
        "contacts": [],
        "ticket_states": [],
        "apps": [],
    }
    for item in body.get("apps") or []:
        if not isinstance(item, dict) or not item.get("token"):
            raise invalid("each app needs a token")
        try:
            app = sim.apps.add(
                str(item["token"]),
                workspace_id=item.get("workspace_id"),
                scopes=item.get("scopes"),
            )
        except ValueError as exc:
            raise invalid(str(exc)) from exc
        out["apps"].append(
            {
                "id": app.id,
                "workspace_id": app.workspace_id,
                "scopes": None if app.scopes is None else sorted(app.scopes),
            }
        )
    for item in body.get("admins") or []:
        if not isinstance(item, dict) or not item.get("email"):
            raise invalid("each admin needs name and email")
        out["admins"].append(
            add_admin(ws, str(item.get("name") or item["email"]), str(item["email"]))
        )
    for item in body.get("teams") or []:
        if not isinstance(item, dict) or not item.get("name"):
            raise invalid("each team needs a name")
        out["teams"].append(
            add_team(ws, str(item["name"]), [str(a) for a in item.get("admin_ids") or []])
        )
    for item in body.get("contacts") or []:
        if not isinstance(item, dict):
            raise invalid("each contact must be an object")
        req = Request("POST", "/contacts", {}, {}, {"role": "user", **item})
        out["contacts"].append(create_contact(ws, req)[1])
    out.update(seed_content(ws, body))  # tags, collections, articles, attributes
    for item in body.get("ticket_states") or []:
        out["ticket_states"].append(add_state(ws, *require_state_seed(item)))
    sim.mark_dirty()
    return 200, out


def revoke(sim: SimulatorApp, body: Any) -> tuple[int, Any]:
    """``{"app": APP_ID}``: that app's token is refused (401) from now on, as when a
    workspace owner revokes it."""
    app = sim.apps.by_id.get(str(body.get("app"))) if isinstance(body, dict) else None
    if app is None:
        raise not_found("No such app: GET /_sim/stats lists the apps")
    app.revoked = True
    return 200, {"app": app.id, "revoked": True}


def attachment(sim: SimulatorApp, blob_id: str) -> bytes:
    """The bytes of an uploaded attachment, else 404."""
    data = sim.ws.blobs.get(blob_id)
    if data is None:
        raise not_found("Attachment not found")
    return data


HANDLERS = {
    ("GET", "/_sim/dump"): dump,
    ("GET", "/_sim/stats"): stats,
    ("POST", "/_sim/reset"): reset,
    ("POST", "/_sim/faults"): faults,
    ("GET", "/_sim/faults"): lambda sim, body: (200, sim.faults.config.to_dict()),
    ("POST", "/_sim/seed"): seed,
    ("POST", "/_sim/revoke"): revoke,
}

__all__ = ["HANDLERS", "ApiError", "attachment"]

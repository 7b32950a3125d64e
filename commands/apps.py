"""The Intercom tokens of a migration, checked before anything is written.

Every token must reach the same workspace (``GET /me``: ``app.id_code``), and preflight
also checks that each one holds the permissions the migration uses. Tokens are named by
position and fingerprint (core.tokens), never shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.errors import ConfigError
from core.settings import Settings
from core.tokens import SETTING, describe, fingerprint
from intercom_api.base import RetryPolicy
from intercom_api.client import IntercomClient
from intercom_api.errors import IntercomError, Unauthorized

#: A scope the migration needs, and a call that needs it yet cannot change anything
#: (reads, or a write aimed at an id that does not exist: answered 404, never applied).
SCOPE_PROBES: tuple[tuple[str, str, str, dict[str, Any] | None, dict[str, Any] | None], ...] = (
    ("read_admins", "GET", "/admins", None, None),
    ("read_users", "GET", "/contacts", {"per_page": 1}, None),
    ("write_users", "PUT", "/contacts/0", None, {}),
    ("read_conversations", "GET", "/conversations", {"per_page": 1}, None),
    ("write_conversations", "PUT", "/conversations/0", None, {}),
    ("read_data_attributes", "GET", "/data_attributes", {"model": "contact"}, None),
    ("write_data_attributes", "PUT", "/data_attributes/0", None, {}),
    ("read_tags", "GET", "/tags", None, None),
    ("write_tags", "POST", "/conversations/0/tags", None, {"id": "0", "admin_id": "0"}),
    ("read_articles", "GET", "/articles", {"per_page": 1}, None),
    ("write_articles", "PUT", "/articles/0", None, {}),
)
#: What the tickets target needs on top.
TICKET_SCOPE_PROBES: tuple[
    tuple[str, str, str, dict[str, Any] | None, dict[str, Any] | None], ...
] = (
    ("read_tickets", "GET", "/ticket_types", None, None),
    ("write_tickets", "PUT", "/tickets/0", None, {}),
)
_QUICK = RetryPolicy(attempts=3, rate_limited_attempts=10, backoff_initial=0.2, backoff_max=2)


@dataclass
class AppCheck:
    """What one token answered: its workspace, its admin, the permissions it lacks."""

    position: int
    fingerprint: str
    workspace_id: str
    me: dict[str, Any]
    missing_scopes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """``token #2 (fp 1a2b3c4d)``."""
        return f"token #{self.position} (fp {self.fingerprint})"


def check_apps(
    settings: Settings, *, scopes: bool = False, tickets: bool = False
) -> list[AppCheck]:
    """Ask Intercom about every token; ConfigError (exit 2) naming a token that is refused
    or belongs to another workspace than token #1. ``scopes``: also probe permissions
    (``tickets``: those of the tickets target too)."""
    tokens = settings.tokens
    if not tokens:
        raise ConfigError(
            "no Intercom access token is configured",
            hint=f"set {SETTING} (environment or hesk2intercom.toml)",
        )
    checks = [
        _check_one(settings, position, token, scopes=scopes, tickets=tickets)
        for position, token in enumerate(tokens, start=1)
    ]
    first = checks[0]
    strangers = [c for c in checks[1:] if c.workspace_id != first.workspace_id]
    if strangers:
        names = ", ".join(f"{c.name} reaches workspace {c.workspace_id!r}" for c in strangers)
        raise ConfigError(
            f"{SETTING}: {names}, not {first.workspace_id!r} as token #1 does",
            hint="give only tokens of private apps of the workspace you migrate into",
        )
    return checks


def _check_one(
    settings: Settings, position: int, token: str, *, scopes: bool, tickets: bool
) -> AppCheck:
    with IntercomClient(settings.intercom_url, token, retry=_QUICK) as client:
        try:
            me = client.me()
        except Unauthorized:
            raise ConfigError(
                f"{SETTING}: {describe(position, token)} is refused by Intercom (401)",
                hint="replace or remove that token (Developer Hub → the app → Authentication)",
            ) from None
        app = me.get("app") or {}
        check = AppCheck(position, fingerprint(token), str(app.get("id_code") or ""), me)
        if scopes:
            check.missing_scopes = _missing_scopes(client, tickets=tickets)
    return check


def _missing_scopes(client: IntercomClient, *, tickets: bool) -> list[str]:
    missing = []
    probes = SCOPE_PROBES + (TICKET_SCOPE_PROBES if tickets else ())
    for scope, method, path, params, body in probes:
        try:
            client.request(method, path, params=params, json=body, idempotent=True)
        except IntercomError as err:
            if err.status in (401, 403):
                missing.append(scope)
    return missing

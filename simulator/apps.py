"""The private apps of the simulated workspace: one per token, each with its own rate limit,
optional faults and optional permissions (scopes), all under one workspace limit.

An app is known by its id (never by its token) in ``/_sim/stats`` and ``/_sim/faults``.
A token of *another* workspace (``/_sim/seed`` with ``workspace_id``) answers ``GET /me``
with that workspace's ``id_code``, so preflight's same-workspace check can be rehearsed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .faults import FaultInjector
from .state import WORKSPACE_ID

#: Scopes a private app may be given (Intercom's permissions, by noun, read and write).
SCOPES = (
    "read_admins",
    "read_users",
    "write_users",
    "read_conversations",
    "write_conversations",
    "read_data_attributes",
    "write_data_attributes",
    "read_tags",
    "write_tags",
    "read_articles",
    "write_articles",
    "read_tickets",
    "write_tickets",
)
_NOUNS = {
    "me": "admins",
    "admins": "admins",
    "teams": "admins",
    "contacts": "users",
    "conversations": "conversations",
    "data_attributes": "data_attributes",
    "tags": "tags",
    "articles": "articles",
    "help_center": "articles",
    "tickets": "tickets",
    "ticket_types": "tickets",
    "ticket_states": "tickets",
}


def required_scope(method: str, path: str) -> str:
    """The scope a call needs: ``read_`` or ``write_`` and the noun of its path."""
    parts = [p for p in path.split("/") if p]
    noun = _NOUNS.get(parts[0], parts[0]) if parts else ""
    if "attributes" in parts:
        noun = "data_attributes"
    elif len(parts) > 1 and parts[-1] == "tags":
        noun = "tags"
    reads = method == "GET" or (parts and parts[-1] == "search")
    return f"{'read' if reads or noun == 'admins' else 'write'}_{noun}"


@dataclass
class SimApp:
    """One private app: its id, token, workspace, scopes, faults and counters."""

    id: str
    token: str
    workspace_id: str = WORKSPACE_ID
    scopes: frozenset[str] | None = None  # None: every scope
    faults: FaultInjector | None = None  # None: the simulator-wide faults
    revoked: bool = False  # its token is refused (401) from now on
    requests_total: int = 0
    rate_limited: int = 0
    over_app_limit: int = 0

    def allows(self, scope: str) -> bool:
        """Whether the app was given ``scope``."""
        return self.scopes is None or scope in self.scopes

    def counts(self) -> dict[str, Any]:
        """This app's entry in ``/_sim/stats``."""
        return {
            "requests_total": self.requests_total,
            "rate_limited": self.rate_limited,
            "over_app_limit": self.over_app_limit,
        }


@dataclass
class AppRegistry:
    """The apps by bearer header, in the order they were added."""

    apps: dict[bytes, SimApp] = field(default_factory=dict)
    by_id: dict[str, SimApp] = field(default_factory=dict)
    next_id: int = 7_100_001

    @classmethod
    def of(cls, tokens: Iterable[str]) -> AppRegistry:
        """A registry with one app per token (of the simulator's own workspace)."""
        registry = cls()
        for token in tokens:
            registry.add(token)
        return registry

    def add(
        self,
        token: str,
        *,
        workspace_id: str | None = None,
        scopes: Iterable[str] | None = None,
    ) -> SimApp:
        """Add an app for ``token`` (ValueError on an empty, repeated or unknown-scope one)."""
        token = token.strip()
        if not token:
            raise ValueError("an app needs a token")
        auth = f"Bearer {token}".encode()
        if auth in self.apps:
            raise ValueError("that token already belongs to an app")
        scope_set = None if scopes is None else frozenset(str(s) for s in scopes)
        unknown = sorted((scope_set or frozenset()) - set(SCOPES))
        if unknown:
            raise ValueError(f"unknown scopes {unknown}; known: {', '.join(SCOPES)}")
        app = SimApp(str(self.next_id), token, workspace_id or WORKSPACE_ID, scope_set)
        self.next_id += 1
        self.apps[auth] = app
        self.by_id[app.id] = app
        return app

    def get(self, auth: bytes | None) -> SimApp | None:
        """The app whose bearer header this is, unless unknown or revoked."""
        app = self.apps.get(auth) if auth is not None else None
        return None if app is None or app.revoked else app

    def known(self, auth: bytes | None) -> bool:
        """Whether this bearer header is any app's, revoked or not (the admin API's key)."""
        return auth is not None and auth in self.apps

    def counts(self) -> dict[str, Any]:
        """``{APP_ID: {"requests_total", "rate_limited", "over_app_limit"}}``."""
        return {app.id: app.counts() for app in self.apps.values()}

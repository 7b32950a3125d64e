"""What the commands read of the Intercom workspace: admins, teams, attributes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.settings import Settings
from intercom_api.client import IntercomClient


@dataclass
class Workspace:
    """What the migration needs to know of the Intercom workspace."""

    me: dict[str, Any]
    admins: list[dict[str, Any]]
    teams: list[dict[str, Any]]
    conversation_attributes: list[dict[str, Any]]
    collections: list[dict[str, Any]] = field(default_factory=list)
    ticket_types: list[dict[str, Any]] = field(default_factory=list)
    ticket_states: list[dict[str, Any]] = field(default_factory=list)


def client_for(settings: Settings) -> IntercomClient:
    """An Intercom client from the settings (ConfigError when the token is missing)."""
    return IntercomClient.from_settings(settings)


def read_workspace(client: IntercomClient, *, tickets: bool = False) -> Workspace:
    """Read the admins, teams and conversation attributes of the workspace (with
    ``tickets``: its ticket types and states instead of conversation attributes)."""
    return Workspace(
        me=client.me(),
        admins=list(client.list_admins()),
        teams=list(client.list_teams()),
        conversation_attributes=[] if tickets else list(client.list_conversation_attributes()),
        ticket_types=list(client.list_ticket_types()) if tickets else [],
        ticket_states=list(client.list_ticket_states()) if tickets else [],
    )

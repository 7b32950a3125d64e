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

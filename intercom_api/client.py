"""The Intercom client the workers use: every operation the migration needs on one object.

One :class:`IntercomClient` per worker (it holds one keep-alive connection pool). Build it
from the settings with :meth:`IntercomClient.from_settings`, or directly for tests.
"""

from __future__ import annotations

from core.errors import ConfigError
from core.settings import Settings
from intercom_api.apps import AppSet
from intercom_api.base import BaseClient, RetryPolicy
from intercom_api.contacts import ContactsAPI
from intercom_api.conversations import ConversationsAPI
from intercom_api.help_center import HelpCenterAPI
from intercom_api.pacing import Pacer
from intercom_api.tickets import TicketsAPI
from intercom_api.workspace import WorkspaceAPI

__all__ = ["IntercomClient", "RetryPolicy"]


class IntercomClient(
    ContactsAPI, ConversationsAPI, TicketsAPI, HelpCenterAPI, WorkspaceAPI, BaseClient
):
    """Typed thin methods over Intercom's REST API 2.16, answering Intercom's own dicts."""

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        pacer: Pacer | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        apps: AppSet | None = None,
    ) -> IntercomClient:
        """A client for the configured region (or base URL override) and token(s).

        ``apps``: the process's shared AppSet (per-app and workspace pacers); else one is
        made from the settings' tokens, each paced by ``pacer`` or a LocalPacer.
        """
        if apps is None:
            tokens = settings.tokens
            if not tokens:
                raise ConfigError(
                    "no Intercom access token is configured",
                    hint="set H2I_INTERCOM_TOKEN (environment or hesk2intercom.toml)",
                )
            apps = AppSet(tokens, pacer_for=None if pacer is None else lambda _fp: pacer)
        return cls(
            settings.intercom_url,
            apps,
            timeout=settings.intercom_timeout if timeout is None else timeout,
            retry=retry,
        )

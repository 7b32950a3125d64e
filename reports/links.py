"""The links of a migration's workspace: its Intercom web app and its help center."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from ledger.events import WorkspaceIdentified
from ledger.idmap import newest_public_url
from ledger.outputs import recorded_workspace
from ledger.store import Ledger
from mapping.urls import Links, app_host, help_center_base


def links_for(engine: Engine, ledger: Ledger, app: WorkspaceIdentified | None) -> Links:
    """The links of this migration's workspace (app from ``app``, help center from the
    newest article or collection URL Intercom answered)."""
    help_center = help_center_base(newest_public_url(engine, ledger.migration_id))
    if app is None:
        return Links(help_center=help_center)
    return Links(app_host(app.region or "us"), app.app_id, help_center)


def recorded_links(engine: Engine, ledger: Ledger) -> Links:
    """The links as far as the ledger knows them (no API call): the workspace a ``GET /me``
    recorded, if any, and the help center Intercom's answers named."""
    return links_for(engine, ledger, recorded_workspace(ledger))

"""Run the simulator in a background thread for tests: :func:`running_simulator`.

    with running_simulator(token="test-token") as sim:
        httpx.get(f"{sim.base_url}/me", headers={"Authorization": f"Bearer {sim.token}"})
        sim.seed(admins=[{"name": "Ann", "email": "ann@example.com"}])
        sim.set_faults(rate_lost_response=0.5, seed=1)
        sim.dump()["conversations"]

The server is real uvicorn on a free loopback port; the helpers call the admin API
(``/_sim/*``) over HTTP with httpx, exactly as an outside script would: with the bearer
token, and a JSON object as the body of every POST (:func:`admin_headers`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from core.intercom_limits import MAX_REQUEST_BYTES
from core.ports import free_port

from .app import DEFAULT_RATE_LIMIT, SimulatorApp, SimulatorOptions
from .faults import FaultConfig
from .server import uvicorn_config


def admin_headers(token: str) -> dict[str, str]:
    """Headers the admin API (``/_sim/*``) needs: one of the simulator's tokens as bearer
    (send POST bodies as JSON, e.g. ``httpx.post(url, json={}, headers=...)``)."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class SimulatorHandle:
    """A running simulator: where it is, its token, and admin-API helpers."""

    base_url: str
    token: str
    app: SimulatorApp
    _client: httpx.Client = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        """Headers an Intercom client sends (bearer token, version 2.16, JSON)."""
        return {
            "Authorization": f"Bearer {self.token}",
            "Intercom-Version": "2.16",
            "Accept": "application/json",
        }

    def client(self, **kwargs: Any) -> httpx.Client:
        """A new httpx client on ``base_url`` with :attr:`headers` (caller closes it)."""
        return httpx.Client(base_url=self.base_url, headers=self.headers, **kwargs)

    def _admin(self, method: str, path: str, json: Any = None) -> Any:
        if method == "POST" and json is None:
            json = {}
        response = self._client.request(method, path, json=json)
        response.raise_for_status()
        return response.json()

    def dump(self) -> dict[str, Any]:
        """``GET /_sim/dump``: the whole workspace in Intercom's GET shapes."""
        return self._admin("GET", "/_sim/dump")

    def stats(self) -> dict[str, Any]:
        """``GET /_sim/stats``: requests by path and status, 429s, faults, notifications."""
        return self._admin("GET", "/_sim/stats")

    def reset(self) -> dict[str, Any]:
        """``POST /_sim/reset``: empty workspace (default admin only), zeroed stats."""
        return self._admin("POST", "/_sim/reset")

    def set_faults(self, **rates: Any) -> dict[str, Any]:
        """``POST /_sim/faults`` with e.g. ``rate_lost_response=0.1, seed=1`` (others 0);
        ``app=APP_ID`` sets that app's faults only."""
        return self._admin("POST", "/_sim/faults", json=rates)

    @property
    def tokens(self) -> list[str]:
        """Every token the simulator started with, in order (one app each)."""
        return list(self.app.tokens)

    def app_id(self, token: str) -> str:
        """The id of the app whose token this is (how stats and faults name it)."""
        found = self.app.apps.apps.get(f"Bearer {token}".encode())
        if found is None:
            raise KeyError("no app has that token")
        return found.id

    def revoke(self, app_id: str) -> dict[str, Any]:
        """``POST /_sim/revoke``: the app's token is refused (401) from now on."""
        return self._admin("POST", "/_sim/revoke", json={"app": app_id})

    def add_app(self, token: str, **fields: Any) -> dict[str, Any]:
        """``POST /_sim/seed`` with one app (``workspace_id=``, ``scopes=`` optional)."""
        return self._admin("POST", "/_sim/seed", json={"apps": [{"token": token, **fields}]})[
            "apps"
        ][0]

    def seed(
        self,
        admins: list[dict[str, Any]] | None = None,
        teams: list[dict[str, Any]] | None = None,
        contacts: list[dict[str, Any]] | None = None,
        ticket_states: list[dict[str, Any]] | None = None,
        **content: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """``POST /_sim/seed``: create admins/teams/contacts/ticket states and ``content``
        (tags, collections, articles, conversation_attributes, data_attributes); returns
        them with ids."""
        body = {
            "admins": admins or [],
            "teams": teams or [],
            "contacts": contacts or [],
            "ticket_states": ticket_states or [],
            **content,
        }
        return self._admin("POST", "/_sim/seed", json=body)

    @property
    def owner_admin_id(self) -> str:
        """Id of the default admin (the token owner, ``GET /me``)."""
        return self.app.ws.owner_id


@contextmanager
def running_simulator(
    token: str | Sequence[str] = "test-token",
    *,
    rate_limit: int = DEFAULT_RATE_LIMIT,
    workspace_rate_limit: int | None = None,
    faults: FaultConfig | str | None = None,
    state_file: Path | None = None,
    validate: bool = True,
    port: int | None = None,
    max_body_bytes: int = MAX_REQUEST_BYTES,
    allowed_hosts: tuple[str, ...] = (),
) -> Iterator[SimulatorHandle]:
    """Start uvicorn in a daemon thread on a free loopback port; stop it on exit."""
    if isinstance(faults, str):
        faults = FaultConfig.parse(faults)
    port = port or free_port()
    options = SimulatorOptions(
        token=token,
        rate_limit=rate_limit,
        workspace_rate_limit=workspace_rate_limit,
        faults=faults,
        state_file=state_file,
        validate=validate,
        max_body_bytes=max_body_bytes,
        allowed_hosts=allowed_hosts,
    )
    config = uvicorn_config("127.0.0.1", port, options)
    config.timeout_graceful_shutdown = 1
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"simulator:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the simulator did not start")
        time.sleep(0.01)
    base_url = f"http://127.0.0.1:{port}"
    app = config.app
    assert isinstance(app, Starlette)  # uvicorn_config serves create_app's app
    sim_app: SimulatorApp = app.state.simulator
    first = sim_app.token
    with httpx.Client(base_url=base_url, timeout=30, headers=admin_headers(first)) as admin_client:
        try:
            yield SimulatorHandle(base_url, first, sim_app, admin_client)
        finally:
            server.should_exit = True
            thread.join(timeout=10)

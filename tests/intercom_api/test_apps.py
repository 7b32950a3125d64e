"""One client, several private apps: turns, a 429 storm on one app, a revoked token, and
the start-up checks (same workspace, permissions). Tokens are never shown."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from commands.apps import check_apps
from core.errors import ConfigError
from core.logs import configure_logging
from core.settings import Settings
from core.tokens import fingerprint
from intercom_api.apps import AppSet
from intercom_api.client import IntercomClient
from intercom_api.errors import Unauthorized
from simulator.testing import SimulatorHandle
from tests.helpers.simulator import QUICK, simulator_with

TOKENS = ["apps-tok-one-1111", "apps-tok-two-2222", "apps-tok-three-3333"]


@pytest.fixture
def apps_sim() -> Iterator[SimulatorHandle]:
    """A simulator of this test's own with one app per token of ``TOKENS``."""
    with simulator_with(TOKENS, rate_limit=100_000) as handle:
        yield handle


def _calls(apps_sim: SimulatorHandle) -> dict[str, int]:
    apps = apps_sim.stats()["apps"]
    return {t: apps[apps_sim.app_id(t)]["requests_total"] for t in TOKENS}


def test_calls_take_turns_over_the_apps(apps_sim: SimulatorHandle) -> None:
    with IntercomClient(apps_sim.base_url, TOKENS, retry=QUICK) as client:
        for _ in range(30):
            client.me()
    assert _calls(apps_sim) == dict.fromkeys(TOKENS, 10)


def test_a_429_storm_on_one_app_moves_its_calls_to_the_others(apps_sim: SimulatorHandle) -> None:
    storm = TOKENS[1]
    apps_sim.set_faults(app=apps_sim.app_id(storm), rate_429=1.0)
    with IntercomClient(apps_sim.base_url, TOKENS, retry=QUICK) as client:
        for _ in range(30):
            client.me()  # never waits out a window: another app is ready
        client.request("GET", "/me", app=fingerprint(storm))  # pinned, refused, moved
        assert client.last_app != fingerprint(storm)
        client.request("GET", "/me", app=fingerprint(TOKENS[2]))
        assert client.last_app == fingerprint(TOKENS[2])
    calls = _calls(apps_sim)
    assert calls[storm] <= 2, calls  # refused once, then skipped until its window resets
    assert calls[TOKENS[0]] + calls[TOKENS[2]] >= 32


def test_a_revoked_token_drops_out_with_one_warning(apps_sim: SimulatorHandle) -> None:
    out = io.StringIO()
    configure_logging(json=True, stream=out)
    with IntercomClient(apps_sim.base_url, TOKENS, retry=QUICK) as client:
        client.me()
        apps_sim.revoke(apps_sim.app_id(TOKENS[0]))
        for _ in range(20):
            client.me()
        assert [s.revoked for s in client.apps.slots] == [True, False, False]
        apps_sim.revoke(apps_sim.app_id(TOKENS[1]))
        apps_sim.revoke(apps_sim.app_id(TOKENS[2]))
        with pytest.raises(Unauthorized) as caught:
            client.me()
    logs = out.getvalue()
    warnings = [json.loads(line) for line in logs.splitlines() if "token_revoked" in line]
    assert len(warnings) == 2  # token #1 then token #2; the last one is the error itself
    assert warnings[0]["app"] == f"token #1 (fp {fingerprint(TOKENS[0])})"
    for token in TOKENS:
        assert token not in logs and token not in str(caught.value)


def test_one_app_set_is_shared_by_the_clients_of_a_process(apps_sim: SimulatorHandle) -> None:
    apps = AppSet(TOKENS)
    with (
        IntercomClient(apps_sim.base_url, apps) as one,
        IntercomClient(apps_sim.base_url, apps) as two,
    ):
        apps_sim.revoke(apps_sim.app_id(TOKENS[2]))
        for _ in range(6):
            one.me()
        assert apps.slots[2].revoked
        for _ in range(6):
            two.me()
    assert _calls(apps_sim)[TOKENS[2]] <= 3  # the second client never tried the revoked one


def _settings(apps_sim: SimulatorHandle, tokens: list[str]) -> Settings:
    return Settings(intercom_base_url=apps_sim.base_url, intercom_token=SecretStr(",".join(tokens)))


def test_check_apps_names_a_token_of_another_workspace(apps_sim: SimulatorHandle) -> None:
    apps_sim.add_app("apps-tok-stranger", workspace_id="otherws9")
    checks = check_apps(_settings(apps_sim, TOKENS))
    assert {c.workspace_id for c in checks} == {"sim0ws01"}
    with pytest.raises(ConfigError) as caught:
        check_apps(_settings(apps_sim, [*TOKENS, "apps-tok-stranger"]))
    message = str(caught.value)
    assert f"token #4 (fp {fingerprint('apps-tok-stranger')})" in message
    assert "otherws9" in message and "apps-tok-stranger" not in message
    apps_sim.revoke(apps_sim.app_id(TOKENS[1]))
    with pytest.raises(ConfigError, match=r"token #2 \(fp [0-9a-f]{8}\) is refused"):
        check_apps(_settings(apps_sim, TOKENS))


def test_check_apps_finds_missing_permissions(apps_sim: SimulatorHandle) -> None:
    apps_sim.add_app(
        "apps-tok-readonly",
        scopes=[
            "read_admins",
            "read_users",
            "read_conversations",
            "read_data_attributes",
            "read_tags",
            "read_articles",
            "write_articles",
        ],
    )
    checks = check_apps(_settings(apps_sim, [TOKENS[0], "apps-tok-readonly"]), scopes=True)
    assert checks[0].missing_scopes == []
    assert checks[1].missing_scopes == [
        "write_users",
        "write_conversations",
        "write_data_attributes",
        "write_tags",
    ]
    assert apps_sim.dump()["contacts"] == []  # the probes wrote nothing


class _Counting:
    """A pacer that counts its waits, with a stated limit."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.acquired = 0

    def acquire(self) -> None:
        self.acquired += 1

    def observe(self, status: int, headers: object) -> None:
        pass


def test_the_workspace_budget_is_asked_only_when_it_can_bind(apps_sim: SimulatorHandle) -> None:
    # the simulator states 100,000 per app; two apps fit a workspace of 250,000, three do not
    for apps, asked in ((2, False), (3, True)):
        workspace = _Counting(250_000)
        app_set = AppSet(TOKENS[:apps], pacer_for=lambda _fp: _Counting(None), workspace=workspace)
        for slot in app_set.slots:
            slot.pacer.limit = 100_000  # type: ignore[attr-defined]  # the pacers here are _Counting doubles
        with IntercomClient(apps_sim.base_url, app_set) as client:
            for _ in range(10):
                client.me()
        assert (workspace.acquired > 1) is asked, (apps, workspace.acquired)

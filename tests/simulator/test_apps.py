"""Several private apps on one simulated workspace: a limit per app, one for the workspace,
stats by app id (never by token), faults per app, revocation, scopes."""

from __future__ import annotations

import json
import time

import httpx

from tests.helpers.simulator import simulator_with

TOKENS = ["app-one-token", "app-two-token", "app-three-token"]


def _get(sim, token: str, path: str = "/me") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Intercom-Version": "2.16"}
    return httpx.get(f"{sim.base_url}{path}", headers=headers)


def _start_of_a_window() -> None:
    """Wait until a fresh 10-second window has most of its time ahead (fixed windows)."""
    if time.time() % 10 > 6:
        time.sleep(10.05 - time.time() % 10)


def test_each_token_is_an_app_with_its_own_limit_under_the_workspace_limit() -> None:
    with simulator_with(TOKENS, rate_limit=5, workspace_rate_limit=8) as sim:
        _start_of_a_window()
        ids = [sim.app_id(t) for t in TOKENS]
        assert len(set(ids)) == 3
        first = [_get(sim, TOKENS[0]).status_code for _ in range(6)]
        assert first == [200] * 5 + [429]  # the app's own window
        answers = [_get(sim, TOKENS[1]) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]  # the workspace's 8
        refused = answers[-1]
        assert refused.headers["x-ratelimit-limit"] == "5"  # the app's headers, spent
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert "rate_limit_exceeded" in refused.text
        stats = sim.stats()
        assert stats["apps"][ids[0]] == {
            "requests_total": 6,
            "rate_limited": 1,
            "over_app_limit": 1,
        }
        assert stats["apps"][ids[1]]["rate_limited"] == 1
        assert stats["apps"][ids[1]]["over_app_limit"] == 0
        assert stats["apps"][ids[2]]["requests_total"] == 0
        assert stats["workspace"]["limit"] == 8 and stats["workspace"]["rate_limited"] == 1
        assert not any(t in json.dumps(stats) for t in TOKENS)  # keyed by id, never token


def test_any_token_opens_the_admin_api_and_others_are_refused() -> None:
    with simulator_with(TOKENS) as sim:
        for token in TOKENS:
            answer = httpx.get(
                f"{sim.base_url}/_sim/stats", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 200
        assert _get(sim, "not-a-token").status_code == 401


def test_faults_may_target_one_app() -> None:
    with simulator_with(TOKENS, rate_limit=1000) as sim:
        storm = sim.app_id(TOKENS[1])
        assert sim.set_faults(app=storm, rate_429=1.0)["app"] == storm
        assert {_get(sim, TOKENS[1]).status_code for _ in range(5)} == {429}
        assert {_get(sim, TOKENS[0]).status_code for _ in range(5)} == {200}
        assert sim.stats()["faults_injected"]["rate_429"] == 5
        sim.set_faults(app=storm)  # cleared
        assert _get(sim, TOKENS[1]).status_code == 200
        bad = httpx.post(
            f"{sim.base_url}/_sim/faults",
            json={"app": "nope"},
            headers={"Authorization": f"Bearer {TOKENS[0]}"},
        )
        assert bad.status_code == 404


def test_seeded_apps_of_another_workspace_or_with_fewer_scopes_and_revocation() -> None:
    with simulator_with(TOKENS[:1]) as sim:
        home = _get(sim, TOKENS[0]).json()["app"]["id_code"]
        stranger = sim.add_app("other-ws-token", workspace_id="elsewhere1")
        assert "token" not in stranger
        assert _get(sim, "other-ws-token").json()["app"]["id_code"] == "elsewhere1" != home
        sim.add_app("read-only-token", scopes=["read_admins", "read_users"])
        assert _get(sim, "read-only-token", "/contacts").status_code == 200
        refused = httpx.put(
            f"{sim.base_url}/contacts/0",
            json={},
            headers={"Authorization": "Bearer read-only-token"},
        )
        assert refused.status_code == 403 and "write_users" in refused.text
        sim.revoke(stranger["id"])
        assert _get(sim, "other-ws-token").status_code == 401
        assert len(sim.stats()["apps"]) == 3
        sim.reset()  # back to the start-up apps
        assert list(sim.stats()["apps"]) == [sim.app_id(TOKENS[0])]

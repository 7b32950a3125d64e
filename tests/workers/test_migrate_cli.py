"""`migrate` and friends as a user runs them: one clear line and the right exit code."""

from __future__ import annotations

from pathlib import Path

from ledger.database import open_engine
from ledger.events import SourceCaptured, WriteIntended
from ledger.store import Ledger
from simulator.testing import SimulatorHandle
from tests.helpers.cli import env_of, run
from tests.helpers.hesk import HeskSource
from tests.helpers.migration import prepare
from tests.helpers.simulator import TOKEN


def test_migrate_without_a_confirmed_map_exits_2_and_says_what_to_do(
    sim: SimulatorHandle, hesk_source: HeskSource, ledger_url: str
) -> None:
    env = {
        "H2I_LEDGER_URL": ledger_url,
        "H2I_HESK_URL": hesk_source.url,
        "H2I_INTERCOM_BASE_URL": sim.base_url,
        "H2I_INTERCOM_TOKEN": TOKEN,
        "H2I_MIGRATION": "never-mapped",
    }
    out = run(env, "migrate")
    assert out.returncode == 2
    assert "map propose" in out.stderr and "Traceback" not in out.stderr
    assert Ledger(open_engine(ledger_url), "never-mapped").count() == 0


def test_a_revoked_token_is_one_line_and_nothing_is_recorded(
    sim: SimulatorHandle, hesk_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    settings = prepare(sim, hesk_source, ledger_url, tmp_path)
    env = {**env_of(settings), "H2I_INTERCOM_TOKEN": "revoked-token-value"}
    out = run(env, "migrate", "--workers", "1")
    assert out.returncode == 2, out.stderr
    assert "token" in out.stderr and "Traceback" not in out.stderr
    assert "revoked-token-value" not in out.stderr + out.stdout
    ledger = Ledger(open_engine(ledger_url), settings.migration)
    assert ledger.count(types=[SourceCaptured.TYPE, WriteIntended.TYPE]) == 0


def test_an_unreachable_intercom_is_one_line_exit_2(
    sim: SimulatorHandle, hesk_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    settings = prepare(sim, hesk_source, ledger_url, tmp_path)
    env = {**env_of(settings), "H2I_INTERCOM_BASE_URL": "http://127.0.0.1:9"}
    out = run(env, "migrate", "--workers", "1")
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and "Intercom" in out.stderr


def test_sample_then_report_json_then_status(
    sim: SimulatorHandle, hesk_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    import json

    settings = prepare(sim, hesk_source, ledger_url, tmp_path)
    env = env_of(settings)
    out = run(env, "migrate", "--sample", "5", "--workers", "1", "--threads", "4")
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(run(env, "report", "--json").stdout)
    assert report["migration"] == settings.migration
    assert report["objects"]["ticket"]["source"] == 5
    for obj, c in report["objects"].items():
        assert c["source"] == c["migrated"] + c["quarantined"] + c["skipped"] + c["pending"], obj
        assert c["pending"] == 0, obj
    assert len(sim.dump()["conversations"]) == report["objects"]["ticket"]["migrated"]
    html = tmp_path / "report.html"
    assert run(env, "report", "--html", str(html)).returncode == 0
    assert "<html" in html.read_text().lower()
    verify = run(env, "verify", "--sample", "5")
    assert verify.returncode == 0 and "No difference" in verify.stdout, verify.stdout


def test_preflight_lists_blockers_with_exit_3_then_passes_once_mapped(
    sim: SimulatorHandle, hesk_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    settings = prepare(sim, hesk_source, ledger_url, tmp_path)
    unmapped = {**env_of(settings), "H2I_MIGRATION": settings.migration + "-unmapped"}
    blocked = run(unmapped, "preflight")
    assert blocked.returncode == 3
    assert "no confirmed field map" in blocked.stdout
    ok = run(env_of(settings), "preflight")
    assert ok.returncode == 0, ok.stdout
    assert "invite" in ok.stdout  # the unmatched staff member goes on the invite list
    assert "No blockers" in ok.stdout


def test_map_propose_writes_every_field_with_confidence_and_reason(
    sim: SimulatorHandle, hesk_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    import yaml

    settings = prepare(sim, hesk_source, ledger_url, tmp_path)
    out = tmp_path / "proposal.yaml"
    done = run(env_of(settings), "map", "propose", "--out", str(out))
    assert done.returncode == 0, done.stderr
    proposal = yaml.safe_load(out.read_text())
    for section in ("custom_fields", "categories", "staff", "statuses", "priorities"):
        assert proposal[section], section
        for entry in proposal[section]:
            assert 0 <= float(entry["confidence"]) <= 1 and entry["reason"], entry
    bad = tmp_path / "bad.yaml"
    proposal["staff"][0]["admin_email"] = "nobody@nowhere.example"
    bad.write_text(yaml.safe_dump(proposal))
    refused = run(env_of(settings), "map", "confirm", "--file", str(bad), "--yes")
    assert refused.returncode == 2 and "nobody@nowhere.example" in refused.stderr

"""One migration over several Intercom apps: a 429 storm on one app and a token revoked
mid-run move the work to the others and end in the same workspace as a clean run, with no
duplicate; bad token lists stop `migrate` in one line before anything is written."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from pydantic import SecretStr

from core.tokens import fingerprint
from ledger.database import open_engine
from ledger.events import SourceCaptured, WriteInDoubt, WriteIntended
from ledger.store import Ledger
from reports.report import build_report
from simulator.testing import SimulatorHandle
from tests.helpers.cli import env_of, run
from tests.helpers.hesk import HeskSource
from tests.helpers.migration import migrate, prepare
from tests.helpers.normalise import duplicates, normalise
from tests.helpers.simulator import TOKEN

OTHERS = ["e2e-app-two-2222222", "e2e-app-three-333333"]


def _three_apps(sim: SimulatorHandle, settings, **extra):
    """The prepared migration, now given three tokens of the workspace."""
    for token in OTHERS:
        sim.add_app(token, **extra)
    tokens = ",".join([TOKEN, *OTHERS])
    return settings.model_copy(update={"intercom_token": SecretStr(tokens)})


def _ledger_text(ledger_url: str, migration: str) -> str:
    engine = sa.create_engine(ledger_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT key, payload::text FROM events WHERE migration_id = :m"),
            {"m": migration},
        ).all()
    engine.dispose()
    return "\n".join(f"{k} {p}" for k, p in rows)


def _same_as_baseline(sim: SimulatorHandle, baseline: dict, ledger_url: str, migration: str):
    dump = sim.dump()
    assert duplicates(dump) == {}
    assert normalise(dump) == baseline["normal"]
    report = build_report(open_engine(ledger_url), migration)
    assert report["objects"] == baseline["objects"]


def _intent_apps(ledger: Ledger) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rec in ledger.read(types=[WriteIntended.TYPE]):
        app = rec.event.target.get("app", "")  # type: ignore[attr-defined]  # Ledger.read yields Event: WriteIntended asked for
        counts[app] = counts.get(app, 0) + 1
    return counts


def _during_run(
    sim: SimulatorHandle, settings, tmp_path: Path, app_id: str, calls: int, action
) -> dict[str, object]:
    """Run the migration; once ``app_id`` has answered ``calls`` requests, do ``action``."""
    done: dict[str, object] = {}

    def coordinate() -> None:
        try:
            done["summary"] = migrate(settings, tmp_path, workers=2, threads=4)
        except BaseException as err:  # noqa: BLE001 - reported below
            done["error"] = err

    runner = threading.Thread(target=coordinate)
    runner.start()
    deadline = time.monotonic() + 240
    while sim.stats()["apps"][app_id]["requests_total"] < calls:
        assert runner.is_alive() and time.monotonic() < deadline, ("the run ended", done)
        time.sleep(0.05)
    action()
    runner.join(600)
    assert "error" not in done, done
    return done


def test_a_429_storm_on_one_app_moves_its_work_to_the_others(
    baseline: dict,
    sim: SimulatorHandle,
    chaos_source: HeskSource,
    ledger_url: str,
    tmp_path: Path,
) -> None:
    settings = _three_apps(sim, prepare(sim, chaos_source, ledger_url, tmp_path))
    storm = sim.app_id(OTHERS[0])
    try:
        _during_run(
            sim, settings, tmp_path, storm, 20, lambda: sim.set_faults(app=storm, rate_429=1.0)
        )
        before = sim.stats()
    finally:
        sim.set_faults(app=storm)
    _same_as_baseline(sim, baseline, ledger_url, settings.migration)
    # the storm really hit; each 429 sets the app aside until its window resets, so it
    # costs each worker process about one refused call per 10 s, never a wait
    assert before["faults_injected"]["rate_429"] >= 1, before
    served = [before["apps"][sim.app_id(t)]["requests_total"] for t in (TOKEN, OTHERS[1])]
    assert min(served) > 50, before["apps"]  # the other two carried the run
    ledger = Ledger(open_engine(ledger_url), settings.migration)
    assert ledger.count(types=[WriteInDoubt.TYPE]) == 0  # a 429 is never in doubt
    fps = {fingerprint(t) for t in (TOKEN, *OTHERS)}
    assert set(_intent_apps(ledger)) <= fps


def test_a_token_revoked_mid_run_drops_out_once_and_the_run_goes_on(
    baseline: dict,
    sim: SimulatorHandle,
    chaos_source: HeskSource,
    ledger_url: str,
    tmp_path: Path,
) -> None:
    settings = _three_apps(sim, prepare(sim, chaos_source, ledger_url, tmp_path))
    victim = sim.app_id(OTHERS[1])
    done = _during_run(sim, settings, tmp_path, victim, 40, lambda: sim.revoke(victim))
    _same_as_baseline(sim, baseline, ledger_url, settings.migration)
    ledger = Ledger(open_engine(ledger_url), settings.migration)
    assert ledger.count(types=[WriteInDoubt.TYPE]) == 0  # a 401 wrote nothing: not in doubt
    apps = _intent_apps(ledger)
    assert apps.get(fingerprint(OTHERS[1]), 0) >= 1  # it did take part before
    logs = "".join(p.read_text(errors="replace") for p in (tmp_path / "logs").glob("*"))
    assert logs.count("intercom.token_revoked") == 1, logs[-3000:]
    text = logs + _ledger_text(ledger_url, settings.migration) + json.dumps(done["summary"])
    for token in (TOKEN, *OTHERS):
        assert token not in text


def test_bad_token_lists_stop_migrate_in_one_line_before_anything_is_written(
    sim: SimulatorHandle, hesk_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    settings = prepare(sim, hesk_source, ledger_url, tmp_path)
    sim.add_app("e2e-app-elsewhere-44", workspace_id="another-ws")
    sim.add_app(OTHERS[0])
    cases = {
        f"{TOKEN},{OTHERS[0]},e2e-app-elsewhere-44": "token #3 (fp ",
        f"{TOKEN},{OTHERS[0]},{TOKEN}": "token #3 (fp ",
        f"{TOKEN},,{OTHERS[0]}": "item #2 of 3 is empty",
    }
    for tokens, says in cases.items():
        out = run({**env_of(settings), "H2I_INTERCOM_TOKEN": tokens}, "migrate", "--workers", "1")
        assert out.returncode == 2, out.stderr
        # one error (the console may wrap it) and its hint
        text = " ".join(line.strip() for line in out.stderr.splitlines())
        assert out.stderr.startswith("error:") and out.stderr.count("error:") == 1, out.stderr
        assert says in text, out.stderr
        assert "Traceback" not in out.stderr
        for token in tokens.split(","):
            if token:
                assert token not in out.stderr + out.stdout
    ledger = Ledger(open_engine(ledger_url), settings.migration)
    assert ledger.count(types=[SourceCaptured.TYPE, WriteIntended.TYPE]) == 0

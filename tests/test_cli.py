"""The command line as a user runs it: a real process, real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import sqlalchemy as sa

from tests.helpers.ledger import PG_ADMIN_URL

BIN = Path(sys.executable).with_name("hesk2intercom")
CONTRACT = [
    "demo",
    "discover",
    "map",
    "preflight",
    "migrate",
    "status",
    "report",
    "verify",
    "delta",
    "cutover",
    "rollback",
    "worker",
    "simulator",
    "inventory",
    "idmap",
    "redirects",
]


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=full_env, timeout=120
    )


def test_help_lists_every_contract_command_and_setting() -> None:
    out = run("--help")
    assert out.returncode == 0
    listed = {
        line.split()[0]
        for line in out.stdout.split("Commands:", 1)[1].splitlines()
        if line.startswith("  ") and line.strip()
    }
    assert set(CONTRACT) <= listed, set(CONTRACT) - listed
    for setting in (
        "H2I_LEDGER_URL",
        "H2I_REDIS_URL",
        "H2I_HESK_URL",
        "H2I_INTERCOM_TOKEN",
        "H2I_INTERCOM_REGION",
        "H2I_INTERCOM_BASE_URL",
        "H2I_MIGRATION",
        "H2I_HESK_TABLE_PREFIX",
        "H2I_HESK_ATTACHMENTS_DIR",
    ):
        assert setting in out.stdout, setting
    codes = " ".join(out.stdout.split())
    for code in (
        "0 done",
        "2 usage or configuration error",
        "3 preflight found blockers",
        "4 work left pending",
        "5 verify found a difference",
    ):
        assert code in codes, code
    verify_help = " ".join(run("verify", "--help").stdout.split())
    assert "exit 5" in verify_help


def test_status_on_an_empty_postgres_creates_the_ledger_and_prints_empty_status() -> None:
    name = f"h2i_cli_{uuid.uuid4().hex[:8]}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        out = run("status", "--json", H2I_LEDGER_URL=url)
        assert out.returncode == 0, out.stderr
        assert '"events": 0' in out.stdout
        assert '"ticket"' in out.stdout
    finally:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_unreachable_ledger_is_one_clear_line_and_exit_2() -> None:
    out = run("status", H2I_LEDGER_URL="postgresql+psycopg://postgres:hunter2pass@127.0.0.1:1/x")
    assert out.returncode == 2
    assert "cannot reach the ledger" in out.stderr
    assert "Traceback" not in out.stderr
    assert "hunter2pass" not in out.stderr + out.stdout


def test_malformed_ledger_url_is_a_usage_error() -> None:
    out = run("status", H2I_LEDGER_URL="not a url")
    assert out.returncode == 2
    assert "H2I_LEDGER_URL" in out.stderr and "Traceback" not in out.stderr


# --- bad settings, paths and options: one line, exit 2, no traceback (--debug shows it) ---


def run_in(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("H2I_")}
    return subprocess.run(
        [str(BIN), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**full_env, **env},
    )


def assert_one_line_error(out: subprocess.CompletedProcess[str], *phrases: str) -> str:
    """Exit 2, no traceback, one `error:` line (not wrapped) holding every phrase."""
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr + out.stdout
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, out.stderr
    for phrase in phrases:
        assert phrase in lines[0], (phrase, lines[0])
    return lines[0]


def test_an_unknown_region_names_the_setting_and_debug_shows_the_traceback(
    tmp_path: Path,
) -> None:
    assert_one_line_error(
        run_in(tmp_path, "status", H2I_INTERCOM_REGION="mars"),
        "H2I_INTERCOM_REGION",
        "mars",
        "'us', 'eu' or 'au'",
    )
    debug = run_in(tmp_path, "--debug", "status", H2I_INTERCOM_REGION="mars")
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_a_malformed_config_file_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "hesk2intercom.toml").write_text('migration = "x"\nledger_url = \n')
    assert_one_line_error(run_in(tmp_path, "status"), "hesk2intercom.toml", "line 2")


def test_a_config_file_with_an_unknown_key_or_a_bad_value_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "hesk2intercom.toml"
    config.write_text('ledgr_url = "postgresql+psycopg://postgres@127.0.0.1/x"\n')
    assert_one_line_error(run_in(tmp_path, "status"), "unknown setting ledgr_url")
    config.write_text('intercom_region = "mars"\n')
    assert_one_line_error(run_in(tmp_path, "status"), "intercom_region in", "mars")
    assert_one_line_error(
        run_in(tmp_path, "status", H2I_CONFIG_FILE=str(tmp_path / "no.toml")),
        "H2I_CONFIG_FILE",
        "not a file",
    )


def test_the_config_file_in_use_is_named_in_the_log(tmp_path: Path) -> None:
    name = f"h2i_cli_{uuid.uuid4().hex[:8]}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    config = tmp_path / "settings [prod].toml"  # a name Rich would read as markup
    config.write_text(f'ledger_url = "{url}"\nmigration = "from-file"\n')
    try:
        out = run_in(tmp_path, "--log-json", "status", "--json", H2I_CONFIG_FILE=str(config))
        assert out.returncode == 0, out.stderr
        assert '"migration": "from-file"' in out.stdout
        assert str(config) in out.stderr and "settings file in use" in out.stderr
    finally:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_a_malformed_redis_url_is_one_line_without_its_value(tmp_path: Path) -> None:
    line = assert_one_line_error(
        run_in(tmp_path, "worker", H2I_REDIS_URL="notaurl:s3cretpw"), "H2I_REDIS_URL", "redis://"
    )
    assert "s3cretpw" not in line


def test_a_malformed_intercom_base_url_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(
        run_in(
            tmp_path, "preflight", H2I_INTERCOM_BASE_URL="notaurl", H2I_INTERCOM_TOKEN="tok-123456"
        ),
        "H2I_INTERCOM_BASE_URL",
    )


def test_the_token_is_never_sent_over_plain_http_off_this_machine(tmp_path: Path) -> None:
    out = run_in(
        tmp_path,
        "preflight",
        H2I_INTERCOM_BASE_URL="http://intercom.example.com",
        H2I_INTERCOM_TOKEN="tok-never-in-clear",
    )
    assert_one_line_error(out, "plain http", "intercom.example.com")
    assert "tok-never-in-clear" not in out.stderr + out.stdout
    assert "https://" in out.stderr  # the hint says what to use instead


def test_the_http_guard_allows_loopback_and_https_only() -> None:
    import pytest

    from core.errors import ConfigError
    from intercom_api.base import require_safe_base_url

    for ok in (
        "http://127.0.0.1:8088",
        "http://localhost:1",
        "http://[::1]:8088",
        "http://127.5.0.1",
        "https://api.eu.intercom.io",
        "https://10.0.0.5",
    ):
        require_safe_base_url(ok)
    for bad in (
        "http://api.intercom.io",
        "http://10.0.0.5:8088",
        "http://simulator:8000",
        "http://localhost.evil.example",
        "ftp://127.0.0.1",
    ):
        with pytest.raises(ConfigError):
            require_safe_base_url(bad)


def test_unwritable_output_paths_are_refused_before_any_work(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    # the ledger is unreachable: only a check made before any work can answer first
    dead = {
        "H2I_LEDGER_URL": "postgresql+psycopg://postgres@127.0.0.1:1/x",
        "H2I_HESK_URL": "mysql+pymysql://root@127.0.0.1:1/x",
    }
    assert_one_line_error(
        run_in(tmp_path, "report", "--html", str(a_file / "r.html"), **dead), "--html", "r.html"
    )
    assert_one_line_error(
        run_in(tmp_path, "map", "propose", "--out", str(tmp_path), **dead), "--out", "is a folder"
    )
    assert_one_line_error(
        run_in(tmp_path, "inventory", "--out", str(a_file), **dead), "--out", "is a file"
    )
    assert_one_line_error(
        run_in(tmp_path, "map", "propose", "--out", "/proc/h2i.yaml", **dead),
        "--out",
        "cannot write",
    )
    assert not (tmp_path / "r.html").exists() and a_file.read_text() == "x"


def test_out_of_range_options_are_usage_errors(tmp_path: Path) -> None:
    for args, option in (
        (("migrate", "--sample", "-5"), "--sample"),
        (("verify", "--sample", "0"), "--sample"),
        (("demo", "--tickets", "0"), "--tickets"),
    ):
        out = run_in(tmp_path, *args)
        assert out.returncode == 2, (args, out.stderr)
        assert option in out.stderr and "Traceback" not in out.stderr

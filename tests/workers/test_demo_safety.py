"""`demo` in the shell of a real migration: it uses only its own databases and folder."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest
import sqlalchemy as sa
from rich.console import Console

from commands.demo import DemoOptions, demo_settings, run_demo
from hesk.demo_claim import MARKER_FILE, NotOurs
from tests.helpers.ledger import PG_ADMIN_URL
from tests.helpers.production import ProductionHesk


def _pg_databases() -> set[str]:
    engine = sa.create_engine(PG_ADMIN_URL)
    with engine.connect() as conn:
        names = {r[0] for r in conn.exec_driver_sql("SELECT datname FROM pg_database")}
    engine.dispose()
    return names


@pytest.fixture
def demo_names() -> Iterator[tuple[str, str]]:
    """Unique names for the demo's Hesk and ledger databases; dropped afterwards."""
    tag = uuid.uuid4().hex[:8]
    hesk, ledger = f"h2i_test_demo_hesk_{tag}", f"h2i_test_demo_ledger_{tag}"
    yield hesk, ledger
    conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{hesk}`")
    conn.close()
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{ledger}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def users_shell(
    production: ProductionHesk,
    monkeypatch: pytest.MonkeyPatch,  # noqa: F811
    tmp_path: Path,
) -> str:
    """The README's real-migration exports; returns the user's (not yet created) ledger."""
    users_ledger = f"h2i_test_users_ledger_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("H2I_HESK_URL", production.url)
    monkeypatch.setenv("H2I_HESK_ATTACHMENTS_DIR", str(production.folder))
    monkeypatch.setenv("H2I_HESK_TABLE_PREFIX", "prod_")
    monkeypatch.setenv("H2I_LEDGER_URL", PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{users_ledger}")
    monkeypatch.setenv("H2I_MIGRATION", "production")
    monkeypatch.setenv("H2I_INTERCOM_TOKEN", "the-users-real-token-value")
    monkeypatch.setenv("H2I_INTERCOM_BASE_URL", "https://api.intercom.io")
    monkeypatch.chdir(tmp_path)
    return users_ledger


def test_demo_settings_keep_only_the_servers(users_shell: str, tmp_path: Path) -> None:
    from core.settings import load_settings

    s = demo_settings(load_settings(), tmp_path / "demo-output", 8123, "demo-x")
    assert s.hesk_url == "mysql+pymysql://root@127.0.0.1:3306/h2i_demo_hesk"
    assert s.ledger_url.endswith("/h2i_demo_ledger") and users_shell not in s.ledger_url
    assert s.hesk_attachments_dir == (tmp_path / "demo-output" / "attachments").resolve()
    assert (s.migration, s.hesk_table_prefix) == ("demo-x", "hesk_")
    assert s.intercom_base_url == "http://127.0.0.1:8123"
    assert s.token_value() != "the-users-real-token-value"


def test_demo_leaves_the_users_hesk_ledger_and_files_byte_for_byte_intact(
    users_shell: str,
    production: ProductionHesk,  # noqa: F811
    demo_names: tuple[str, str],
    tmp_path: Path,
) -> None:
    before = production.fingerprint()
    hesk_db, ledger_db = demo_names
    out = tmp_path / "demo-output"
    options = DemoOptions(
        tickets=6, workers=1, out=out, hesk_database=hesk_db, ledger_database=ledger_db
    )
    result = run_demo(options, Console(file=io.StringIO()))
    assert result["migration"].startswith("demo-")
    assert sum(c["pending"] for c in result["report"]["objects"].values()) == 0
    assert production.fingerprint() == before
    assert users_shell not in _pg_databases() and ledger_db in _pg_databases()
    assert (out / MARKER_FILE).is_file() and (out / "attachments" / MARKER_FILE).is_file()


def test_demo_refuses_an_out_folder_holding_someone_elses_files(
    users_shell: str,
    production: ProductionHesk,  # noqa: F811
    demo_names: tuple[str, str],
) -> None:
    before = production.fingerprint()
    options = DemoOptions(
        tickets=2,
        workers=1,
        out=production.folder,
        hesk_database=demo_names[0],
        ledger_database=demo_names[1],
    )
    with pytest.raises(NotOurs) as refused:
        run_demo(options, Console(file=io.StringIO()))
    assert refused.value.exit_code == 2 and "--out" in refused.value.hint
    assert production.fingerprint() == before

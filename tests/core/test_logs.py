"""Secrets never reach the logs, whatever path they take."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from core.logs import configure_logging, get_logger, register_secret
from core.settings import load_settings, redact_url

TOKEN = "dG9rOmFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6MTIzNDU2"
PASSWORD = "s3cr3t-Pa55"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    configure_logging(json=True)


def _capture(json: bool) -> io.StringIO:
    out = io.StringIO()
    out.isatty = lambda: False  # type: ignore[method-assign]  # a StringIO that says it is no terminal
    configure_logging(json=json, stream=out)
    return out


def test_a_token_logged_every_way_never_appears() -> None:
    for as_json in (True, False):
        out = _capture(as_json)
        register_secret(TOKEN)
        log = get_logger("test")
        log.info("calling", token=TOKEN)
        log.info("headers", headers={"Authorization": f"Bearer {TOKEN}", "Accept": "json"})
        log.info(f"message with the token inline {TOKEN}")
        log.info("nested", request={"auth": [f"Bearer {TOKEN}"]})
        log.info("url", url=f"postgresql://u:{PASSWORD}@db/x")
        log.info("field", password=PASSWORD)
        try:
            raise RuntimeError(f"failed with Authorization: Bearer {TOKEN}")
        except RuntimeError:
            log.exception("boom")
        logging.getLogger("stdlib").error("stdlib path %s", TOKEN)
        try:
            raise ValueError(f"url postgresql://u:{PASSWORD}@db/x")
        except ValueError:
            logging.getLogger("stdlib").exception("stdlib exception")
        text = out.getvalue()
        assert "calling" in text and "boom" in text and "stdlib path" in text
        assert TOKEN not in text
        assert PASSWORD not in text
        assert "***" in text


def test_settings_never_print_the_token(monkeypatch) -> None:
    monkeypatch.setenv("H2I_INTERCOM_TOKEN", TOKEN)
    s = load_settings()
    assert TOKEN not in repr(s) and TOKEN not in str(s)
    assert s.token_value() == TOKEN


def test_urls_are_shown_without_password() -> None:
    assert PASSWORD not in redact_url(f"mysql+pymysql://root:{PASSWORD}@127.0.0.1/hesk")
    assert PASSWORD not in redact_url(f"redis://:{PASSWORD}@127.0.0.1:6379/0")


def test_toml_file_is_read(tmp_path, monkeypatch) -> None:
    cfg = tmp_path / "hesk2intercom.toml"
    cfg.write_text('migration = "from-toml"\nhesk_table_prefix = "hd_"\n')
    monkeypatch.setenv("H2I_CONFIG_FILE", str(cfg))
    monkeypatch.delenv("H2I_MIGRATION", raising=False)
    s = load_settings()
    assert (s.migration, s.hesk_table_prefix) == ("from-toml", "hd_")
    monkeypatch.setenv("H2I_MIGRATION", "from-env")
    assert load_settings().migration == "from-env"

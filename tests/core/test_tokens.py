"""The token list: several private apps' tokens, parsed strictly and never shown."""

from __future__ import annotations

import io
import json

import pytest
from pydantic import SecretStr

from core.errors import ConfigError
from core.logs import configure_logging, get_logger, register_secret
from core.settings import Settings
from core.tokens import fingerprint, parse_tokens

A, B, C = "tok-alpha-0001", "tok-bravo-0002", "tok-charlie-0003"


def test_a_comma_separated_list_gives_every_token_in_order() -> None:
    assert parse_tokens(f" {A}, {B},{C} ") == [A, B, C]
    assert Settings(intercom_token=SecretStr(A)).tokens == [A]
    assert Settings(intercom_token=None).tokens == []


def test_a_toml_list_is_the_same_as_the_comma_form(tmp_path, monkeypatch) -> None:
    config = tmp_path / "h2i.toml"
    config.write_text(f'intercom_token = ["{A}", "{B}"]\n', encoding="utf-8")
    monkeypatch.setenv("H2I_CONFIG_FILE", str(config))
    monkeypatch.delenv("H2I_INTERCOM_TOKEN", raising=False)
    assert Settings().tokens == [A, B]


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (f"{A},,{B}", "item #2 of 3 is empty"),
        (f"{A},{B},", "item #3 of 3 is empty"),
        (f"{A},{B},{A}", "token #3 (fp " + fingerprint(A) + ") repeats token #1"),
    ],
)
def test_an_empty_item_or_a_duplicate_is_one_config_error_without_the_token(
    raw: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings(intercom_token=SecretStr(raw)).tokens  # noqa: B018
    assert says in str(caught.value)
    assert A not in str(caught.value) and B not in str(caught.value)


def test_every_token_of_the_list_is_masked_in_logs() -> None:
    register_secret(f"{A},{B},{C}")
    out = io.StringIO()
    configure_logging(json=True, stream=out)
    get_logger("t").info("sent", detail=f"bearer was {B} then {C}", whole=f"{A},{B}")
    line = json.loads(out.getvalue().splitlines()[-1])
    text = json.dumps(line)
    assert A not in text and B not in text and C not in text
    assert "***" in line["detail"]

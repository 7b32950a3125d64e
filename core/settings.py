"""Settings: ``H2I_`` environment variables, an optional ``hesk2intercom.toml``, defaults.

Secrets (the Intercom token, database passwords inside URLs) are held as ``SecretStr`` or
shown only through :func:`redact_url`; they come from the environment or a file, never argv.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

REGION_BASE_URLS = {
    "us": "https://api.intercom.io",
    "eu": "https://api.eu.intercom.io",
    "au": "https://api.au.intercom.io",
}

CONFIG_FILE_ENV = "H2I_CONFIG_FILE"
DEFAULT_CONFIG_FILE = "hesk2intercom.toml"


class Settings(BaseSettings):
    """Every setting of hesk2intercom, read from ``H2I_*`` variables or the TOML file."""

    model_config = SettingsConfigDict(env_prefix="H2I_", extra="ignore")

    ledger_url: str = Field(
        "postgresql+psycopg://postgres@127.0.0.1:5432/hesk2intercom",
        description="SQLAlchemy URL of the Postgres ledger (created if missing).",
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Redis URL of the Dramatiq broker."
    )
    hesk_url: str | None = Field(
        None, description="SQLAlchemy URL of the Hesk MySQL/MariaDB database (read-only)."
    )
    hesk_table_prefix: str = Field("hesk_", description="Hesk's table prefix.")
    hesk_attachments_dir: Path | None = Field(
        None, description="Hesk's attachments folder (files are never read outside it)."
    )
    hesk_export_file: Path | None = Field(
        None, description="A Hesk Cloud export (.zip of Excel 2003 XML) instead of a DSN."
    )
    hesk_timezone: str = Field(
        "UTC",
        description="Hesk's timezone, an IANA name such as Europe/Berlin (default UTC): "
        "history lines and export-file times are its local time, written without an offset.",
    )
    hesk_date_format: str = Field(
        "Y-m-d H:i:s", description="Hesk's configured date format (PHP date() letters)."
    )
    intercom_token: SecretStr | None = Field(
        None, description="Intercom access token (environment or file only)."
    )
    intercom_region: Literal["us", "eu", "au"] = Field("us", description="Intercom region.")
    intercom_base_url: str | None = Field(
        None, description="Overrides the region's base URL (e.g. the local simulator)."
    )
    migration: str = Field(
        "default", description="Name of this migration; one ledger holds many."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        sources.append(file_secret_settings)
        return tuple(sources)

    @property
    def intercom_url(self) -> str:
        """The Intercom base URL: the explicit override, else the region's host."""
        return (self.intercom_base_url or REGION_BASE_URLS[self.intercom_region]).rstrip("/")

    def token_value(self) -> str | None:
        """The Intercom token in clear, for the one place that sends it."""
        return self.intercom_token.get_secret_value() if self.intercom_token else None


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment and the optional TOML file."""
    return Settings(**overrides)  # type: ignore[arg-type]


def redact_url(url: str | None) -> str:
    """A database or broker URL with its password replaced by ``***``."""
    if not url:
        return ""
    from sqlalchemy.engine import make_url  # noqa: PLC0415 (keeps `--help` from loading SQLAlchemy)

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not an SQLAlchemy URL (e.g. redis://): strip userinfo by hand
        if "@" in url and "://" in url:
            scheme, rest = url.split("://", 1)
            return f"{scheme}://***@{rest.split('@', 1)[1]}"
        return url


def settings_help() -> str:
    """One line per ``H2I_`` setting, for ``--help``."""
    lines = []
    for name, field in Settings.model_fields.items():
        lines.append(f"H2I_{name.upper()}: {field.description}")
    return "\n".join(lines)

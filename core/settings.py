"""Settings: ``H2I_`` environment variables, an optional ``hesk2intercom.toml``, defaults.

Secrets (the Intercom token, database passwords inside URLs) are held as ``SecretStr`` or
shown only through :func:`redact_url`; they come from the environment or a file, never argv.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.errors import ConfigError
from core.intercom_limits import WORKSPACE_CALLS_PER_MINUTE
from core.logs import get_logger

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
        None,
        description="Intercom access token, or several private apps' tokens of one "
        "workspace separated by commas (environment or file only).",
    )
    intercom_workspace_rate: int = Field(
        WORKSPACE_CALLS_PER_MINUTE,
        gt=0,
        description="Calls per minute for the whole Intercom workspace, all tokens together.",
    )
    intercom_timeout: float = Field(
        30.0,
        gt=0,
        description="Seconds an Intercom call may take before it is in doubt; a killed run's "
        "unanswered write is looked up again only after this plus 5 s.",
    )
    stall_seconds: float = Field(
        20.0,
        gt=0,
        description="Seconds without progress after which migrate, delta and cutover send "
        "the pending units again (a killed worker's, say).",
    )
    intercom_region: Literal["us", "eu", "au"] = Field("us", description="Intercom region.")
    intercom_base_url: str | None = Field(
        None, description="Overrides the region's base URL (e.g. the local simulator)."
    )
    migration: str = Field("default", description="Name of this migration; one ledger holds many.")
    demo_embedded: bool = Field(
        False,
        description="`demo` runs on its embedded ledger, broker and Hesk export "
        "file even when this machine's services answer (1/true).",
    )

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("redis", "rediss", "unix") or "://" not in value:
            raise ValueError("is not a Redis URL: use redis://HOST:PORT/DB (or rediss://)")
        return value

    @field_validator("intercom_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "is not an http(s) URL: use e.g. http://127.0.0.1:8088 "
                "for the simulator, or unset it to use the region's host"
            )
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = config_file()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        sources.append(file_secret_settings)
        return tuple(sources)

    @field_validator("intercom_token", mode="before")
    @classmethod
    def _token_list(cls, value: object) -> object:
        """A TOML list of tokens is read as the comma-separated form."""
        if isinstance(value, list | tuple):
            return ",".join(str(item) for item in value)
        return value

    @property
    def tokens(self) -> list[str]:
        """Every Intercom token, in order (ConfigError on an empty item or a duplicate)."""
        from core.tokens import parse_tokens  # noqa: PLC0415

        return parse_tokens(self.token_value())

    @property
    def intercom_url(self) -> str:
        """The Intercom base URL: the explicit override, else the region's host."""
        return (self.intercom_base_url or REGION_BASE_URLS[self.intercom_region]).rstrip("/")

    def token_value(self) -> str | None:
        """The Intercom token in clear, for the one place that sends it."""
        return self.intercom_token.get_secret_value() if self.intercom_token else None


#: Settings whose values are never repeated in an error message (they may hold a secret).
_SECRET_FIELDS = ("intercom_token", "ledger_url", "redis_url", "hesk_url")
_logged_config_files: set[Path] = set()


def config_file() -> Path | None:
    """The TOML file in use: ``H2I_CONFIG_FILE`` (must exist), else ``./hesk2intercom.toml``."""
    explicit = os.environ.get(CONFIG_FILE_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(
                f"{CONFIG_FILE_ENV} names {path}, which is not a file",
                hint=f"fix the path, or unset {CONFIG_FILE_ENV}",
            )
        return path
    path = Path(DEFAULT_CONFIG_FILE)
    return path if path.is_file() else None


def _check_config_file(path: Path) -> dict[str, Any]:
    """The file's keys, or a ConfigError saying what is wrong with it (never its values)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}",
            hint='fix that line (values are quoted: key = "value")',
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read {path}: {exc.__class__.__name__}",
            hint=f"make it a readable UTF-8 file, or unset {CONFIG_FILE_ENV}",
        ) from None
    unknown = sorted(k for k in data if k not in Settings.model_fields)
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting {', '.join(unknown)}",
            hint="keys are the setting names in lower case without H2I_, e.g. ledger_url; "
            "hesk2intercom --help lists them",
        )
    return data


def _describe(exc: ValidationError, file_keys: dict[str, Any], path: Path | None) -> str:
    """One line naming each wrong setting where the user set it, and what is wrong."""
    parts = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        env = f"H2I_{name.upper()}"
        where = env if name not in file_keys or env in os.environ else f"{name} in {path}"
        message = str(error["msg"]).removeprefix("Value error, ")
        shown = ""
        if name not in _SECRET_FIELDS and isinstance(error.get("input"), str | int):
            shown = f" (got {str(error['input'])[:40]!r})"
        parts.append(f"{where}{shown}: {message}")
    return "; ".join(parts)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment and the optional TOML file.

    A wrong value, a malformed file or an unknown key is a :class:`ConfigError` naming
    the setting (never its value when it may hold a secret); the file in use is logged.
    """
    path = config_file()
    file_keys = _check_config_file(path) if path is not None else {}
    if path is not None and path.resolve() not in _logged_config_files:
        _logged_config_files.add(path.resolve())
        get_logger(__name__).info("settings file in use", config_file=str(path.resolve()))
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(
            _describe(exc, file_keys, path),
            hint="fix the setting; hesk2intercom --help lists each one",
        ) from None


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

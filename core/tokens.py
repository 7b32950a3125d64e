"""The Intercom tokens of a migration: one, or several private apps of one workspace.

``H2I_INTERCOM_TOKEN`` holds one token or several separated by commas (the TOML file may
give a list). A token is never shown: it is named by its position in the list and a short
fingerprint (the first hex digits of its SHA-256), which is also what the ledger records.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import ConfigError
from core.hashing import fingerprint

SETTING = "H2I_INTERCOM_TOKEN"


def describe(position: int, token: str) -> str:
    """How a token is named in messages: ``token #2 (fp 1a2b3c4d)`` (1-based position)."""
    return f"token #{position} (fp {fingerprint(token)})"


def split_tokens(raw: str | Sequence[str] | None) -> list[str]:
    """The items of a token list as given (comma-separated text or a list), stripped."""
    if raw is None:
        return []
    items = raw.split(",") if isinstance(raw, str) else [str(t) for t in raw]
    return [item.strip() for item in items]


def parse_tokens(raw: str | Sequence[str] | None) -> list[str]:
    """The tokens of the setting, in order; ConfigError on an empty item or a duplicate."""
    items = split_tokens(raw)
    if not items or items == [""]:
        return []
    seen: dict[str, int] = {}
    for position, token in enumerate(items, start=1):
        if not token:
            raise ConfigError(
                f"{SETTING}: item #{position} of {len(items)} is empty",
                hint="separate the tokens with single commas, with no empty item",
            )
        if token in seen:
            raise ConfigError(
                f"{SETTING}: {describe(position, token)} repeats token #{seen[token]}",
                hint="give each private app's token once",
            )
        seen[token] = position
    return items

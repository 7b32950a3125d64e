"""The ``hesk2intercom`` command run as a user runs it: a subprocess with ``H2I_`` settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.settings import Settings
from tests.helpers.simulator import TOKEN

#: The installed command, beside this interpreter.
BIN = Path(sys.executable).with_name("hesk2intercom")


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``hesk2intercom *args`` with ``env`` added to this environment."""
    return subprocess.run(
        [str(BIN), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )


def env_of(settings: Settings) -> dict[str, str]:
    """The ``H2I_`` variables of a test migration's settings (token ``TOKEN``)."""
    return {
        "H2I_LEDGER_URL": settings.ledger_url,
        "H2I_HESK_URL": settings.hesk_url,
        "H2I_HESK_ATTACHMENTS_DIR": str(settings.hesk_attachments_dir),
        "H2I_INTERCOM_BASE_URL": settings.intercom_base_url,
        "H2I_INTERCOM_TOKEN": TOKEN,
        "H2I_MIGRATION": settings.migration,
    }

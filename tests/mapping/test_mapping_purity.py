"""mapping/ imports nothing that does I/O: it is pure functions only."""

from __future__ import annotations

import subprocess
import sys

_IO = (
    "sqlalchemy",
    "httpx",
    "redis",
    "psycopg",
    "pymysql",
    "dramatiq",
    "ledger.store",
    "ledger.database",
    "hesk.db",
    "hesk.reader",
    "hesk.attachments",
    "intercom_api",
)


def test_mapping_imports_no_io_modules() -> None:
    code = (
        "import sys, mapping.plan, mapping.proposal, mapping.text, mapping.fieldmap,"
        " mapping.retention;"
        f"print([m for m in {_IO!r} if any(k == m or k.startswith(m + '.') "
        "for k in sys.modules)])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="."
    )
    assert out.stdout.strip() == "[]"

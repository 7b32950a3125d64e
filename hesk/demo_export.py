"""The demo's HESK export file, for machines without MariaDB (the Hesk Cloud path).

``demo_export.zip`` (next to this module) is the export Hesk 3.7 would write for the demo
help desk (:func:`hesk.demo_data.generate`, seed :data:`SEED`, :data:`TICKETS` tickets,
dirty data included), made by :func:`make` with :func:`hesk.export_writer.write_export` at
a fixed time, so the same code always makes the same bytes (a test checks the shipped
file against a fresh one). Regenerate it with ``python -m hesk.demo_export`` (needs a
MariaDB server: ``H2I_HESK_URL``'s, or root on 127.0.0.1:3306).

:func:`first_tickets` writes a copy holding only the first N tickets, the way Hesk's own
export of a filtered ticket list looks: the demo's ``--tickets`` on this path.
"""

from __future__ import annotations

import re
import secrets
import sys
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from hesk.errors import ExportFileError

DEMO_EXPORT = Path(__file__).with_name("demo_export.zip")
SEED = 7
TICKETS = 300
#: The help desk's timezone in the shipped export (H2I_HESK_TIMEZONE to read it with).
TIMEZONE = "UTC"
MADE_AT = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
# A ticket row starts with <Row; CDATA sections (ticket text) are skipped as a whole.
_TOKENS = re.compile(r"<!\[CDATA\[.*?\]\]>|<Row[\s>]|</Table>", re.S)


def first_tickets(source: Path, dest: Path, tickets: int) -> int:
    """Write to ``dest`` the export ``source`` with only its first ``tickets`` tickets;
    returns how many it holds."""
    with zipfile.ZipFile(source) as zf:
        names = [n for n in zf.namelist() if n.endswith(".xml")]
        if len(names) != 1:
            raise ExportFileError(f"{source} does not hold one HESK export (.xml)")
        xml = zf.read(names[0]).decode("utf-8")
    rows: list[int] = []
    end = -1
    for match in _TOKENS.finditer(xml):
        token = match.group(0)
        if token.startswith("<Row"):
            rows.append(match.start())
        elif token == "</Table>":
            end = match.start()
            break
    if not rows or end < 0:
        raise ExportFileError(f"{source} is not a HESK export (no ticket table)")
    header, ticket_rows = rows[0], rows[1:]
    kept = min(tickets, len(ticket_rows))
    cut = ticket_rows[kept] if kept < len(ticket_rows) else end
    body = xml[:cut] + _row_gap(xml, ticket_rows, header, end) + xml[end:]
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(names[0], body)
    return kept


def _row_gap(xml: str, ticket_rows: list[int], header: int, end: int) -> str:
    """The text between the last row and ``</Table>`` (kept as the writer made it)."""
    last = ticket_rows[-1] if ticket_rows else header
    close = xml.rfind("</Row>", last, end)
    return xml[close + len("</Row>") : end] if close >= 0 else ""


def make(server_url: str | None, dest: Path = DEMO_EXPORT) -> Path:
    """Generate the demo help desk in a scratch database of ``server_url``'s MariaDB, write
    its export to ``dest`` and drop the database (it is the generator's own)."""
    import pymysql
    from sqlalchemy.engine import make_url

    from hesk.demo_claim import demo_database_url
    from hesk.demo_data import generate
    from hesk.export_writer import ExportOptions, write_export

    database = f"h2i_demo_export_{secrets.token_hex(4)}"
    url = demo_database_url(server_url, database)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            generate(
                url, Path(scratch) / "attachments", tickets=TICKETS, seed=SEED, timezone=TIMEZONE
            )
            made = write_export(url, scratch, ExportOptions(timezone=TIMEZONE, made_at=MADE_AT))
            dest.write_bytes(made.read_bytes())
        finally:
            parsed = make_url(url)
            conn = pymysql.connect(
                host=parsed.host or "127.0.0.1",
                port=parsed.port or 3306,
                user=parsed.username or "root",
                password=parsed.password or "",
                autocommit=True,
            )
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
            conn.close()
    return dest


if __name__ == "__main__":
    import os

    print(make(os.environ.get("H2I_HESK_URL"), Path(sys.argv[1]) if sys.argv[1:] else DEMO_EXPORT))

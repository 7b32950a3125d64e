"""Hesk 3.7.11's real schema, shipped as ``hesk/schema.sql`` (copied unchanged from the
installer's ``hesk_iTables()``; source and commit in the file's header).

Used by the demo-data generator and by tests; the reader itself reads columns by name.
"""

from __future__ import annotations

from importlib import resources

DEFAULT_PREFIX = "hesk_"


def schema_sql() -> str:
    """The packaged schema.sql text."""
    return resources.files("hesk").joinpath("schema.sql").read_text(encoding="utf-8")


def split_statements(sql: str) -> list[str]:
    """Split an SQL script on ``;`` outside quotes and ``--`` comments."""
    statements: list[str] = []
    buf: list[str] = []
    quote: str | None = None
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if quote:
            buf.append(ch)
            if ch == "\\" and i + 1 < n:
                buf.append(sql[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in ("'", '"', "`"):
            quote = ch
            buf.append(ch)
        elif sql.startswith(("-- ", "--\n"), i):
            end = sql.find("\n", i)
            i = n if end == -1 else end
            continue
        elif ch == ";":
            stmt = "".join(buf).strip()
            if stmt:
                statements.append(stmt)
            buf = []
        else:
            buf.append(ch)
        i += 1
    tail = "".join(buf).strip()
    if tail:
        statements.append(tail)
    return statements


def schema_statements(prefix: str = DEFAULT_PREFIX) -> list[str]:
    """The schema's statements with the table prefix ``hesk_`` replaced by ``prefix``."""
    from hesk.columns import check_table_prefix

    check_table_prefix(prefix)
    stmts = split_statements(schema_sql())
    if prefix != DEFAULT_PREFIX:
        stmts = [s.replace(f"`{DEFAULT_PREFIX}", f"`{prefix}") for s in stmts]
    return stmts


def table_names(prefix: str = DEFAULT_PREFIX) -> list[str]:
    """The 44 table names the schema creates, with ``prefix``."""
    names = []
    for stmt in schema_statements(prefix):
        head = stmt.split("(", 1)[0]
        if head.upper().startswith("CREATE TABLE"):
            names.append(head.split("`")[1])
    return names

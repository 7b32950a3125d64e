"""The Hesk tables and columns the reader reads, checked once when a reader opens.

A table or column the reader needs and the database lacks is an error naming it, never a
value silently read as empty: a ``hesk_replies`` without ``staffid`` must not turn every
reply into the customer's. Columns that a real Hesk version added later are listed with
that version (``install/update.php``); an older database is read without them, and
:class:`SchemaLayout` says which are there, so each fallback is decided by the schema.

The one layout switch is Hesk 3.5's customer accounts: ``hesk_customers`` and
``hesk_ticket_to_customer`` exist, tickets carry the requester snapshot in
``u_name``/``u_email`` and replies their author in ``customer_id``. Before 3.5 the snapshot
is ``name``/``email`` and a customer reply's author is ``replies.name``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.errors import ConfigError
from core.settings import redact_url
from hesk.errors import HeskSchemaError, UnsupportedHeskVersion

if TYPE_CHECKING:
    from hesk.db import HeskDB

#: The oldest Hesk the reader supports (``hesk_custom_fields`` appeared in 2.7).
MIN_VERSION = "2.7"
#: The Hesk version that brought customer accounts (see the module docstring).
CUSTOMER_ACCOUNTS_VERSION = "3.5.0"

_PREFIX = re.compile(r"[A-Za-z0-9_]*")


def check_table_prefix(prefix: str) -> str:
    """``prefix`` if it is a valid Hesk table prefix (letters, digits, ``_``); else ConfigError.

    The prefix is pasted into SQL as part of quoted table names, so nothing else may pass.
    """
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ConfigError(
            f"H2I_HESK_TABLE_PREFIX {prefix!r} may hold only letters, digits and _",
            hint="set it to Hesk's $hesk_settings['db_pfix'] (default hesk_)",
        )
    return prefix


@dataclass(frozen=True)
class TableColumns:
    """The columns read from one table: ``required`` in every supported Hesk, ``added``
    (column -> the Hesk version that added it) read only where present."""

    required: tuple[str, ...]
    added: Mapping[str, str] = field(default_factory=dict)


def _customs(first: int, last: int) -> tuple[str, ...]:
    return tuple(f"custom{n}" for n in range(first, last + 1))


#: Tables every Hesk the reader supports has; missing ones mean a wrong prefix or database.
REQUIRED_TABLES = (
    "tickets",
    "replies",
    "notes",
    "users",
    "categories",
    "custom_fields",
    "attachments",
)

#: Columns read, per table (tables that may be absent are checked only when present).
TABLES: dict[str, TableColumns] = {
    "tickets": TableColumns(
        required=(
            "id",
            "trackid",
            "category",
            "priority",
            "subject",
            "message",
            "dt",
            "lastchange",
            "firstreply",
            "closedat",
            "articles",
            "ip",
            "language",
            "status",
            "openedby",
            "closedby",
            "replies",
            "staffreplies",
            "owner",
            "time_worked",
            "archive",
            "locked",
            "attachments",
            "merged",
            "history",
            *_customs(1, 50),
        ),
        added={
            "assignedby": "2.8",
            "message_html": "3.2.0",
            "due_date": "3.2.0",
            **dict.fromkeys(_customs(51, 100), CUSTOMER_ACCOUNTS_VERSION),
        },
    ),
    "replies": TableColumns(
        required=("id", "replyto", "message", "dt", "attachments", "staffid", "rating", "read"),
        added={"message_html": "3.2.0"},
    ),
    "notes": TableColumns(required=("id", "ticket", "who", "dt", "message", "attachments")),
    "users": TableColumns(
        required=(
            "id",
            "user",
            "isadmin",
            "name",
            "email",
            "signature",
            "language",
            "categories",
            "heskprivileges",
        ),
        added={"nickname": "3.7.0", "active": "3.7.0"},
    ),
    "categories": TableColumns(
        required=("id", "name", "cat_order", "autoassign", "type", "priority")
    ),
    "custom_fields": TableColumns(
        required=("id", "use", "place", "type", "req", "category", "name", "value", "order")
    ),
    "custom_statuses": TableColumns(required=("id", "name")),
    "custom_priorities": TableColumns(required=("id", "name")),
    "attachments": TableColumns(
        required=("att_id", "ticket_id", "saved_name", "real_name", "size", "type")
    ),
    "kb_attachments": TableColumns(required=("att_id", "saved_name", "real_name", "size")),
    "kb_categories": TableColumns(required=("id", "name", "parent", "cat_order", "type")),
    "kb_articles": TableColumns(
        required=(
            "id",
            "catid",
            "dt",
            "author",
            "subject",
            "content",
            "keywords",
            "rating",
            "votes",
            "views",
            "type",
            "html",
            "sticky",
            "art_order",
            "history",
            "attachments",
        )
    ),
    "std_replies": TableColumns(
        required=("id", "title", "message", "reply_order"), added={"message_html": "3.2.0"}
    ),
    "ticket_templates": TableColumns(
        required=("id", "title", "message", "tpl_order"), added={"message_html": "3.2.0"}
    ),
    "customers": TableColumns(required=("id", "name", "email", "language", "verified")),
    "ticket_to_customer": TableColumns(
        required=("id", "ticket_id", "customer_id", "customer_type")
    ),
}

#: Columns that depend on customer accounts: (with accounts, before them), per table.
LAYOUT_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "tickets": (("u_name", "u_email"), ("name", "email")),
    "replies": (("customer_id",), ("name",)),
}


@dataclass(frozen=True)
class SchemaLayout:
    """What the reader found: the columns present per table it reads, and the layout."""

    prefix: str
    customer_accounts: bool
    columns: Mapping[str, frozenset[str]]

    def has(self, table: str, column: str) -> bool:
        """True if ``table`` exists and has ``column`` (for the version-added columns)."""
        return column in self.columns.get(table, frozenset())

    @property
    def snapshot_columns(self) -> tuple[str, str]:
        """The ticket's requester snapshot columns: ``u_name, u_email`` (3.5+) or
        ``name, email`` (before)."""
        with_accounts, before = LAYOUT_COLUMNS["tickets"]
        name, email = with_accounts if self.customer_accounts else before
        return name, email


def _missing_message(prefix: str, missing: list[tuple[str, str]]) -> str:
    if len(missing) == 1:
        table, column = missing[0]
        return f"the Hesk table {prefix}{table} has no column {column}, which the reader needs"
    shown = ", ".join(f"{prefix}{t}.{c}" for t, c in missing[:6])
    more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
    return f"the Hesk tables lack columns the reader needs: {shown}{more}"


def check_schema(db: HeskDB) -> SchemaLayout:
    """The layout of the Hesk database behind ``db``, or the error naming what is missing.

    Raises HeskSchemaError for a missing table or column, UnsupportedHeskVersion for a
    Hesk older than 2.7.
    """
    prefix = db.prefix
    absent = [t for t in REQUIRED_TABLES if not db.has_table(t)]
    if absent == ["custom_fields"]:
        raise UnsupportedHeskVersion(
            f"this Hesk database predates {MIN_VERSION} (no {prefix}custom_fields table)"
        )
    if absent:
        raise HeskSchemaError(
            "table "
            + ", ".join(prefix + t for t in absent)
            + f" not found in the Hesk database {redact_url(db.url)} (prefix {prefix!r})"
        )
    customers = db.has_table("customers")
    if customers != db.has_table("ticket_to_customer"):
        one = "customers" if customers else "ticket_to_customer"
        other = "ticket_to_customer" if customers else "customers"
        raise HeskSchemaError(
            f"the Hesk database has {prefix}{one} but no {prefix}{other}: a Hesk 3.5 "
            "upgrade was left half-done",
            hint="finish the upgrade with Hesk's install/update.php, then run again",
        )
    missing: list[tuple[str, str]] = []
    present: dict[str, frozenset[str]] = {}
    for table, spec in TABLES.items():
        have = db.columns(table)
        if not have:
            continue
        present[table] = have
        needed = list(spec.required)
        if table in LAYOUT_COLUMNS:
            needed += LAYOUT_COLUMNS[table][0 if customers else 1]
        missing += [(table, c) for c in needed if c not in have]
    if missing:
        era = (
            f"Hesk {CUSTOMER_ACCOUNTS_VERSION}+ (it has customer tables)"
            if customers
            else f"Hesk {MIN_VERSION}-3.4 (no customer tables)"
        )
        raise HeskSchemaError(
            _missing_message(prefix, missing),
            hint=f"the schema looks like {era} but is incomplete: is this a Hesk database? "
            "Upgrade it with Hesk's install/update.php, or point H2I_HESK_URL and "
            "H2I_HESK_TABLE_PREFIX at the right one",
        )
    return SchemaLayout(prefix=prefix, customer_accounts=customers, columns=present)

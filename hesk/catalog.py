"""Small lookup tables read whole: staff, categories, custom fields, statuses, priorities.

Hesk bounds them (smallint ids, 100 custom fields, 255 statuses), so they are cached on
the reader and used to resolve ids while tickets, replies and notes stream.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from hesk.records import Category, CustomFieldDefinition, Staff
from hesk.text import decode_entities

if TYPE_CHECKING:
    from hesk.reader_base import ReaderBase as HeskReader

BUILTIN_STATUSES = {
    0: "New",
    1: "Waiting reply",
    2: "Replied",
    3: "Resolved",
    4: "In Progress",
    5: "On Hold",
}
BUILTIN_PRIORITIES = {0: "Critical", 1: "High", 2: "Medium", 3: "Low"}
CUSTOM_FIELD_TYPES = ("text", "textarea", "radio", "select", "checkbox", "date", "email", "hidden")


def language_name(raw: str | None, language: str = "English") -> tuple[str, dict[str, str]]:
    """Decode a Hesk ``{"English": "..."}`` name JSON: (chosen name, all names decoded)."""
    if not raw:
        return "", {}
    try:
        names = json.loads(raw)
    except ValueError:
        return decode_entities(raw), {}
    if not isinstance(names, dict):
        return decode_entities(str(names)), {}
    decoded = {str(k): decode_entities(str(v)) for k, v in names.items()}
    chosen = decoded.get(language) or next(iter(decoded.values()), "")
    return chosen, decoded


def _ints(csv: str | None) -> tuple[int, ...]:
    return tuple(int(p) for p in (csv or "").split(",") if p.strip().isdigit())


def staff_from_row(row: dict[str, Any]) -> Staff:
    """Build a :class:`Staff` from a ``hesk_users`` row."""
    return Staff(
        source_id=str(row["id"]),
        id=int(row["id"]),
        username=decode_entities(row.get("user") or ""),
        name=decode_entities(row.get("name") or ""),
        email=(row.get("email") or "").strip(),
        nickname=decode_entities(row.get("nickname") or ""),
        is_admin=str(row.get("isadmin")) == "1",
        active=int(row.get("active", 1) or 0) == 1,
        signature=decode_entities(row.get("signature") or ""),
        language=row.get("language"),
        category_ids=_ints(row.get("categories")),
        privileges=tuple(p for p in (row.get("heskprivileges") or "").split(",") if p),
    )


def iter_staff(r: HeskReader, since_id: int | None = None) -> Iterator[Staff]:
    """Every staff member, by id."""
    cols = (
        "`id`, `user`, `isadmin`, `name`, `email`, `signature`, `language`, "
        "`categories`, `heskprivileges`"
    )
    # nickname and active came with Hesk 3.7.0: before, every staff member is active.
    cols += "".join(f", `{c}`" for c in ("nickname", "active") if r.layout.has("users", c))
    for rows in r.db.keyset("users", cols, after=since_id, batch=r.batch_size):
        for row in rows:
            r.note_legacy(row, "staff", row["id"])
            yield staff_from_row(row)


def iter_categories(r: HeskReader, since_id: int | None = None) -> Iterator[Category]:
    """Every ticket category, by id."""
    for rows in r.db.keyset("categories", "*", after=since_id, batch=r.batch_size):
        for row in rows:
            r.note_legacy(row, "category", row["id"])
            yield Category(
                source_id=str(row["id"]),
                id=int(row["id"]),
                name=decode_entities(row.get("name") or ""),
                order=int(row.get("cat_order") or 0),
                private=str(row.get("type")) == "1",
                default_priority=int(row.get("priority", 3) or 0),
                autoassign=str(row.get("autoassign")) == "1",
            )


def custom_field_from_row(row: dict[str, Any]) -> CustomFieldDefinition:
    """Build a :class:`CustomFieldDefinition` from a ``hesk_custom_fields`` row."""
    name, names = language_name(row.get("name"))
    try:
        settings = json.loads(row.get("value") or "{}")
    except ValueError:
        settings = {"raw": row.get("value")}
    if not isinstance(settings, dict):
        settings = {"raw": settings}
    ftype = str(row.get("type") or "text")
    options: list[str] = []
    for key in ("radio_options", "select_options", "checkbox_options"):
        opts = settings.get(key)
        if isinstance(opts, list):
            options.extend(decode_entities(str(o)) for o in opts)
        elif isinstance(opts, dict):
            options.extend(decode_entities(str(o)) for o in opts.values())
    cats_raw = row.get("category")
    category_ids: tuple[int, ...] | None = None
    if cats_raw:
        try:
            category_ids = tuple(int(c) for c in json.loads(cats_raw))
        except (ValueError, TypeError):
            category_ids = None
    max_length = str(settings.get("max_length") or "")
    use = int(row.get("use") or 0)
    return CustomFieldDefinition(
        source_id=str(row["id"]),
        id=int(row["id"]),
        column=f"custom{row['id']}",
        name=name,
        names=names,
        field_type=ftype,
        use=use,
        staff_only=use == 2,
        place=int(row.get("place") or 0),
        required=int(row.get("req") or 0),
        category_ids=category_ids,
        options=tuple(options),
        default_value=decode_entities(str(settings.get("default_value") or "")),
        max_length=int(max_length) if max_length.isdigit() else None,
        date_format=settings.get("date_format") if ftype == "date" else None,
        multiple=bool(int(settings.get("multiple") or 0)) if ftype == "email" else False,
        order=int(row.get("order") or 0),
        settings=settings,
    )


def iter_custom_fields(
    r: HeskReader, since_id: int | None = None
) -> Iterator[CustomFieldDefinition]:
    """Every enabled custom field definition (``use`` 1 public or 2 staff-only), by id."""
    if not r.db.has_table("custom_fields"):
        return
    for rows in r.db.keyset(
        "custom_fields", "*", after=since_id, batch=r.batch_size, where="`use` IN ('1','2')"
    ):
        for row in rows:
            definition = custom_field_from_row(row)
            if definition.field_type not in CUSTOM_FIELD_TYPES:
                r.add_finding(
                    "unknown_custom_field_type",
                    "custom_field",
                    row["id"],
                    f"type {definition.field_type!r}",
                )
            yield definition


def status_names(r: HeskReader) -> dict[int, str]:
    """Status code -> English name (built-ins plus ``hesk_custom_statuses``)."""
    names = dict(BUILTIN_STATUSES)
    if r.db.has_table("custom_statuses"):
        for row in r.db.query(f"SELECT id, name FROM {r.db.t('custom_statuses')}"):
            names[int(row["id"])] = language_name(row["name"])[0] or f"Status {row['id']}"
    return names


def priority_names(r: HeskReader) -> dict[int, str]:
    """Priority id -> English name (built-ins; custom rows unless their name is "NULL")."""
    names = dict(BUILTIN_PRIORITIES)
    if r.db.has_table("custom_priorities"):
        for row in r.db.query(f"SELECT id, name FROM {r.db.t('custom_priorities')}"):
            name = language_name(row["name"])[0]
            if name and name != "NULL":
                names[int(row["id"])] = name
    return names

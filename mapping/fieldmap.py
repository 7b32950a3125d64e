"""The field map's declared shape: every section, key and value type a map file may hold.

A map read from a file is checked whole against these models before anything else: an
unknown section or key, a missing one, or a value of the wrong type is one line naming it
by its path (``categories.3.team``: section, the entry's Hesk id — or ``name`` for
``attributes`` —, key). :func:`parse_map` returns the typed :class:`FieldMap`;
:func:`shape_problems` lists what is wrong. The planners keep reading the plain dict the
ledger records (``FieldMap.to_dict()``).
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from mapping.defaults import DEFAULT_OPTIONS, TICKET_TYPE_NAME
from mapping.urls import check_web_url

#: The conversation attribute data types a map may use.
DataType = Literal["string", "integer", "list", "decimal", "boolean", "datetime"]


class _Entry(BaseModel):
    """Strict (no coercion between types), closed (no unknown keys), immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class MapOptions(_Entry):
    """``options:`` — how the migration treats what has no one-to-one target."""

    fallback_admin_email: str | None = DEFAULT_OPTIONS["fallback_admin_email"]
    staff_only_fields: Literal["skip", "move"] = DEFAULT_OPTIONS["staff_only_fields"]
    anonymised_tickets: Literal["skip", "migrate_without_requester"] = DEFAULT_OPTIONS[
        "anonymised_tickets"
    ]
    long_threads: Literal["fold", "keep"] = DEFAULT_OPTIONS["long_threads"]
    migrate_ip: bool = DEFAULT_OPTIONS["migrate_ip"]
    max_attachment_bytes: int = Field(default=DEFAULT_OPTIONS["max_attachment_bytes"], gt=0)
    max_request_bytes: int = Field(default=DEFAULT_OPTIONS["max_request_bytes"], gt=0)
    hesk_url: str | None = DEFAULT_OPTIONS["hesk_url"]
    customer_ticket_url: str | None = DEFAULT_OPTIONS["customer_ticket_url"]

    @field_validator("customer_ticket_url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        """Where ``redirects`` sends customers' ticket links: an absolute http(s) URL."""
        return None if value is None else check_web_url(value, "customer_ticket_url")


def _intercom_id(value: Any) -> Any:
    """An Intercom id as text (YAML reads an unquoted numeric id as an integer)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class AttributeEntry(_Entry):
    """``attributes:`` — a conversation attribute every migration creates (or links)."""

    name: str
    data_type: DataType
    options: list[str] = []
    description: str = ""
    existing_id: str | None = None

    _id = field_validator("existing_id", mode="before")(_intercom_id)


class _Proposed(_Entry):
    """The informational keys of a proposed entry (ignored by the migration)."""

    hesk_id: int
    hesk_name: str
    confidence: float | None = Field(None, ge=0, le=1)
    reason: str = ""


class CustomFieldEntry(_Proposed):
    """``custom_fields:`` — a Hesk custom field and the attribute its values go to."""

    hesk_type: str = ""
    staff_only: bool = False
    migrate: Literal["auto"] | bool = "auto"
    attribute: str = ""
    data_type: DataType = "string"
    options: list[str] = []
    existing_id: str | None = None

    _id = field_validator("existing_id", mode="before")(_intercom_id)

    @field_validator("migrate", mode="before")
    @classmethod
    def _auto_true_false(cls, value: Any) -> Any:
        if value != "auto" and not isinstance(value, bool):
            raise ValueError(f"{value!r} is not one of auto | true | false")
        return value


class CategoryEntry(_Proposed):
    """``categories:`` — a Hesk category to an existing team, or to a tag."""

    team: str | None = None
    tag: str | None = None


class StaffEntry(_Proposed):
    """``staff:`` — a Hesk staff member to an Intercom admin (None: the fallback admin)."""

    hesk_email: str = ""
    admin_email: str | None = None


class StatusEntry(_Proposed):
    """``statuses:`` — a Hesk status to an open or closed conversation (or ticket), and
    for the tickets target the Intercom ticket state (its internal label)."""

    state: Literal["open", "closed"]
    ticket_state: str | None = None


class TicketSettings(_Entry):
    """``tickets:`` — the tickets target's ticket type and where the Hesk history goes."""

    type_name: str = Field(TICKET_TYPE_NAME, min_length=1)
    history: Literal["attribute", "note"] = "attribute"


class PriorityEntry(_Proposed):
    """``priorities:`` — a Hesk priority to a value of the ``hesk_priority`` attribute."""

    value: str


class ResolvedIds(_Entry):
    """``resolved:`` — names turned into workspace ids at confirmation (``map show``
    prints it; ``map confirm`` recomputes it)."""

    admins: dict[str, str] = {}
    teams: dict[str, str] = {}
    fallback_admin_id: str = ""
    ticket_states: dict[str, str] = {}
    default_ticket_state_id: str = ""


class FieldMap(_Entry):
    """A whole field map (see ``mapping.proposal`` for how each section is proposed)."""

    version: Literal[1]
    target: Literal["conversations", "tickets"] = "conversations"
    tickets: TicketSettings | None = None
    options: MapOptions = MapOptions()
    attributes: list[AttributeEntry] = []
    custom_fields: list[CustomFieldEntry] = []
    categories: list[CategoryEntry] = []
    staff: list[StaffEntry] = []
    statuses: list[StatusEntry] = []
    priorities: list[PriorityEntry] = []
    resolved: ResolvedIds | None = None

    def to_dict(self) -> dict[str, Any]:
        """The map as the plain dict the ledger records and the planners read (keys the
        file left out stay out, so its hash is the file's)."""
        return self.model_dump(mode="json", exclude_unset=True)


class MapShapeError(ValueError):
    """A map whose sections, keys or value types are wrong; ``problems`` has one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


SECTION_KEYS = {"attributes": "name"}  # the key naming an entry in a path (else hesk_id)

_TYPE_WORDS = {
    "string_type": "text",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _path(data: Any, loc: tuple[Any, ...]) -> str:
    """A readable path: list positions become the entry's Hesk id (or name) when it has one."""
    parts: list[str] = []
    node: Any = data
    section: str | None = None
    for step in loc:
        if isinstance(step, int) and isinstance(node, list):
            item = node[step] if step < len(node) else None
            key = SECTION_KEYS.get(section or "", "hesk_id")
            label = item.get(key) if isinstance(item, dict) and len(parts) == 1 else None
            usable = (
                isinstance(label, str) and label.strip()
                if key == "name"
                else isinstance(label, int) and not isinstance(label, bool)
            )
            parts.append(str(label) if usable else f"[{step}]")
            node = item
        else:
            if not parts:
                section = str(step)
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts).replace(".[", "[")


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model holding the last key of ``loc`` (to list the keys it allows)."""
    model: Any = FieldMap
    for step in loc[:-1]:
        if isinstance(step, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(step))
        if field is None:
            return None
        model = field.annotation
        while typing.get_origin(model) in (list, types.UnionType, typing.Union):
            model = next(a for a in typing.get_args(model) if a is not type(None))
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _describe(error: ErrorDetails, loc: tuple[Any, ...]) -> str:
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        model = _model_at(loc)
        allowed = f" (allowed: {', '.join(model.model_fields)})" if model else ""
        return ("unknown section" if len(loc) == 1 else "unknown key") + allowed
    if kind == "missing":
        return "required, but missing"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{value!r} is not one of {expected.replace(' or ', ', ')}"
    if kind in _TYPE_WORDS:
        return f"must be {_TYPE_WORDS[kind]}, not {value!r}"
    if kind == "greater_than":
        return f"must be more than {error['ctx']['gt']}, not {value!r}"
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"must be between 0 and 1, not {value!r}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return str(error["msg"])


def shape_problems(data: Any) -> list[str]:
    """Every section, key or value type of ``data`` that a map may not have (one line each)."""
    try:
        FieldMap.model_validate(data)
    except ValidationError as err:
        out = []
        for e in err.errors():
            loc = tuple(e["loc"])
            where = _path(data, loc) if loc else "the map"
            out.append(f"{where}: {_describe(e, loc)}")
        return list(dict.fromkeys(out))
    return []


def parse_map(data: Any) -> FieldMap:
    """The typed map from a loaded YAML/JSON document; MapShapeError lists what is wrong."""
    if not isinstance(data, dict):
        raise MapShapeError(["the map must be a mapping of sections (see the header comments)"])
    problems = shape_problems(data)
    if problems:
        raise MapShapeError(problems)
    return FieldMap.model_validate(data)

"""Intercom's search query language: filters, AND/OR nesting, operators, sort, paging.

A filter is ``{"field", "operator", "value"}`` or ``{"operator": "AND"|"OR", "value": [...]}``
(at most 2 levels of nesting and 15 filters per group, as documented). Fields are dotted
paths into the object's GET shape, with aliases per object (``contact_ids`` -> the
conversation's contact ids). A list-valued field matches ``=`` when any element does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from core.intercom_limits import SEARCH_FILTERS_PER_GROUP as MAX_FILTERS
from core.intercom_limits import SEARCH_NESTING as MAX_NESTING

from .errors import ApiError, invalid
from .pagination import page, per_page_value
from .state import Obj

Getter = Callable[[Obj], Any]
OPERATORS = {"=", "!=", "IN", "NIN", "<", "<=", ">", ">=", "~", "!~", "^", "$"}


def dotted(path: str) -> Getter:
    """A getter for a dotted path (``source.body``, ``custom_attributes.x``)."""
    keys = path.split(".")

    def get(obj: Obj) -> Any:
        value: Any = obj
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return get


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, bool) or value is None:
        return value
    return value


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return str(a).lower() == str(b).lower() if a is not None and b is not None else a == b
    return a == b


def _compare(op: str, actual: Any, wanted: Any, inclusive_gt_lt: bool) -> bool:
    if isinstance(actual, list):
        if op in ("!=", "NIN", "!~"):
            return all(_compare(op, v, wanted, inclusive_gt_lt) for v in actual)
        return any(_compare(op, v, wanted, inclusive_gt_lt) for v in actual)
    if op == "=":
        return _eq(actual, wanted)
    if op == "!=":
        return not _eq(actual, wanted)
    if op in ("IN", "NIN"):
        if not isinstance(wanted, list):
            raise invalid(f"operator {op} needs a list value", "value")
        hit = any(_eq(actual, w) for w in wanted)
        return hit if op == "IN" else not hit
    if op in ("<", "<=", ">", ">="):
        a, w = _as_number(actual), _as_number(wanted)
        if a is None or w is None:
            return False
        if inclusive_gt_lt and op in ("<", ">"):
            op += "="
        return {"<": a < w, "<=": a <= w, ">": a > w, ">=": a >= w}[op]
    text = "" if actual is None else str(actual).lower()
    needle = str(wanted).lower()
    if op == "~":
        return needle in text
    if op == "!~":
        return needle not in text
    if op == "^":
        return text.startswith(needle)
    return text.endswith(needle)  # "$"


class Query:
    """A compiled search query for one kind of object."""

    def __init__(
        self,
        query: Any,
        fields: dict[str, Getter],
        *,
        inclusive_gt_lt: bool = False,
    ) -> None:
        self.fields = fields
        self.inclusive = inclusive_gt_lt
        self.check = self._compile(query, depth=0)
        self.root = query

    def _getter(self, name: str) -> Getter:
        getter = self.fields.get(name)
        if getter is None:
            if name.startswith("custom_attributes."):
                getter = dotted(name)
            else:
                raise invalid(f"{name} is not a searchable field", "field")
        return getter

    def _compile(self, node: Any, depth: int) -> Callable[[Obj], bool]:
        if not isinstance(node, dict):
            raise invalid("query must be an object", "query")
        op = node.get("operator")
        if op in ("AND", "OR"):
            if depth >= MAX_NESTING + 1:
                raise invalid("Nesting is limited to 2 levels", "query")
            children = node.get("value")
            if not isinstance(children, list) or not children:
                raise invalid(f"{op} needs a list of filters", "value")
            if len(children) > MAX_FILTERS:
                raise invalid("A maximum of 15 filters is allowed per AND or OR group", "value")
            checks = [self._compile(child, depth + 1) for child in children]
            if op == "AND":
                return lambda obj: all(check(obj) for check in checks)
            return lambda obj: any(check(obj) for check in checks)
        if op not in OPERATORS:
            raise invalid(f"Operator {op!r} is not supported", "operator")
        field_name = node.get("field")
        if not isinstance(field_name, str):
            raise invalid("field is required", "field")
        getter = self._getter(field_name)
        wanted = node.get("value")
        inclusive = self.inclusive
        return lambda obj: _compare(op, getter(obj), wanted, inclusive)

    def equality_values(self, field_name: str) -> list[str] | None:
        """Values that ``field_name`` must equal for a match (for index narrowing), or None."""
        node = self.root
        filters = [node]
        if node.get("operator") == "AND":
            filters = [f for f in node["value"] if isinstance(f, dict)]
        for f in filters:
            if f.get("field") == field_name and f.get("operator") == "=":
                return [str(f.get("value"))]
            if f.get("field") == field_name and f.get("operator") == "IN":
                value = f.get("value")
                if isinstance(value, list):
                    return [str(v) for v in value]
        return None


def run_search(
    body: dict[str, Any],
    candidates: Iterable[Obj],
    fields: dict[str, Getter],
    *,
    inclusive_gt_lt: bool = False,
    query: Query | None = None,
) -> tuple[list[Obj], int, dict[str, Any]]:
    """Filter, sort and page ``candidates``: (page items, total count, pages)."""
    query = query or Query(body.get("query"), fields, inclusive_gt_lt=inclusive_gt_lt)
    matches = [obj for obj in candidates if query.check(obj)]
    sort = body.get("sort")
    if isinstance(sort, dict) and sort.get("field"):
        order = sort.get("order", "ascending")
        if order not in ("ascending", "descending"):
            raise ApiError(400, "invalid_sort_order", "Sort order must be ascending or descending")
        getter = query._getter(str(sort["field"]))
        matches.sort(
            key=lambda o: (getter(o) is None, _norm(getter(o)) if getter(o) is not None else 0),
            reverse=order == "descending",
        )
    pagination = body.get("pagination") or {}
    per_page = per_page_value(pagination.get("per_page"), 20)
    items, pages = page(matches, len(matches), per_page, pagination.get("starting_after"))
    return items, len(matches), pages

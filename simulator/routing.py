"""A small router: Intercom path templates to handlers, static paths before parameters.

A handler is a plain function ``(ws, req) -> (status, body)``; it raises
:class:`simulator.errors.ApiError` for Intercom's errors. Matching is a dict lookup for
static paths and a short scan of templates with the same method and segment count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .state import Workspace


@dataclass(slots=True)
class Request:
    """What a handler sees of one HTTP request."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    base_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Workspace, Request], tuple[int, Any]]


@dataclass(frozen=True, slots=True)
class Route:
    """One operation: method, Intercom path template, handler, whether it writes."""

    method: str
    template: str
    handler: Handler
    writes: bool

    @property
    def key(self) -> str:
        """``"POST /conversations/{conversation_id}/reply"`` — stats and validation key."""
        return f"{self.method} {self.template}"


class Router:
    """Finds the route and path parameters for a method and a path."""

    def __init__(self, routes: list[Route]) -> None:
        self._static: dict[tuple[str, str], Route] = {}
        self._dynamic: dict[tuple[str, int], list[tuple[tuple[str | None, ...], Route]]] = {}
        for route in routes:
            segments = tuple(route.template.strip("/").split("/"))
            if not any(s.startswith("{") for s in segments):
                self._static[(route.method, route.template)] = route
                continue
            pattern = tuple(None if s.startswith("{") else s for s in segments)
            bucket = self._dynamic.setdefault((route.method, len(segments)), [])
            bucket.append((pattern, route))
            bucket.sort(key=lambda item: sum(p is None for p in item[0]))
        self._names = {
            r.key: [s[1:-1] for s in r.template.strip("/").split("/") if s.startswith("{")]
            for r in routes
        }

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route and its path parameters, or None."""
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/")
        route = self._static.get((method, path))
        if route is not None:
            return route, {}
        segments = path.strip("/").split("/")
        for pattern, route in self._dynamic.get((method, len(segments)), ()):
            values: list[str] = []
            for want, got in zip(pattern, segments, strict=True):
                if want is None:
                    if not got:
                        break
                    values.append(got)
                elif want != got:
                    break
            else:
                return route, dict(zip(self._names[route.key], values, strict=True))
        return None

    def allows_path(self, path: str) -> bool:
        """Whether some method serves this path (for 404 vs 405)."""
        return any(self.match(m, path) for m in ("GET", "POST", "PUT", "DELETE"))

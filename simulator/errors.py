"""Intercom's error envelope, and the exception handlers raise to answer with it."""

from __future__ import annotations

import uuid
from typing import Any


class ApiError(Exception):
    """An answer in Intercom's ``error.list`` envelope; raised by handlers, sent by the app."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def body(self) -> dict[str, Any]:
        """The JSON body Intercom sends for this error."""
        return error_body(self.code, self.message, self.field)


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """``{"type": "error.list", "request_id": ..., "errors": [{code, message[, field]}]}``."""
    item: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        item["field"] = field
    return {"type": "error.list", "request_id": uuid.uuid4().hex, "errors": [item]}


def not_found(message: str = "Resource Not Found") -> ApiError:
    """404 ``not_found``."""
    return ApiError(404, "not_found", message)


def invalid(message: str, field: str | None = None) -> ApiError:
    """400 ``parameter_invalid``."""
    return ApiError(400, "parameter_invalid", message, field)


def missing(name: str) -> ApiError:
    """400 ``parameter_not_found`` for a required field."""
    return ApiError(400, "parameter_not_found", f"{name} is a required parameter.", name)

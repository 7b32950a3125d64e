"""Logging: structlog, console in a terminal and JSON otherwise, with secrets redacted.

The redaction processor runs last before rendering, on every event: it masks values of
secret-looking keys, bearer tokens and URL passwords anywhere in the event (exception text
included), and every value registered with :func:`register_secret`.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

MASK = "***"
_SECRET_KEYS = re.compile(r"(token|password|passwd|secret|authorization|api[_-]?key)", re.I)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=:-]+", re.I)
_URL_PASSWORD = re.compile(r"(\w+://[^:/@\s]*:)[^@\s]+(@)")
_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask this exact value wherever it appears in a log event from now on.

    A comma-separated list (several Intercom tokens) registers each of its items too.
    """
    if not value:
        return
    for item in (value, *value.split(",")):
        item = item.strip()
        if len(item) >= 4:
            _registered.add(item)


def redact_text(text: str) -> str:
    """The text with bearer tokens, URL passwords and registered secrets masked."""
    for secret in sorted(_registered, key=len, reverse=True):  # a list before its items
        if secret in text:
            text = text.replace(secret, MASK)
    text = _BEARER.sub(rf"\1{MASK}", text)
    return _URL_PASSWORD.sub(rf"\1{MASK}\2", text)


def _redact_value(key: str, value: Any) -> Any:
    if isinstance(value, str):
        return MASK if _SECRET_KEYS.search(key) and value else redact_text(value)
    if isinstance(value, dict):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(key, v) for v in value)
    if isinstance(value, BaseException):
        return redact_text(repr(value))
    if _SECRET_KEYS.search(key) and value is not None:
        return MASK
    return value


def redact_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secrets in every key and value of the event."""
    return {k: _redact_value(k, v) for k, v in event_dict.items()}


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time (it may be replaced, e.g. by pytest)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure_logging(*, json: bool | None = None, level: str = "INFO", stream: Any = None) -> None:
    """Set up structlog (and stdlib logging through it) once per process."""
    stream = stream or _CurrentStderr()
    use_json = (not stream.isatty()) if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_processor,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(processor=renderer, foreign_pre_chain=shared)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "uvicorn.access", "alembic", "dramatiq"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str | None = None) -> Any:
    """A structlog logger bound to ``name``."""
    return structlog.get_logger(name)

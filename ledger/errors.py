"""Errors of the ledger: the Postgres event store cannot be reached or used."""

from __future__ import annotations

from core.errors import H2IError, ServiceUnavailable


class LedgerError(H2IError):
    """Base of ledger errors."""

    default_hint = "check H2I_LEDGER_URL and that PostgreSQL is running"


class LedgerUnavailable(LedgerError, ServiceUnavailable):
    """The ledger's Postgres server cannot be reached."""

    transient = True


class LedgerPermissionDenied(LedgerError):
    """The ledger user lacks a privilege it needs (CREATE DATABASE, CREATE TABLE, ...)."""


class UnknownEventType(LedgerError):
    """A row names an event type this version of hesk2intercom does not know."""

    default_hint = "upgrade hesk2intercom to the version that wrote this ledger"

"""Errors of the reports package: one base, each with a hint saying what to do next."""

from __future__ import annotations

from core.errors import H2IError


class ReportsError(H2IError):
    """Base of every error raised while building or rendering a report."""


class ReportError(ReportsError):
    """The report does not add up: the ledger's projection is inconsistent."""

    default_hint = "rebuild the projection (it is derived state) and report the bug"

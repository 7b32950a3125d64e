"""Canned responses: Intercom macros are read-only, so they go to the inventory file."""

from __future__ import annotations

from hesk.records import CannedResponse
from mapping.common import disposition
from mapping.steps import Plan, UnitContext

CANNED_REASON = "Intercom macros are read-only: exported to the inventory file for import by hand"


def plan_canned_response(canned: CannedResponse, ctx: UnitContext | None = None) -> Plan:
    """Skipped with the reason; the inventory lists the text."""
    return Plan(dispositions=(disposition(canned, "skipped", CANNED_REASON),))

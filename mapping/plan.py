"""The planners: pure functions from Hesk records (+ resolved ids and the map) to a Plan.

Each lives in the module of its noun; this module gathers them for the engine.
"""

from __future__ import annotations

from mapping.attributes import plan_builtin_attributes, plan_custom_field
from mapping.canned import plan_canned_response
from mapping.categories import plan_category
from mapping.dependencies import dependencies, ticket_dependencies_of_map
from mapping.kb import plan_kb_article, plan_kb_category
from mapping.people import external_id, plan_anonymised_contact, plan_contact, plan_staff
from mapping.ticket_target import (
    is_tickets,
    plan_ticket_as_ticket,
    plan_ticket_field,
    plan_ticket_setup,
)
from mapping.tickets import history_record, plan_orphan, plan_ticket

__all__ = [
    "dependencies",
    "ticket_dependencies_of_map",
    "external_id",
    "history_record",
    "is_tickets",
    "plan_anonymised_contact",
    "plan_builtin_attributes",
    "plan_canned_response",
    "plan_category",
    "plan_contact",
    "plan_custom_field",
    "plan_kb_article",
    "plan_kb_category",
    "plan_orphan",
    "plan_staff",
    "plan_ticket",
    "plan_ticket_as_ticket",
    "plan_ticket_field",
    "plan_ticket_setup",
]

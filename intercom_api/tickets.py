"""Ticket operations: ticket types, their attributes, states, tickets.

Every write carries ``skip_notifications: true``: an import must never reach a customer.
Ticket states are read-only in the API (listed, never created).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from core.intercom_limits import MAX_PER_PAGE
from intercom_api.base import BaseClient, Json
from intercom_api.contacts import _seg


def type_attributes(ticket_type: Json) -> list[Json]:
    """A ticket type's attributes (``ticket_type_attributes`` as a list or a ``data`` list)."""
    block = ticket_type.get("ticket_type_attributes") or []
    if isinstance(block, dict):
        block = block.get("data") or block.get("ticket_type_attributes") or []
    return list(block)


class TicketsAPI(BaseClient):
    """Ticket types, their attributes and states, and tickets with their parts."""

    def list_ticket_states(self) -> Iterator[Json]:
        """Every ticket state of the workspace (states cannot be created by the API)."""
        yield from self.get("/ticket_states").get("data") or []

    def list_ticket_types(self) -> Iterator[Json]:
        """Every ticket type, with its attributes."""
        yield from self.get("/ticket_types").get("data") or []

    def get_ticket_type(self, ticket_type_id: str | int) -> Json:
        """One ticket type with its attributes."""
        return self.get(f"/ticket_types/{_seg(ticket_type_id)}")

    def create_ticket_type(self, name: str, category: str = "Customer", **fields: Any) -> Json:
        """Create a ticket type (Intercom adds its default title and description)."""
        return self.post("/ticket_types", {"name": name, "category": category, **fields})

    def create_ticket_type_attribute(
        self,
        ticket_type_id: str | int,
        name: str,
        data_type: str,
        description: str,
        **fields: Any,
    ) -> Json:
        """Add an attribute to a ticket type (a list takes ``list_items="a,b"``)."""
        payload = {"name": name, "data_type": data_type, "description": description, **fields}
        return self.post(f"/ticket_types/{_seg(ticket_type_id)}/attributes", payload)

    def create_ticket(self, payload: Json) -> Json:
        """Create a ticket (``skip_notifications`` is always set)."""
        return self.post("/tickets", {**payload, "skip_notifications": True})

    def get_ticket(self, ticket_id: str) -> Json:
        """The ticket with its parts."""
        return self.get(f"/tickets/{_seg(ticket_id)}")

    def update_ticket(self, ticket_id: str, payload: Json) -> Json:
        """Change state, open, assignee or attributes, notifying nobody (idempotent)."""
        return self.put(f"/tickets/{_seg(ticket_id)}", {**payload, "skip_notifications": True})

    def reply_ticket(self, ticket_id: str, payload: Json) -> Json:
        """Add a contact comment or an admin comment/note, notifying nobody."""
        body = {**payload, "skip_notifications": True}
        return self.post(f"/tickets/{_seg(ticket_id)}/reply", body)

    def delete_ticket(self, ticket_id: str) -> Json:
        """Delete the ticket for good."""
        return self.delete(f"/tickets/{_seg(ticket_id)}")

    def search_tickets(self, query: Json, *, per_page: int = MAX_PER_PAGE) -> Iterator[Json]:
        """Every ticket matching a search filter."""
        return self.search("/tickets/search", query, "tickets", per_page=per_page)

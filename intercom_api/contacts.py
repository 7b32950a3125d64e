"""Contact operations: create, update, delete, read, find, search."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from core.intercom_limits import MAX_PER_PAGE
from intercom_api.base import BaseClient, Json
from intercom_api.errors import NotFound


def _seg(value: str | int) -> str:
    """One path segment, percent-encoded (external ids may hold ``:`` or ``/``)."""
    return quote(str(value), safe="")


class ContactsAPI(BaseClient):
    """Contacts: Hesk customers become Intercom users or leads."""

    def create_contact(self, **fields: Any) -> Json:
        """Create a contact; a duplicate raises ``Conflict`` carrying the existing id."""
        return self.post("/contacts", fields)

    def update_contact(self, contact_id: str, **fields: Any) -> Json:
        """Update a contact's fields (idempotent)."""
        return self.put(f"/contacts/{_seg(contact_id)}", fields)

    def delete_contact(self, contact_id: str) -> Json:
        """Delete a contact for good."""
        return self.delete(f"/contacts/{_seg(contact_id)}")

    def get_contact(self, contact_id: str) -> Json:
        """The contact with this Intercom id."""
        return self.get(f"/contacts/{_seg(contact_id)}")

    def find_contact_by_external_id(self, external_id: str) -> Json | None:
        """The user whose ``external_id`` is given, or None (users only, not leads)."""
        try:
            return self.get(f"/contacts/find_by_external_id/{_seg(external_id)}")
        except NotFound:
            return None

    def search_contacts(self, query: Json, *, per_page: int = MAX_PER_PAGE) -> Iterator[Json]:
        """Every contact matching a search filter (lags minutes behind creation)."""
        return self.search("/contacts/search", query, "data", per_page=per_page)

    def list_contacts(self, *, per_page: int = MAX_PER_PAGE) -> Iterator[Json]:
        """Every contact of the workspace, page by page."""
        return self.paginate("/contacts", "data", per_page=per_page)

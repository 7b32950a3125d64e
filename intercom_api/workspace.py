"""Workspace set-up operations: admins and teams (read-only), attributes, tags."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

from intercom_api.base import BaseClient, Json
from intercom_api.contacts import _seg

DataModel = Literal["contact", "company"]


class WorkspaceAPI(BaseClient):
    """Who is in the workspace, and the attributes and tags the migration creates."""

    def me(self) -> Json:
        """The admin the token belongs to (with its workspace)."""
        return self.get("/me")

    def list_admins(self) -> Iterator[Json]:
        """Every teammate (created by hand in Intercom; the API cannot create them)."""
        yield from self.get("/admins").get("admins") or []

    def list_teams(self) -> Iterator[Json]:
        """Every team (read-only in the API)."""
        yield from self.get("/teams").get("teams") or []

    # -- conversation attributes (2.16) ----------------------------------------------------

    def list_conversation_attributes(self, *, include_archived: bool = False) -> Iterator[Json]:
        """Every conversation attribute."""
        params = {"include_archived": "true"} if include_archived else None
        yield from self.get("/conversations/attributes", params).get("data") or []

    def create_conversation_attribute(
        self,
        name: str,
        data_type: str,
        *,
        description: str | None = None,
        options: Sequence[str] | None = None,
        **fields: Any,
    ) -> Json:
        """Create a conversation attribute; a ``list`` takes ``options`` as labels."""
        payload: Json = {"name": name, "data_type": data_type, **fields}
        if description is not None:
            payload["description"] = description
        if options is not None:
            payload["options"] = [{"label": label} for label in options]
        return self.post("/conversations/attributes", payload)

    def add_conversation_attribute_option(self, attribute_id: str | int, label: str) -> Json:
        """Add one option to a list attribute; returns the whole attribute."""
        return self.post(
            f"/conversations/attributes/{_seg(attribute_id)}/options", {"label": label}
        )

    def delete_conversation_attribute(self, attribute_id: str | int) -> Json:
        """Archive a conversation attribute (Intercom never deletes them)."""
        return self.delete(f"/conversations/attributes/{_seg(attribute_id)}")

    # -- contact / company data attributes -------------------------------------------------

    def list_data_attributes(
        self, model: DataModel, *, include_archived: bool = False
    ) -> Iterator[Json]:
        """Every data attribute of contacts or companies."""
        params: Json = {"model": model}
        if include_archived:
            params["include_archived"] = "true"
        yield from self.get("/data_attributes", params).get("data") or []

    def create_data_attribute(
        self,
        name: str,
        model: DataModel,
        data_type: str,
        *,
        description: str | None = None,
        options: Sequence[str] | None = None,
        **fields: Any,
    ) -> Json:
        """Create a data attribute; a list is ``data_type="options"`` with ``options``."""
        payload: Json = {"name": name, "model": model, "data_type": data_type, **fields}
        if description is not None:
            payload["description"] = description
        if options is not None:
            payload["options"] = [{"value": value} for value in options]
        return self.post("/data_attributes", payload)

    # -- tags ------------------------------------------------------------------------------

    def list_tags(self) -> Iterator[Json]:
        """Every tag of the workspace."""
        yield from self.get("/tags").get("data") or []

    def create_tag(self, name: str) -> Json:
        """The tag with this name, created if missing (Intercom matches names case-blind)."""
        return self.post("/tags", {"name": name}, idempotent=True)

    def delete_tag(self, tag_id: str | int) -> Json:
        """Delete a tag (fails with ``Invalid`` while segments use it)."""
        return self.delete(f"/tags/{_seg(tag_id)}")

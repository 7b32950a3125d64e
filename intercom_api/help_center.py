"""Help Center operations: collections and articles for the Hesk KB."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from intercom_api.base import BaseClient, Json
from intercom_api.contacts import _seg

ArticleState = Literal["published", "draft"]


class HelpCenterAPI(BaseClient):
    """Help centers, collections and articles."""

    def list_help_centers(self) -> Iterator[Json]:
        """Every help center of the workspace."""
        return self.paginate("/help_center/help_centers", "data")

    def list_collections(self) -> Iterator[Json]:
        """Every collection, page by page."""
        return self.paginate("/help_center/collections", "data")

    def create_collection(
        self,
        name: str,
        description: str | None = None,
        parent_id: str | int | None = None,
        **fields: Any,
    ) -> Json:
        """Create a collection; ``parent_id`` nests it (None = top level)."""
        payload: Json = {"name": name, **fields}
        if description is not None:
            payload["description"] = description
        if parent_id is not None:
            payload["parent_id"] = str(parent_id)
        return self.post("/help_center/collections", payload)

    def delete_collection(self, collection_id: str | int) -> Json:
        """Delete a collection."""
        return self.delete(f"/help_center/collections/{_seg(collection_id)}")

    def list_articles(self) -> Iterator[Json]:
        """Every article, most recently updated first, page by page."""
        return self.paginate("/articles", "data")

    def create_article(
        self,
        title: str,
        body: str,
        author_id: str | int,
        state: ArticleState,
        parent_id: str | int | None,
        parent_type: str = "collection",
        **fields: Any,
    ) -> Json:
        """Create an article (HTML ``body``) by an existing admin, in a collection."""
        payload: Json = {
            "title": title,
            "body": body,
            "author_id": int(author_id),
            "state": state,
            **fields,
        }
        if parent_id is not None:
            payload["parent_id"] = int(parent_id)
            payload["parent_type"] = parent_type
        return self.post("/articles", payload)

    def update_article(self, article_id: str | int, **fields: Any) -> Json:
        """Update an article's fields (edits to a published article go live at once)."""
        return self.put(f"/articles/{_seg(article_id)}", fields)

    def delete_article(self, article_id: str | int) -> Json:
        """Delete an article."""
        return self.delete(f"/articles/{_seg(article_id)}")

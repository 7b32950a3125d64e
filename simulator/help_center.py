"""Help center: help centers (read-only), collections (nested by parent_id) and articles.

2.16 article responses carry ``parent_ids`` (no ``parent_id``/``parent_type``); requests
still send ``parent_id`` + ``parent_type``.
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError, invalid, missing, not_found
from .pagination import page, per_page_value
from .routing import Request, Route
from .state import WORKSPACE_ID, Obj, Workspace, lookup_id, now


def list_help_centers(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /help_center/help_centers``."""
    return 200, {"type": "list", "data": list(ws.help_centers.values())}


def _listing(table: dict[str, Obj], req: Request) -> tuple[int, Any]:
    per_page = per_page_value(req.query.get("per_page"), 50)
    items, pages = page(iter(table.values()), len(table), per_page, req.query.get("starting_after"))
    return 200, {"type": "list", "data": items, "total_count": len(table), "pages": pages}


def _require_collection(ws: Workspace, raw: object) -> Obj:
    collection = lookup_id(ws.collections, raw)
    if collection is None:
        raise not_found("Collection not found")
    return collection


def _check_parent(ws: Workspace, collection_id: str | None, parent: object) -> str | None:
    if parent is None or parent == "":
        return None
    parent_obj = _require_collection(ws, parent)
    node: Obj | None = parent_obj
    while node is not None:  # no cycles: the parent chain must not reach this collection
        if node["id"] == collection_id:
            raise invalid("A collection cannot be nested inside itself", "parent_id")
        node = ws.collections.get(node["parent_id"]) if node["parent_id"] else None
    return parent_obj["id"]


def list_collections(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /help_center/collections``."""
    return _listing(ws.collections, req)


def create_collection(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /help_center/collections`` (no name -> 400 "Name is a required parameter.")."""
    body = req.body or {}
    if not body.get("name"):
        raise ApiError(400, "parameter_not_found", "Name is a required parameter.", "name")
    help_center_id = body.get("help_center_id") or next(iter(ws.help_centers))
    if str(help_center_id) not in ws.help_centers:
        raise not_found("Help Center not found")
    parent_id = _check_parent(ws, None, body.get("parent_id"))
    stamp = now()
    collection_id = ws.number()
    collection: Obj = {
        "type": "collection",
        "id": collection_id,
        "workspace_id": WORKSPACE_ID,
        "name": body["name"],
        "description": body.get("description"),
        "created_at": stamp,
        "updated_at": stamp,
        "url": f"https://intercom.help/simulator/en/collections/{collection_id}",
        "icon": "book-bookmark",
        "order": len(ws.collections) + 1,
        "default_locale": "en",
        "translated_content": body.get("translated_content"),
        "parent_id": parent_id,
        "help_center_id": int(help_center_id),
    }
    ws.collections[collection_id] = collection
    return 200, collection


def get_collection(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /help_center/collections/{id}``."""
    return 200, _require_collection(ws, req.params["collection_id"])


def update_collection(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``PUT /help_center/collections/{id}``."""
    collection = _require_collection(ws, req.params["collection_id"])
    body = req.body or {}
    if "parent_id" in body:
        collection["parent_id"] = _check_parent(ws, collection["id"], body["parent_id"])
    for key in ("name", "description", "translated_content"):
        if key in body:
            collection[key] = body[key]
    collection["updated_at"] = now()
    return 200, collection


def delete_collection(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``DELETE /help_center/collections/{id}``; children move up, articles lose the link."""
    collection = _require_collection(ws, req.params["collection_id"])
    del ws.collections[collection["id"]]
    for child in ws.collections.values():
        if child["parent_id"] == collection["id"]:
            child["parent_id"] = collection["parent_id"]
    for article in ws.articles.values():
        if int(collection["id"]) in article["parent_ids"]:
            article["parent_ids"] = [p for p in article["parent_ids"] if p != int(collection["id"])]
    return 200, {"id": collection["id"], "object": "collection", "deleted": True}


def _require_article(ws: Workspace, raw: object) -> Obj:
    article = lookup_id(ws.articles, raw)
    if article is None:
        raise not_found("Article not found")
    return article


def _article_fields(ws: Workspace, article: Obj, body: dict[str, Any]) -> None:
    if body.get("body") is not None and body.get("body_markdown") is not None:
        raise invalid("body and body_markdown are mutually exclusive", "body")
    if "author_id" in body:
        if lookup_id(ws.admins, body["author_id"]) is None:
            raise invalid(
                "author_id must be a teammate on the help center's workspace", "author_id"
            )
        article["author_id"] = int(body["author_id"])
    if "state" in body:
        if body["state"] not in ("published", "draft"):
            raise invalid("state must be published or draft", "state")
        article["state"] = body["state"]
    for key in ("title", "description", "body", "body_markdown", "translated_content"):
        if key in body:
            article[key] = body[key]
    if "parent_id" in body:
        parent = body["parent_id"]
        if parent is None:
            article["parent_ids"] = []
        else:
            if body.get("parent_type", "collection") != "collection":
                raise invalid("the simulator only nests articles in collections", "parent_type")
            article["parent_ids"] = [int(_require_collection(ws, parent)["id"])]


def list_articles(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /articles``."""
    return _listing(ws.articles, req)


def create_article(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /articles`` (title and author_id required)."""
    body = req.body or {}
    if not body.get("title"):
        raise missing("title")
    if body.get("author_id") is None:
        raise ApiError(
            400,
            "parameter_not_found",
            "author_id must be in the main body or default locale translated_content object",
            "author_id",
        )
    stamp = now()
    article_id = ws.number()
    article: Obj = {
        "type": "article",
        "id": article_id,
        "workspace_id": WORKSPACE_ID,
        "title": "",
        "description": None,
        "body": None,
        "author_id": None,
        "state": "draft",
        "created_at": stamp,
        "updated_at": stamp,
        "url": None,
        "parent_ids": [],
        "default_locale": "en",
        "translated_content": None,
    }
    _article_fields(ws, article, body)
    article["url"] = f"https://intercom.help/simulator/en/articles/{article_id}"
    ws.articles[article_id] = article
    return 200, article


def get_article(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /articles/{id}``."""
    return 200, _require_article(ws, req.params["article_id"])


def update_article(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``PUT /articles/{id}`` (omitting state leaves it unchanged)."""
    article = _require_article(ws, req.params["article_id"])
    _article_fields(ws, article, req.body or {})
    article["updated_at"] = now()
    return 200, article


def delete_article(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``DELETE /articles/{id}``."""
    article = _require_article(ws, req.params["article_id"])
    del ws.articles[article["id"]]
    return 200, {"id": article["id"], "object": "article", "deleted": True}


def search_articles(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /articles/search?phrase=&state=``: case-insensitive match in title or body."""
    phrase = req.query.get("phrase", "").lower()
    state = req.query.get("state")
    found = [
        a
        for a in ws.articles.values()
        if (not state or state == "all" or a["state"] == state)
        and (phrase in (a.get("title") or "").lower() or phrase in (a.get("body") or "").lower())
    ]
    return 200, {
        "type": "list",
        "total_count": len(found),
        "data": {"articles": found, "highlights": []},
        "pages": {"type": "pages", "page": 1, "per_page": len(found) or 1, "total_pages": 1},
    }


ROUTES = [
    Route("GET", "/help_center/help_centers", list_help_centers, False),
    Route("GET", "/help_center/collections", list_collections, False),
    Route("POST", "/help_center/collections", create_collection, True),
    Route("GET", "/help_center/collections/{collection_id}", get_collection, False),
    Route("PUT", "/help_center/collections/{collection_id}", update_collection, True),
    Route("DELETE", "/help_center/collections/{collection_id}", delete_collection, True),
    Route("GET", "/articles", list_articles, False),
    Route("POST", "/articles", create_article, True),
    Route("GET", "/articles/search", search_articles, False),
    Route("GET", "/articles/{article_id}", get_article, False),
    Route("PUT", "/articles/{article_id}", update_article, True),
    Route("DELETE", "/articles/{article_id}", delete_article, True),
]

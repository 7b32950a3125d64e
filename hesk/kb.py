"""Knowledge base (categories, articles), canned responses and ticket templates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from hesk.history import parse_history
from hesk.reader_base import ReaderBase
from hesk.records import CannedResponse, KbArticle, KbCategory, SavedText, TicketTemplate
from hesk.text import decode_entities, html_to_plain
from hesk.tickets import attachment_refs, timestamp

ARTICLE_STATES = {"0": "published", "1": "private", "2": "draft"}


#: Hesk's root KB category (made by the installer): where a looping category is moved.
KB_ROOT_ID = 1


def kb_category_loops(parents: dict[int, int]) -> set[int]:
    """Ids of KB categories on a parent loop (their own parent, or A -> B -> A): following
    their parents never reaches the root, so no collection could ever be made under it."""
    on_loop: set[int] = set()
    for start in parents:
        seen: list[int] = []
        node: int | None = start
        while node in parents and node not in seen and node not in on_loop:
            seen.append(node)
            node = parents[node] or None
        if node in seen:
            on_loop.update(seen[seen.index(node) :])
    return on_loop


def iter_kb_categories(r: ReaderBase, since_id: int | None = None) -> Iterator[KbCategory]:
    """Every KB category by id (``parent_id`` None for the root).

    A category on a parent loop (a damaged table: Hesk itself never makes one) is read
    as a child of the root, with a ``kb_category_loop`` finding.
    """
    if not r.db.has_table("kb_categories"):
        return
    parents = {
        int(row["id"]): int(row["parent"] or 0)
        for row in r.db.query(
            f"SELECT id, parent FROM {r.db.t('kb_categories')} WHERE id <> %s", (KB_ROOT_ID,)
        )
    }
    loops = kb_category_loops(parents)
    for rows in r.db.keyset("kb_categories", "*", after=since_id, batch=r.batch_size):
        for row in rows:
            cid = int(row["id"])
            r.note_legacy(row, "kb_category", cid)
            parent = int(row["parent"]) or None
            if cid in loops:
                r.add_finding(
                    "kb_category_loop",
                    "kb_category",
                    cid,
                    f"parent {parent} leads back to this category: read as a top-level category",
                )
                parent = KB_ROOT_ID
            yield KbCategory(
                source_id=str(cid),
                id=cid,
                name=decode_entities(row["name"] or ""),
                parent_id=parent,
                order=int(row.get("cat_order") or 0),
                private=str(row.get("type")) == "1",
            )


def iter_kb_articles(r: ReaderBase, since_id: int | None = None) -> Iterator[KbArticle]:
    """Every KB article by id, with state, author and attachment references."""
    if not r.db.has_table("kb_articles"):
        return
    for rows in r.db.keyset("kb_articles", "*", after=since_id, batch=r.batch_size):
        for row in rows:
            aid = int(row["id"])
            r.note_legacy(row, "kb_article", aid)
            author = int(row.get("author") or 0) or None
            missing = author is not None and author not in r.staff
            if missing:
                r.add_finding(
                    "deleted_staff", "kb_article", aid, f"author {author} is not a staff member"
                )
            content = row.get("content") or ""
            history_raw = row.get("history") or ""
            yield KbArticle(
                source_id=str(aid),
                id=aid,
                category_id=int(row["catid"]),
                author_id=author,
                author_missing=missing,
                created_at=timestamp(r, row, "dt", "kb_article"),
                subject=decode_entities(row.get("subject") or ""),
                content_html=content,
                content_text=html_to_plain(content),
                is_html=str(row.get("html")) == "1",
                keywords=decode_entities(row.get("keywords") or ""),
                state=ARTICLE_STATES.get(str(row.get("type")), "draft"),
                sticky=str(row.get("sticky")) == "1",
                order=int(row.get("art_order") or 0),
                views=int(row.get("views") or 0),
                votes=int(row.get("votes") or 0),
                rating=float(row.get("rating") or 0.0),
                attachments=attachment_refs(r, row.get("attachments"), "kb_article", aid),
                history_raw=history_raw,
                history=parse_history(
                    history_raw,
                    parent_object="kb_article",
                    parent_id=aid,
                    timezone=r.timezone,
                    date_format=r.date_format,
                ),
            )


S = TypeVar("S", bound=SavedText)

#: The table and order column of each kind of saved text.
SAVED_TEXT_TABLES: dict[type[SavedText], tuple[str, str]] = {
    CannedResponse: ("std_replies", "reply_order"),
    TicketTemplate: ("ticket_templates", "tpl_order"),
}


def iter_saved_texts(r: ReaderBase, kind: type[S], since_id: int | None = None) -> Iterator[S]:
    """Every canned response or ticket template (``kind``) by id; none without the table."""
    table, order = SAVED_TEXT_TABLES[kind]
    if not r.db.has_table(table):
        return
    for rows in r.db.keyset(table, "*", after=since_id, batch=r.batch_size):
        for row in rows:
            html = row.get("message_html") or row.get("message") or ""
            yield kind(
                source_id=str(row["id"]),
                id=int(row["id"]),
                title=decode_entities(row.get("title") or ""),
                message_html=html,
                message_text=html_to_plain(html),
                order=int(row.get(order) or 0),
            )

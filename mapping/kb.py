"""Knowledge base: categories -> Help Center collections, articles -> articles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hesk.records import Attachment, KbArticle, KbCategory
from mapping.common import completion, dep_key, disposition, identity, option
from mapping.steps import UNIT_ID, Completion, Disposition, LookupKind, Plan, Step, UnitContext
from mapping.text import escape, sanitize_html

#: Hesk's root knowledgebase category (created at install, cannot be deleted): it is the
#: Help Center itself, so its subcategories become top-level collections.
KB_ROOT_ID = 1


def is_root(cat: KbCategory) -> bool:
    """Whether a KB category is Hesk's root (no parent)."""
    return cat.parent_id is None or cat.id == KB_ROOT_ID


def _as_int(value: str) -> int | str:
    return int(value) if str(value).isdigit() else value


def plan_kb_category(cat: KbCategory, ctx: UnitContext) -> Plan:
    """Create the collection of a KB category under its parent's collection."""
    if is_root(cat):
        return Plan(
            dispositions=(
                disposition(
                    cat,
                    "skipped",
                    "Hesk's root knowledgebase category is the Help Center itself: its "
                    "subcategories become top-level collections",
                ),
            )
        )
    body: dict[str, Any] = {"name": cat.name.strip() or f"Hesk KB category {cat.id}"}
    if cat.parent_id not in (None, KB_ROOT_ID):
        parent = ctx.ids.get(dep_key("kb_category", cat.parent_id))
        if not parent:
            return Plan(
                dispositions=(
                    disposition(
                        cat,
                        "quarantined",
                        f"parent KB category {cat.parent_id} has no collection (see its reason)",
                    ),
                )
            )
        body["parent_id"] = str(parent)
    reason = "private KB category: the collection is public in Intercom" if cat.private else ""
    step = Step(
        op="create",
        method="POST",
        path="/help_center/collections",
        body=body,
        identity_hash=identity({"kb_category": cat.id}),
        lookup={"name": body["name"], "parent_id": body.get("parent_id")},
        lookup_kind=LookupKind.COLLECTION,
        creates="collection",
        completes=(completion(cat, reason),),
    )
    return Plan(steps=(step,))


def _attachment_links(
    article: KbArticle, attachments: Sequence[Attachment], ctx: UnitContext
) -> tuple[str, list[Completion], list[Disposition]]:
    base = str(option(ctx, "hesk_url") or "").rstrip("/")
    by_id = {a.att_id: a for a in attachments}
    done: list[Completion] = []
    skipped: list[Disposition] = []
    items: list[str] = []
    for ref in article.attachments:
        record = by_id.get(ref.att_id)
        if base:
            url = escape(f"{base}/download_attachment.php?kb_att={ref.att_id}").replace(
                '"', "&quot;"
            )
            items.append(f'<li><a href="{url}">{escape(ref.real_name)}</a></li>')
            if record is not None:
                done.append(completion(record, "linked from the article body (Hesk URL)"))
        else:
            items.append(f"<li>{escape(ref.real_name)}</li>")
            if record is not None:
                skipped.append(
                    disposition(
                        record,
                        "skipped",
                        "articles take no files: set options.hesk_url to link it from the article",
                    )
                )
    if not items:
        return "", done, skipped
    return "<p><strong>Attachments</strong></p><ul>" + "".join(items) + "</ul>", done, skipped


def plan_kb_article(
    article: KbArticle, ctx: UnitContext, attachments: Sequence[Attachment] = ()
) -> Plan:
    """Create the article (sanitised HTML, attachments as links) in its collection."""
    notes: list[str] = []
    admin = ctx.admins.get(str(article.author_id)) if article.author_id is not None else None
    if not admin:
        admin = ctx.fallback_admin_id
        notes.append("author has no Intercom admin: authored by the fallback admin")
    if not admin:
        return Plan(
            dispositions=(
                disposition(
                    article,
                    "quarantined",
                    "no Intercom admin to author it: set fallback_admin_email",
                ),
            )
        )
    links, done, skipped = _attachment_links(article, attachments, ctx)
    body: dict[str, Any] = {
        "title": article.subject.strip() or f"Hesk article {article.id}",
        "body": sanitize_html(article.content_html) + links,
        "author_id": _as_int(str(admin)),
        "state": "published" if article.state == "published" else "draft",
    }
    if article.state == "private":
        notes.append("private article imported as draft")
    if article.category_id != KB_ROOT_ID:
        parent = ctx.ids.get(dep_key("kb_category", article.category_id))
        if not parent:
            return Plan(
                dispositions=(
                    disposition(
                        article,
                        "quarantined",
                        f"KB category {article.category_id} has no collection (see its reason)",
                    ),
                )
            )
        body["parent_id"] = _as_int(str(parent))
        body["parent_type"] = "collection"
    step = Step(
        op="create",
        method="POST",
        path="/articles",
        body=body,
        identity_hash=identity({"kb_article": article.id}),
        lookup={"title": body["title"], "parent_id": body.get("parent_id")},
        lookup_kind=LookupKind.ARTICLE,
        creates="article",
    )
    # The article's current content: a changed article (a delta) is updated in place.
    update = Step(
        op="update",
        method="PUT",
        path=f"/articles/{UNIT_ID}",
        body=body,
        identity_hash=identity(body),
        lookup={},
        lookup_kind=LookupKind.IDEMPOTENT,
        completes=(completion(article, "; ".join(notes)), *done),
    )
    return Plan(steps=(step, update), dispositions=tuple(skipped))

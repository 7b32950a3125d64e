"""Redirects from Hesk's public links to Intercom: which link goes where (pure).

:class:`Redirect` entries are built from plain values (reports/redirect_files.py writes
them as nginx, Apache or CSV), grouped by what the Hesk link carries:

* ``article``  — ``knowledgebase.php?article=N`` and the staff view
  ``admin/knowledgebase_private.php?article=N``, to the published article;
* ``category`` — ``knowledgebase.php?category=N``, to the collection (1, the root, to the
  help center's home);
* ``track``    — ``admin/admin_ticket.php?track=T`` (staff), to the inbox page of the
  conversation or ticket, a merged ticket's old tracking ids included;
* ``page``     — ``knowledgebase.php`` (the knowledgebase home) and every
  ``ticket.php?track=…`` (customers) to one page each.

An entry without a target (an unpublished article, a quarantined ticket) is written as a
comment saying why, never as a rule. Other query arguments Hesk adds (``&rated=1``,
``&Refresh=…``, ``&e=…``) do not stop a match, and are dropped by the redirect.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mapping.urls import (
    CUSTOMER_TICKET_PAGE,
    KB_PAGE,
    KB_ROOT_CATEGORY,
    STAFF_KB_PAGE,
    STAFF_TICKET_PAGE,
    safe_target,
)

GROUPS = ("article", "category", "track", "page")
_ARG = {"article": "article", "category": "category", "track": "track"}


@dataclass(frozen=True)
class Redirect:
    """One Hesk link and where it now goes (``target`` empty: not redirected, see ``note``)."""

    group: str
    kind: str  # article | staff_article | category | staff_ticket | kb_home | customer_ticket
    page: str  # the Hesk page, relative to Hesk's root (``admin/admin_ticket.php``)
    value: str  # the query argument's value ("" for a page)
    target: str
    note: str = ""

    @property
    def arg(self) -> str:
        """The query argument the link carries (``article``, ``category``, ``track``, or "")."""
        return _ARG.get(self.group, "")


# --------------------------------------------------------------------------- building


def article_redirects(
    article_id: str, target: str | None, note: str, *, admin_dir: str = "admin"
) -> list[Redirect]:
    """The public and the staff link of one KB article."""
    to = safe_target(target) if target else ""
    return [
        Redirect("article", "article", KB_PAGE, article_id, to, note),
        Redirect("article", "staff_article", f"{admin_dir}/{STAFF_KB_PAGE}", article_id, to, note),
    ]


def category_redirect(category_id: str, target: str | None, note: str) -> Redirect:
    """The link of one KB category."""
    return Redirect(
        "category", "category", KB_PAGE, category_id, safe_target(target) if target else "", note
    )


def ticket_redirects(
    trackids: Iterable[str], target: str | None, note: str, *, admin_dir: str = "admin"
) -> list[Redirect]:
    """The staff links of one ticket under each of its tracking ids (merged ones too)."""
    to = safe_target(target) if target else ""
    page = f"{admin_dir}/{STAFF_TICKET_PAGE}"
    return [Redirect("track", "staff_ticket", page, t, to, note) for t in trackids]


def page_redirects(kb_home: str | None, customer_page: str | None) -> list[Redirect]:
    """The knowledgebase's home page and every customer ticket link."""
    return [
        Redirect(
            "page",
            "kb_home",
            KB_PAGE,
            "",
            safe_target(kb_home) if kb_home else "",
            "" if kb_home else "no help center URL is known yet",
        ),
        Redirect(
            "page",
            "customer_ticket",
            CUSTOMER_TICKET_PAGE,
            "",
            safe_target(customer_page) if customer_page else "",
            ""
            if customer_page
            else "set options.customer_ticket_url in the map (no help center URL is known)",
        ),
    ]


def root_category(kb_home: str | None) -> Redirect:
    """Hesk's root KB category (the knowledgebase home): to the help center's home."""
    return category_redirect(
        KB_ROOT_CATEGORY, kb_home, "" if kb_home else "no help center URL is known yet"
    )

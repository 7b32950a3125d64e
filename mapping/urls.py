"""Where things live, as URLs: Intercom's inbox and help center, and Hesk's public pages.

Pure: every function builds or checks a string. Intercom's API answers no inbox link, so
a conversation's (or ticket's) link is built from the workspace's app id (``GET /me``,
``app.id_code``) and the region's app host; an article's and a collection's public URL is
the ``url`` Intercom answered for it, or derived from another one of the same help center
(Intercom's help center resolves ``…/articles/<id>`` without the title slug).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import quote, urlsplit

#: The Intercom web app per region (the API hosts are api.*, see core.settings).
APP_HOSTS = {
    "us": "https://app.intercom.com",
    "eu": "https://app.eu.intercom.com",
    "au": "https://app.au.intercom.com",
}
#: Intercom objects that open in the inbox.
INBOX_TYPES = ("conversation", "ticket", "conversation_part")
#: Characters never left raw in a URL written into a web-server configuration.
_UNSAFE = re.compile(r"[\s\"'\\$;{}|`<>^]")
_HELP_CENTER_KINDS = ("articles", "collections")


def app_host(region: str) -> str:
    """The Intercom web app of a region (``us``, ``eu``, ``au``; case-blind)."""
    try:
        return APP_HOSTS[region.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown Intercom region {region!r}: use us, eu or au") from None


def inbox_url(app_base: str, app_id: str, conversation_id: str) -> str:
    """The inbox page of a conversation or ticket in the Intercom web app."""
    return (
        f"{app_base.rstrip('/')}/a/inbox/{quote(app_id, safe='')}/inbox/conversation/"
        f"{quote(conversation_id, safe='')}"
    )


def help_center_base(url: str | None) -> str | None:
    """The help center (with its locale) an article's or collection's URL belongs to.

    ``https://intercom.help/acme/en/articles/12-title`` -> ``https://intercom.help/acme/en``.
    """
    if not url:
        return None
    for kind in _HELP_CENTER_KINDS:
        head, sep, _tail = url.partition(f"/{kind}/")
        if sep and head.startswith(("http://", "https://")):
            return head
    return None


def derived_public_url(base: str, intercom_type: str, intercom_id: str) -> str:
    """The public URL of an article or collection in the help center at ``base``."""
    kind = "articles" if intercom_type == "article" else "collections"
    return f"{base.rstrip('/')}/{kind}/{quote(intercom_id, safe='')}"


def safe_target(url: str) -> str:
    """``url`` with every character a web-server configuration could misread encoded."""
    return _UNSAFE.sub(lambda m: "%" + "".join(f"{b:02X}" for b in m.group().encode()), url)


def check_web_url(url: str, what: str) -> str:
    """``url`` without a trailing slash, if it is an absolute http(s) URL with no query or
    fragment; ValueError (one line, saying what to fix) otherwise."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} {url!r} is not a URL: give it as https://host/path")
    if parts.query or parts.fragment:
        raise ValueError(f"{what} {url!r} has a query or fragment: give the page's base URL")
    if _UNSAFE.search(parts.path) or "%" in parts.path:
        raise ValueError(f"{what} {url!r} has characters a redirect rule cannot carry")
    return text.rstrip("/")


def hesk_path_prefix(hesk_url: str) -> str:
    """The URL path Hesk is installed under, with a trailing slash (``/`` or ``/help/``)."""
    path = urlsplit(hesk_url).path.strip("/")
    return f"/{path}/" if path else "/"


#: Hesk's public pages (Hesk 3.x has no URL rewriting of its own: these are its links).
KB_PAGE = "knowledgebase.php"
CUSTOMER_TICKET_PAGE = "ticket.php"
STAFF_TICKET_PAGE = "admin_ticket.php"
STAFF_KB_PAGE = "knowledgebase_private.php"
#: Hesk's root knowledgebase category: the knowledgebase's home page.
KB_ROOT_CATEGORY = "1"
_TRACKID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def is_trackid(value: str) -> bool:
    """Whether a tracking id can be written into a redirect rule as it is."""
    return bool(_TRACKID.match(value))


def hesk_link(hesk_url: str, page: str, arg: str = "", value: str = "") -> str:
    """A Hesk link as people have it: ``https://help.example.com/knowledgebase.php?article=7``."""
    query = f"?{arg}={quote(value, safe='')}" if arg else ""
    return f"{hesk_url.rstrip('/')}/{page}{query}"


@dataclass(frozen=True)
class Links:
    """How to link an Intercom object: the web app of the workspace and its help center."""

    app_base: str | None = None
    app_id: str | None = None
    help_center: str | None = None

    @cached_property
    def _inbox_prefix(self) -> str:
        return inbox_url(self.app_base or "", self.app_id or "", "")

    def inbox(self, conversation_id: str) -> str | None:
        """A conversation's or ticket's inbox page (None without the app id)."""
        if not (self.app_base and self.app_id and conversation_id):
            return None
        if conversation_id.isalnum():  # Intercom's ids: nothing to encode (the usual case)
            return self._inbox_prefix + conversation_id
        return inbox_url(self.app_base, self.app_id, conversation_id)

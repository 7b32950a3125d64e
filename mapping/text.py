"""Hesk HTML as Intercom text: plain text for contact parts, sanitised HTML for admin parts.

Hesk stores every message as HTML (plain messages are escaped text + auto-links +
``<br />``, docs/hesk-source.md). Two targets:

* :func:`to_plain` — conversation create and contact replies (Intercom takes no HTML
  there): scripts and styles dropped with their content, links become their ``href``
  (the link text of Hesk's auto-links may be shortened; a descriptive text is kept in
  front of the address), ``<br />`` and block ends become newlines, entities are decoded
  exactly once (``&amp;lt;`` -> ``&lt;``).
* :func:`sanitize_html` — admin comments, notes and KB article bodies: nh3 with a small
  allow-list of formatting tags and links; no script/style content, no event handlers,
  no ``javascript:`` or other non-web URL schemes. Entities stay entities (it is HTML).
"""

from __future__ import annotations

import html
import re

import nh3

from hesk.text import decode_entities, html_to_plain

_DROP = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_LINK = re.compile(
    r"""<a\s[^>]*?href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>(.*?)</a\s*>""",
    re.I | re.S,
)
_TAG = re.compile(r"<[^>]*>")
_WS = re.compile(r"\s+")
_URLISH = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|www\.)|@|\.\.\.$|…$", re.I)
_SAFE_SCHEMES = ("http:", "https:", "mailto:", "ftp:")

#: Tags kept in sanitised HTML (formatting, lists, quotes, code, tables, links, images).
ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "s", "strike", "del", "ins", "sub", "sup",
        "p", "br", "hr", "div", "span", "blockquote", "pre", "code", "kbd", "samp",
        "ul", "ol", "li", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
        "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "img",
    }
)  # fmt: skip
#: Attributes kept per tag; no ``style``/``class``/``on*`` anywhere.
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
}
#: URL schemes kept in ``href``/``src``; anything else (``javascript:``, ``data:``) is dropped.
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})


def _link_to_text(match: re.Match[str]) -> str:
    href_raw = next(g for g in match.groups()[:3] if g is not None)
    href = decode_entities(href_raw).strip()
    label = _WS.sub(" ", _TAG.sub("", match.group(4))).strip()
    label_plain = decode_entities(label)
    if not href.lower().startswith(_SAFE_SCHEMES):
        # javascript:, data:, relative links: the address means nothing in a plain part.
        return label
    address = href[7:] if href.lower().startswith("mailto:") else href
    if not label_plain or _URLISH.search(label_plain) or label_plain == address:
        # Hesk's auto-links (possibly shortened "https://exa...com/x"): the href is right.
        return html.escape(address, quote=False)
    return f"{label} ({html.escape(address, quote=False)})"


def to_plain(message_html: str) -> str:
    """A Hesk message (HTML as stored) as plain text for a contact-authored part."""
    text = _DROP.sub("", message_html or "")
    text = _COMMENT.sub("", text)
    text = _LINK.sub(_link_to_text, text)
    # hesk.text.html_to_plain: <br />/block ends -> newlines, tags removed, decoded once.
    return html_to_plain(text).replace("\u00a0", " ")


#: One sanitiser, built once: building ammonia's settings cost more than the cleaning of a
#: typical message (24 µs a call against 11 µs).
_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style"},
    attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)


def sanitize_html(message_html: str) -> str:
    """A Hesk message (HTML as stored) as safe HTML for admin parts and KB articles."""
    return _CLEANER.clean(message_html or "").strip()


def escape(text: str) -> str:
    """Plain text as HTML text (for names and notes composed by the planners)."""
    return html.escape(text or "", quote=False)


def plain_to_html(text: str) -> str:
    """Plain text as HTML paragraphs text: escaped, newlines as ``<br>``."""
    return escape(text).replace("\r\n", "\n").replace("\n", "<br>")

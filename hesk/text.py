"""Hesk text: entity decoding (exactly once), HTML -> plain text, legacy encodings.

Hesk stores user text HTML-escaped (``htmlspecialchars``; backtick as ``&#96;``), plain
messages as escaped text + auto-links + ``<br />`` (docs/hesk-source.md, "How Hesk stores
its data"). Decoding happens once: ``&amp;lt;`` becomes ``&lt;``, never ``<``.
"""

from __future__ import annotations

import html
import re

_LINK = re.compile(r'<a\s[^>]*?href="(?:mailto:)?([^"]*)"[^>]*>.*?</a>', re.I | re.S)
_BR = re.compile(r"<br\s*/?>[ \t]*(?:\r\n|\n|\r)?", re.I)
_BLOCK_END = re.compile(r"</(p|div|li|h[1-6]|tr|blockquote|pre)\s*>", re.I)
_DROP = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
_MANY_NL = re.compile(r"\n{3,}")
_MOJIBAKE_HINT = re.compile("[\u00c2\u00c3\u00c5\u00e2][\u0080-\u00ff\u2010-\u203a\u20ac\u2122]")


def decode_entities(text: str) -> str:
    """Hesk's escaped text as plain text: entities decoded exactly once."""
    return html.unescape(text) if "&" in text else text


def html_to_plain(message: str) -> str:
    """A Hesk message (HTML) as plain text, like ``hesk_msgToPlain($msg, 1, 0)``.

    Links become their ``href`` (mailto: dropped), ``<br />`` a newline, block ends a
    newline, other tags (and script/style content) are removed, entities decoded once.
    """
    text = _LINK.sub(lambda m: m.group(1), message)
    text = _BR.sub("\n", text)
    text = _DROP.sub("", text)
    text = _BLOCK_END.sub("\n", text)
    text = _TAG.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _MANY_NL.sub("\n\n", text)
    return decode_entities(text.strip())


def decode_bytes(raw: bytes) -> tuple[str, bool]:
    """Bytes from a text column as str; ``(text, legacy)`` where legacy = not valid UTF-8.

    Invalid UTF-8 is decoded as cp1252 (latin-1 for the 5 bytes cp1252 leaves undefined).
    """
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252"), True
        except UnicodeDecodeError:
            return raw.decode("latin-1"), True


def repair_mojibake(text: str) -> tuple[str, bool]:
    """Undo double-encoded UTF-8 (``cafÃ©`` -> ``café``); ``(text, repaired)``.

    This is what legacy latin1 connections left behind in utf8 columns. Only repaired
    when the whole string round-trips through cp1252 -> UTF-8.
    """
    if not _MOJIBAKE_HINT.search(text):
        return text, False
    try:
        fixed = text.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text, False
    return (fixed, True) if fixed != text else (text, False)


def split_br(value: str) -> tuple[str, ...]:
    """A ``<br />``-joined value (checkbox custom fields) as its decoded items."""
    return tuple(decode_entities(p.strip()) for p in _BR.split(value) if p and p.strip())

"""Hesk HTML -> plain text (contact parts) and sanitised HTML (admin parts, articles)."""

from __future__ import annotations

import html

from hypothesis import given
from hypothesis import strategies as st

from mapping.text import sanitize_html, to_plain


def test_entities_decoded_exactly_once() -> None:
    assert to_plain("a &amp;lt;b&amp;gt; &amp;amp; c") == "a &lt;b&gt; &amp; c"
    assert to_plain("&lt;script&gt;") == "<script>"


def test_br_is_a_newline_and_href_is_trusted() -> None:
    stored = (
        'one<br />\r\ntwo <a href="https://example.com/a/very/long?x=1&amp;y=2">'
        "https://example.com/a/ve...</a>"
    )
    assert to_plain(stored) == "one\ntwo https://example.com/a/very/long?x=1&y=2"


def test_mailto_and_descriptive_links() -> None:
    assert to_plain('<a href="mailto:a@b.co">a@b.co</a>') == "a@b.co"
    assert to_plain('<a href="https://x.org">Click here</a>') == "Click here (https://x.org)"
    assert to_plain("<a href='javascript:alert(1)'>bad</a>") == "bad"


def test_scripts_and_styles_dropped_entirely() -> None:
    stored = "<style>p{color:red}</style>hi<script>alert('<a href=\"x\">x</a>')</script>!"
    assert to_plain(stored) == "hi!"


@given(
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\u00a0"
        )
    )
)
def test_escaped_plain_text_round_trips(text: str) -> None:
    # What hesk_input() stores for a plain value, back as the user typed it.
    assert to_plain(html.escape(text, quote=True)) == text.strip()


def test_sanitize_strips_scripts_handlers_and_js_urls() -> None:
    dirty = (
        '<p onclick="x()">Hi <b>there</b> <a href="javascript:alert(1)">x</a> '
        '<a href="https://ok.example/" onmouseover="y()">ok</a>'
        '<img src="x" onerror="alert(1)"><script>steal()</script><style>*{}</style></p>'
    )
    clean = sanitize_html(dirty)
    assert "script" not in clean and "steal" not in clean and "onerror" not in clean
    assert "onclick" not in clean and "onmouseover" not in clean
    assert "javascript:" not in clean
    assert "<b>there</b>" in clean and 'href="https://ok.example/"' in clean


def test_sanitize_keeps_entities_as_entities() -> None:
    assert sanitize_html("a &amp;lt; b<br />c") == "a &amp;lt; b<br>c"


_FRAGMENTS = st.sampled_from([
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '<a href="javascript:x">a</a>',
    "<svg onload=alert(1)>", "<iframe src=//evil></iframe>", "<b>bold</b>", "text &amp; more",
    "<p style=\"background:url(javascript:x)\">p</p>", "<scr<script>ipt>x</script>", "<br />",
    '<a href="https://fine.example">fine</a>', "<STYLE>x</STYLE>", "<object data=x></object>",
])  # fmt: skip


@given(st.lists(_FRAGMENTS, max_size=8).map("".join))
def test_sanitized_html_never_executes(dirty: str) -> None:
    clean = sanitize_html(dirty).lower()
    for bad in (
        "<script",
        "onerror",
        "onload",
        "javascript:",
        "<iframe",
        "<svg",
        "<object",
        "style=",
    ):
        assert bad not in clean

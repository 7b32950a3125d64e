"""Entity decoding exactly once, hesk_msgToPlain, legacy encodings."""

from __future__ import annotations

from hesk.text import decode_bytes, decode_entities, html_to_plain, repair_mojibake, split_br


def test_entities_decoded_exactly_once() -> None:
    assert decode_entities("&amp;lt;") == "&lt;"
    assert decode_entities("Tom &amp; Jerry &quot;x&quot; it's") == 'Tom & Jerry "x" it\'s'
    assert decode_entities("use &#96;code&#96;") == "use `code`"


def test_html_to_plain_like_hesk_msgToPlain() -> None:
    stored = (
        'Hi,<br />\r\nsee <a href="https://example.com/a?b=1&amp;c=2">https://example.com'
        '/a?b=1...</a><br />\r\nmail <a href="mailto:x@y.com">x@y.com</a><br />\r\n'
        "a &amp;lt; b"
    )
    assert html_to_plain(stored) == (
        "Hi,\nsee https://example.com/a?b=1&c=2\nmail x@y.com\na &lt; b"
    )


def test_html_to_plain_drops_scripts_and_tags() -> None:
    assert html_to_plain('<p>Hello</p><script>alert("x")</script><img onerror="a()">') == "Hello"


def test_checkbox_values_split_on_br() -> None:
    assert split_br("Red<br />Blue &amp; Green") == ("Red", "Blue & Green")


def test_invalid_utf8_bytes_fall_back_to_cp1252() -> None:
    assert decode_bytes("café".encode()) == ("café", False)
    assert decode_bytes(b"caf\xe9 \x93q\x94") == ("café \u201cq\u201d", True)


def test_double_encoded_utf8_is_repaired() -> None:
    assert repair_mojibake("Caf\u00c3\u00a9") == ("Café", True)
    assert repair_mojibake("Café plain") == ("Café plain", False)

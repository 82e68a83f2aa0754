"""Telegram HTML parsing and rendering: plain text, UTF-16 offsets, errors, round trips."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.entities import detect_entities, trim, utf16_len
from sandbox.html_text import HtmlParseError, parse_html, render_html


def test_plain_text_and_entities_with_chinese_and_emoji() -> None:
    text, entities = parse_html("😀 <b>工会</b> says <i>hi 👋</i>")
    assert text == "😀 工会 says hi 👋"
    # The emoji before the bold text counts 2 UTF-16 units; Chinese counts 1 each.
    assert entities == [
        {"type": "bold", "offset": 3, "length": 2},
        {"type": "italic", "offset": 11, "length": 5},
    ]
    assert utf16_len(text) == 16


def test_all_supported_tags() -> None:
    markup = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>"
        "<strike>k</strike><del>d</del><a href='https://example.org/?a=1&amp;b=2'>l</a>"
        '<code>c</code><tg-spoiler>p</tg-spoiler><span class="tg-spoiler">q</span>'
        "<blockquote>r</blockquote><blockquote expandable>x</blockquote>"
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
        '<pre><code class="language-python">print(1)</code></pre>'
    )
    text, entities = parse_html(markup)
    assert text == "bsieunskdlcpqrx👍print(1)"
    kinds = [e["type"] for e in entities]
    assert kinds == [
        "bold",
        "bold",
        "italic",
        "italic",
        "underline",
        "underline",
        "strikethrough",
        "strikethrough",
        "strikethrough",
        "text_link",
        "code",
        "spoiler",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "custom_emoji",
        "pre",
    ]
    link = entities[9]
    assert link["url"] == "https://example.org/?a=1&b=2"
    assert entities[15]["custom_emoji_id"] == "5368324170671202286"
    assert entities[16] == {"type": "pre", "offset": 17, "length": 8, "language": "python"}


def test_nesting_and_references() -> None:
    text, entities = parse_html(
        "<b>a <i>b</i></b> &lt;tag&gt; &amp; &quot;q&quot; &#20013;&#x1F600;"
    )
    assert text == 'a b <tag> & "q" 中😀'
    assert entities == [
        {"type": "bold", "offset": 0, "length": 3},
        {"type": "italic", "offset": 2, "length": 1},
    ]


def test_empty_tags_make_no_entities() -> None:
    assert parse_html("<b></b>x<a href=''>y</a>") == ("xy", [])


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("a <br> b", 'Unsupported start tag "br" at byte offset 2'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("工<b x", "Unclosed start tag at byte offset 3"),
        ("<span>s</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("Tom &foo Jerry", 'Character "&" at byte offset 4 must be escaped'),
        ("a & b", 'Character "&" at byte offset 2 must be escaped'),
        ("<b foo>x</b>", "Expected equal sign"),
    ],
)
def test_invalid_markup_is_rejected(markup: str, message: str) -> None:
    with pytest.raises(HtmlParseError) as caught:
        parse_html(markup)
    assert message in str(caught.value)


@given(st.text())
def test_escaped_text_parses_back_to_itself(text: str) -> None:
    assert parse_html(html.escape(text)) == (text, [])


@given(st.text())
def test_rendering_plain_text_is_escaped(text: str) -> None:
    assert render_html(text, []) == html.escape(text, quote=False)


def test_render_is_safe_and_nests_overlaps() -> None:
    text = "abcdef"
    overlapping = [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "italic", "offset": 2, "length": 4},
    ]
    assert render_html(text, overlapping) == "<b>ab<i>cd</i></b><i>ef</i>"
    evil = [{"type": "text_link", "offset": 0, "length": 6, "url": "javascript:alert(1)"}]
    assert "javascript" not in render_html(text, evil)
    assert render_html("<x>", []) == "&lt;x&gt;"


def test_render_round_trips_parsed_markup() -> None:
    markup = '<b>工会</b> 😀 <a href="https://t.me/x">link</a> <code>a&lt;b</code>'
    text, entities = parse_html(markup)
    rendered = render_html(text, entities)
    assert rendered == (
        '<b>工会</b> 😀 <a href="https://t.me/x" target="_blank" rel="noopener noreferrer">'
        "link</a> <code>a&lt;b</code>"
    )


def test_detected_entities_in_user_text() -> None:
    text = "/start@UnionSandboxBot 你好 /help @someone #tag https://example.org."
    found = detect_entities(text)
    assert found == [
        {"type": "bot_command", "offset": 0, "length": 22},
        {"type": "bot_command", "offset": 26, "length": 5},
        {"type": "mention", "offset": 32, "length": 8},
        {"type": "hashtag", "offset": 41, "length": 4},
        {"type": "url", "offset": 46, "length": 19},
    ]
    assert detect_entities("a/b and x@y.z") == []


def test_trim_shifts_entities() -> None:
    text, entities = trim("  \n😀hi ", [{"type": "bold", "offset": 3, "length": 4}])
    assert text == "😀hi"
    assert entities == [{"type": "bold", "offset": 0, "length": 4}]

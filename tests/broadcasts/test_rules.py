"""The broadcast rules: formatted text Telegram will accept, and send times an admin types."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.html_text import HtmlParseError, parse_html
from storage.broadcast_rules import (
    CAPTION_MAX,
    TEXT_MAX,
    ContentError,
    InvalidTime,
    MarkupError,
    check_content,
    parse_send_time,
    snippet,
    visible_text,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.mark.parametrize(
    ("markup", "visible"),
    [
        ("plain words", "plain words"),
        ("<b>bold</b> and <i>italic</i>", "bold and italic"),
        ("<B>shouting tags</B>", "shouting tags"),
        ('<a href="https://union.example/x?a=1&amp;b=2">link</a>', "link"),
        ("<a href='tg://user?id=1'>me</a>", "me"),
        ('<span class="tg-spoiler">secret</span> <tg-spoiler>too</tg-spoiler>', "secret too"),
        ("<blockquote expandable>long quote</blockquote>", "long quote"),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1"),
        (
            "5 &lt; 6 &amp;&amp; 7 &gt; 3 &quot;ok&quot; &#20013;&#x6587;",
            '5 < 6 && 7 > 3 "ok" 中文',
        ),
        ("温度 > 30 度", "温度 > 30 度"),
        ("<b>粗体<i>嵌套</i></b>", "粗体嵌套"),
        ("<b>\n</b>", "\n"),
    ],
)
def test_good_markup_and_what_members_read(markup: str, visible: str) -> None:
    assert visible_text(markup) == visible
    assert parse_html(markup)[0] == visible  # Telegram (the sandbox's copy) agrees


@pytest.mark.parametrize(
    ("markup", "code", "tag", "position"),
    [
        ("<b>never closed", "unclosed", "b", 0),
        ("ok</b>", "unexpected_end", "b", 2),
        ("<b><i>crossed</b></i>", "mismatched_end", "b", 13),
        ("<div>block</div>", "unsupported_tag", "div", 0),
        ("<script>x</script>", "unsupported_tag", "script", 0),
        ("Tom & Jerry", "ampersand", "", 4),
        ("&nbsp;", "ampersand", "", 0),
        ("&amp without semicolon", "ampersand", "", 0),
        ("&#0;", "ampersand", "", 0),
        ("&#xD800;", "ampersand", "", 0),
        ("<b", "unclosed_tag", "b", 0),
        ("x </b", "unclosed_tag", "", 2),
        ("<a>no address</a>", "link_without_href", "a", 0),
        ('<a href="">empty</a>', "link_without_href", "a", 0),
        ("<a href=https://x>unquoted</a>", "bad_attribute", "a", 0),
        ('<a href="https://x>unterminated</a>', "unclosed_tag", "a", 0),
        ("<span>not a spoiler</span>", "span_class", "span", 0),
        ("<tg-emoji emoji-id='1'>x</tg-emoji>", "unsupported_tag", "tg-emoji", 0),
        ("a < b", "unsupported_tag", "", 2),
    ],
)
def test_bad_markup_is_named_and_located(markup: str, code: str, tag: str, position: int) -> None:
    with pytest.raises(MarkupError) as caught:
        visible_text(markup)
    assert (caught.value.code, caught.value.tag, caught.value.position) == (code, tag, position)


FRAGMENTS = st.sampled_from(
    [
        "<b>", "</b>", "<i>", "</i>", "<u>", "</u>", "<s>", "</s>", "<code>", "</code>",
        "<pre>", "</pre>", '<a href="https://x.cn">', "<a>", "</a>", "<span>",
        '<span class="tg-spoiler">', "</span>", "<blockquote expandable>", "</blockquote>",
        "<tg-spoiler>", "</tg-spoiler>", "<div>", "</div>", "<b", "b>", "<", ">", "</",
        "&", "&amp;", "&lt;", "&gt;", "&quot;", "&#65;", "&#x4e2d;", "&#;", "&nbsp;", "&amp",
        "text", "中文", " ", "\n", "=", '"', "'", "<B>", "</B >", "< b>", "<b x='1'>",
        '<a href="x" title="t">',
    ]
)  # fmt: skip


@given(st.lists(FRAGMENTS, max_size=12).map("".join))
def test_whatever_we_accept_telegram_accepts_alike(markup: str) -> None:
    """Soundness against the sandbox's port of Telegram's parser: never a 400 later."""
    try:
        visible = visible_text(markup)
    except MarkupError:
        return
    try:
        parsed, _entities = parse_html(markup)
    except HtmlParseError as error:  # pragma: no cover - the failure this test exists for
        pytest.fail(f"accepted {markup!r} but Telegram refuses it: {error}")
    assert parsed == visible


@given(st.text(max_size=300))
def test_escaped_plain_text_always_passes_unchanged(text: str) -> None:
    assert visible_text(html.escape(text, quote=False)) == text


def test_snippet_shows_where() -> None:
    assert snippet("0123456789abcdefghijklmnopqrstuvwxyz", 18, width=4) == "…efghijkl…"
    assert snippet("<b>oops", 0) == "<b>oops"


def test_content_limits_count_as_telegram_does() -> None:
    check_content("x" * TEXT_MAX, has_media=False)
    check_content("", has_media=True)  # a photo alone is a message
    for text, media, code in [
        ("", False, "empty"),
        ("  \n ", False, "empty"),
        ("x" * (TEXT_MAX + 1), False, "too_long"),
        ("x" * (CAPTION_MAX + 1), True, "too_long"),
        ("😀" * (CAPTION_MAX // 2 + 1), True, "too_long"),  # two UTF-16 units each
    ]:
        with pytest.raises(ContentError) as caught:
            check_content(text, has_media=media)
        assert caught.value.code == code


@pytest.mark.parametrize(
    ("text", "local"),
    [
        ("2026-12-01 09:00", datetime(2026, 12, 1, 9, 0)),
        ("2026/12/1 9:05", datetime(2026, 12, 1, 9, 5)),
        ("2026.12.01T18:30", datetime(2026, 12, 1, 18, 30)),
        ("２０２６－１２－０１　０９：００", datetime(2026, 12, 1, 9, 0)),
        ("2026年12月1日 9点", datetime(2026, 12, 1, 9, 0)),
        ("2026年12月1日9点30分", datetime(2026, 12, 1, 9, 30)),
        ("2026年12月1号 09:00", datetime(2026, 12, 1, 9, 0)),
        ("2026-11-24 10:01", datetime(2026, 11, 24, 10, 1)),
    ],
)
def test_send_times_in_the_union_s_zone(text: str, local: datetime) -> None:
    assert parse_send_time(text, SHANGHAI, NOW) == local.replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("tomorrow", "format"),
        ("明天上午", "format"),
        ("2026-12-01", "format"),
        ("09:00", "format"),
        ("2026-13-01 09:00", "no_such_time"),
        ("2026-02-30 09:00", "no_such_time"),
        ("2026-12-01 24:00", "no_such_time"),
        ("2026-12-01 09:60", "no_such_time"),
        ("2026-11-24 09:59", "past"),
        ("2026-11-24 10:00", "past"),  # now is not "later"
        ("2027-12-01 09:00", "too_far"),
    ],
)
def test_bad_send_times_are_named(text: str, code: str) -> None:
    with pytest.raises(InvalidTime) as caught:
        parse_send_time(text, SHANGHAI, NOW)
    assert caught.value.code == code


@given(st.integers(2, 365 * 24 * 60))
def test_any_future_minute_written_back_reads_the_same(minutes: int) -> None:
    when = (NOW + timedelta(minutes=minutes)).astimezone(SHANGHAI)
    assert parse_send_time(when.strftime("%Y-%m-%d %H:%M"), SHANGHAI, NOW) == when

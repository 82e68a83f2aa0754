"""How broadcasts read: the picker stays within Telegram's limits, states show their buttons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.i18n import translator
from display import broadcasts as display
from display import callbacks as cb
from storage.audiences import DEPARTMENT, Audience, Described
from storage.broadcast_rules import MarkupError, visible_text
from storage.broadcasts import Tally
from storage.models import Broadcast

ZH = translator("zh_CN")
EN = translator("en")
ZONE = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def picker(departments: int, page: int = 0) -> list[list[str]]:
    items = display.picker_items(
        EN,
        Audience(items={DEPARTMENT.key: {1}}),
        [(DEPARTMENT, [(i, f"Dept {i}") for i in range(1, departments + 1)])],
        ["new-hire"],
    )
    markup = display.audience_keyboard(EN, 77, items, page)
    return [[b.text for b in row] for row in markup.inline_keyboard]


def test_a_big_union_s_picker_is_paged_within_telegram_s_limits() -> None:
    first = picker(120)
    assert first[0] == ["👥 Everyone"] and first[1] == ["✅ 🏢 Dept 1", "🏢 Dept 2"]
    assert sum(len(row) for row in first) <= 100
    assert first[-2] == ["1 of 4", "Next ›"] and first[-1] == ["Preview ›", "✖️ Cancel"]
    last = picker(120, page=99)  # a forged page number shows the last page
    assert last[-2] == ["‹ Previous", "4 of 4"]
    assert ["🏷 new-hire"] in last
    small = picker(3)
    assert all("of" not in label for row in small for label in row)


def test_every_picker_button_packs_into_64_bytes() -> None:
    items = display.picker_items(
        ZH,
        Audience(),
        [(DEPARTMENT, [(2**31, "很长的部门名称" * 10)])],
        [f"tag{i}" for i in range(50)],
    )
    markup = display.audience_keyboard(ZH, 10**9, items, 1)
    for row in markup.inline_keyboard:
        for button in row:
            assert len(str(button.callback_data).encode()) <= cb.MAX_BYTES
            assert len(button.text) <= display.BUTTON_TEXT_MAX + 2


def broadcast(status: str, **fields: object) -> Broadcast:
    values: dict[str, object] = {
        "id": 7,
        "text": "<b>停电</b>通知 &amp; 安排",
        "formatted": True,
        "audience": Audience(everyone=True).to_json(),
        "status": status,
        "admin_chat_id": 1,
        "created_at": T0,
        "recipients": 10,
        "sent": 0,
        "blocked": 0,
        "failed": 0,
        "cancelled": 0,
    }
    values.update(fields)
    return Broadcast(**values)


def buttons(item: Broadcast, **kwargs: object) -> list[str]:
    markup = display.status_keyboard(ZH, item, **kwargs)  # type: ignore[arg-type]
    return [b.text for row in markup.inline_keyboard for b in row] if markup else []


@pytest.mark.parametrize(
    ("status", "fields", "expected"),
    [
        ("scheduled", {"scheduled_for": T0}, ["✖️ 取消发送"]),
        ("sending", {"started_at": T0}, ["⏸ 暂停", "✖️ 停止"]),
        ("paused", {"started_at": T0}, ["▶️ 继续", "✖️ 停止"]),
        ("cancelled", {"started_at": T0}, []),  # stopping: nothing left to press
        ("done", {"started_at": T0, "finished_at": T0}, []),
    ],
)
def test_each_state_offers_only_what_it_allows(
    status: str, fields: dict[str, object], expected: list[str]
) -> None:
    assert buttons(broadcast(status, **fields)) == expected


def test_stop_asks_first_and_the_list_view_keeps_a_way_back() -> None:
    running = broadcast("sending", started_at=T0)
    assert buttons(running, confirm_stop=True) == ["确定停止发送", "« 不了"]
    assert buttons(running, back_page=2)[-1] == "« 通知列表"


def test_progress_text() -> None:
    running = broadcast("sending", started_at=T0)
    tally = Tally(10, 6, 1, 1, 0, 2, timedelta(seconds=150))
    text = display.status_text(ZH, running, tally, "全体会员", ZONE)
    for part in ("📢 通知 #7", "📤 发送中", "✅ 已发送：6", "⏳ 待发送：2", "已屏蔽机器人：1"):
        assert part in text
    assert "发送失败：1" in text and "约 3 分钟" in text and "10:00" in text
    visible_text(text)  # what the bot sends is valid markup
    excerpt = display.status_text(ZH, running, tally, "全体会员", ZONE, excerpt=True)
    assert "<i>停电通知 &amp; 安排</i>" in excerpt


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (10, "less than a minute"),
        (61, "about 2 min"),
        (3600, "about 1 h 0 min"),
        (5430, "about 1 h 31 min"),
    ],
)
def test_time_left(seconds: int, words: str) -> None:
    assert display.format_eta(EN, timedelta(seconds=seconds)) == words


def test_markup_errors_read_clearly_and_are_valid_html_themselves() -> None:
    source = "请注意：<b>明天 & 后天</b>"
    with pytest.raises(MarkupError) as caught:
        visible_text(source)
    message = display.markup_error(ZH, caught.value, source)
    assert "“&amp;”须写作 &amp;amp;" in message and "<code>" in message
    assert visible_text(message)  # the explanation itself never trips the parser
    for code in display.MARKUP_ERRORS:
        error = MarkupError(code, 0, "b", "i")
        for t in (ZH, EN):
            visible_text(display.markup_error(t, error, "<b>"))


def test_audience_in_words() -> None:
    described = Described(False, [("Departments", ["质检科", "A&B"])], ["新员工"], 1)
    assert display.describe_audience(ZH, described) == (
        "部门：质检科、A&amp;B · 标签：新员工 · 另有 1 项已被删除"
    )
    assert display.describe_audience(EN, Described(True, [], [], 0)) == "everyone"
    assert display.describe_audience(EN, Described(False, [], [], 0)) == "nobody chosen yet"


@pytest.mark.parametrize(
    ("language", "text", "kind", "listed"),
    [
        ("zh_CN", "", "photo", "📷 图片"),
        ("en", "", "photo", "📷 Photo"),
        ("zh_CN", "", "document", "📎 文件"),
        ("en", "", "document", "📎 Document"),
        ("zh_CN", "摄影展 <b>征集</b>", "photo", "摄影展 征集"),
        ("en", "Photo contest", "photo", "Photo contest"),
    ],
)
def test_a_media_broadcast_is_listed_by_its_caption_or_its_kind(
    language: str, text: str, kind: str, listed: str
) -> None:
    broadcast = Broadcast(id=4, text=text, media_kind=kind, status="finished")
    assert display.listed_as(translator(language), broadcast, 24) == listed

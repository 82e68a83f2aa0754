"""Natural times (storage.natural_time): a table of real phrasings with a fixed "now"."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from storage.natural_time import Proposal, Reason, Refusal, understand

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
# Wednesday 2 December 2026, 10:00 in Shanghai: the README's table.
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)

TABLE: list[tuple[str, str | Reason]] = [
    ("明天早上8点", "2026-12-03 08:00"),
    ("后天下午3点半", "2026-12-04 15:30"),
    ("12月30日下午两点", "2026-12-30 14:00"),
    ("下周五 19:00", "2026-12-11 19:00"),
    ("周六下午", "2026-12-05 14:00 default"),
    ("本周日上午十点", "2026-12-06 10:00"),
    ("下个月3号晚上7点", "2027-01-03 19:00"),
    ("今晚八点", "2026-12-02 20:00"),
    ("1月5日 9:00", "2027-01-05 09:00"),
    ("2027-01-05 09:00", "2027-01-05 09:00"),
    ("2027/1/5 9点", "2027-01-05 09:00"),
    ("元旦上午", "2027-01-01 10:00 default"),
    ("两小时后", "2026-12-02 12:00"),
    ("半小时后", "2026-12-02 10:30"),
    ("中午12点", "2026-12-02 12:00"),
    ("凌晨两点", "2026-12-03 02:00"),
    ("傍晚六点", "2026-12-02 18:00"),
    ("明早9点", "2026-12-03 09:00"),
    ("十二月三十号下午3点", "2026-12-30 15:00"),
    ("明天下午", "2026-12-03 14:00 default"),
    ("周五晚上8点", "2026-12-04 20:00"),
    ("下周三14:30", "2026-12-09 14:30"),
    ("12月31日 23:59", "2026-12-31 23:59"),
    ("今天下午5点", "2026-12-02 17:00"),
    ("下周一上午9点半", "2026-12-07 09:30"),
    ("30号下午3点", "2026-12-30 15:00"),
    ("星期六上午10点", "2026-12-05 10:00"),
    ("礼拜天晚上", "2026-12-06 19:00 default"),
    ("明天18:00", "2026-12-03 18:00"),
    ("8点", "2026-12-03 08:00"),  # 08:00 has passed today: the next one
    ("十点半", "2026-12-02 10:30"),
    ("大后天上午", "2026-12-05 10:00 default"),
    ("下午三点", "2026-12-02 15:00"),
    ("下周五晚上七点半", "2026-12-11 19:30"),
    ("明天下午3点15分", "2026-12-03 15:15"),
    ("下下周一早上8点", "2026-12-14 08:00"),
    ("ｍｉｎｇ", Reason.NOT_UNDERSTOOD),
    ("tomorrow 8am", "2026-12-03 08:00"),
    ("next Friday 19:00", "2026-12-04 19:00"),
    ("Dec 30 2pm", "2026-12-30 14:00"),
    ("in 2 hours", "2026-12-02 12:00"),
    ("Saturday 3pm", "2026-12-05 15:00"),
    ("next monday 9am", "2026-12-07 09:00"),
    # Refused, each with its reason.
    ("周末", Reason.AMBIGUOUS),
    ("晚上12点", Reason.AMBIGUOUS),
    ("三天后", Reason.NO_TIME),
    ("后天", Reason.NO_TIME),
    ("下下周一", Reason.NO_TIME),
    ("tomorrow", Reason.NO_TIME),
    ("今天早上8点", Reason.IN_PAST),
    ("2025-12-07 18:00", Reason.IN_PAST),
    ("本周一下午3点", Reason.IN_PAST),
    ("随便哪天", Reason.NOT_UNDERSTOOD),
    ("hello", Reason.NOT_UNDERSTOOD),
    ("", Reason.NOT_UNDERSTOOD),
]


def _shown(result: Proposal | Refusal, zone: ZoneInfo) -> str | Reason:
    if isinstance(result, Refusal):
        return result.reason
    assert result.when.tzinfo is zone
    return f"{result.when:%Y-%m-%d %H:%M}" + (" default" if result.defaulted else "")


@pytest.mark.parametrize(("text", "expected"), TABLE, ids=[text or "empty" for text, _ in TABLE])
def test_phrasings(text: str, expected: str | Reason) -> None:
    assert _shown(understand(text, NOW, SHANGHAI), SHANGHAI) == expected


def test_the_table_is_long_enough() -> None:
    assert len(TABLE) >= 30


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1月5日 9:00", "2027-01-05 09:00"),  # no year: the next 5 January
        ("元旦上午10点", "2027-01-01 10:00"),
        ("明天早上8点", "2026-12-31 08:00"),
        ("后天下午两点", "2027-01-01 14:00"),
        ("12月30日下午两点", "2027-12-30 14:00"),  # tonight's 30 December has passed
        ("下个月3号晚上7点", "2027-01-03 19:00"),
        ("下周一上午9点", "2027-01-04 09:00"),
        ("2号下午3点", "2027-01-02 15:00"),
        ("12月30日晚上9点", "2026-12-30 21:00"),
        ("2026-12-30 19:00", Reason.IN_PAST),
    ],
)
def test_around_the_new_year(text: str, expected: str | Reason) -> None:
    now = datetime(2026, 12, 30, 20, 0, tzinfo=SHANGHAI)  # a Wednesday evening
    assert _shown(understand(text, now, SHANGHAI), SHANGHAI) == expected


def test_a_weekday_today_is_today_while_ahead() -> None:
    saturday_morning = datetime(2026, 12, 5, 9, 0, tzinfo=SHANGHAI)
    assert _shown(understand("周六下午", saturday_morning, SHANGHAI), SHANGHAI) == (
        "2026-12-05 14:00 default"
    )
    assert _shown(understand("周六早上8点", saturday_morning, SHANGHAI), SHANGHAI) == (
        "2026-12-12 08:00"
    )
    assert _shown(understand("本周六早上8点", saturday_morning, SHANGHAI), SHANGHAI) == (
        Reason.IN_PAST
    )


def test_another_zone_reads_its_own_wall_clock() -> None:
    """The same instant is already Thursday in Shanghai but still Wednesday in Berlin."""
    instant = datetime(2026, 12, 2, 20, 0, tzinfo=BERLIN)  # Shanghai: Thu 03:00
    assert _shown(understand("明天早上8点", instant, BERLIN), BERLIN) == "2026-12-03 08:00"
    assert _shown(understand("明天早上8点", instant, SHANGHAI), SHANGHAI) == "2026-12-04 08:00"
    # Across the change to summer time (29 March 2027 in Berlin): still 09:00 on the wall.
    before = datetime(2027, 3, 27, 12, 0, tzinfo=BERLIN)
    result = understand("后天上午9点", before, BERLIN)
    assert isinstance(result, Proposal)
    assert f"{result.when:%Y-%m-%d %H:%M %Z}" == "2027-03-29 09:00 CEST"


def test_counting_from_a_base() -> None:
    """An end is read from its start: "下午5点" after a start at 2026-12-10 14:00."""
    base = datetime(2026, 12, 10, 14, 0, tzinfo=SHANGHAI)
    assert _shown(understand("下午5点", NOW, SHANGHAI, base=base), SHANGHAI) == "2026-12-10 17:00"
    assert _shown(understand("中午12点", NOW, SHANGHAI, base=base), SHANGHAI) == "2026-12-11 12:00"


def test_before_the_base_is_proposed_for_the_caller_to_refuse() -> None:
    """An end before its start is the flow's own refusal, not "in the past"."""
    base = datetime(2026, 12, 10, 14, 0, tzinfo=SHANGHAI)
    assert _shown(understand("12月9日下午3点", NOW, SHANGHAI, base=base), SHANGHAI) == (
        "2026-12-09 15:00"
    )
    assert _shown(understand("今天早上8点", NOW, SHANGHAI, base=base), SHANGHAI) == (Reason.IN_PAST)

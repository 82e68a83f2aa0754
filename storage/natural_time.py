"""Natural times: "明天早上8点", "12月30日下午两点", "下周五 19:00", "next Friday 19:00".

Where the bot asks for a time (an activity's or training's start, end and
sign-up deadline, a broadcast's send time, a poll's closing time), the strict
formats each flow knows keep working exactly; what they do not read comes here
and, when understood, is *proposed* for the member to confirm.

The parser: `dateparser` (BSD-3-Clause, scrapinghub, released through 2026),
behind a thin Chinese layer of our own. What was weighed (December 2026, the
table of 45 phrasings in the README; now = Wednesday 2026-12-02 10:00):

- **dateparser alone** (``languages=["zh", "en"]``, ``RELATIVE_BASE``,
  ``PREFER_DATES_FROM="future"``): 16 of 45. Its Chinese data knows "明天" and
  "后天" but no "点", "下午", "周五" or "12月30日" (even "12月31日 23:59" fails).
  Its English is right: "tomorrow 8am", "next Friday 19:00", "Dec 30 2pm",
  "in 2 hours", "Saturday 3pm" all correct. ~20 MB resident, 3.6 MB installed,
  imports in 0.05 s.
- **JioNLP's ``parse_time``** (1.5.31): 25 of 45 exactly as our rules want, and
  its Chinese is good in substance (its misses: no English at all, "明早9点" read
  as today, a past "8点"/"1月5日"/"元旦" not moved ahead, 下午 = 13:00, a date
  alone = its whole day). But it needs jiojio, a word segmenter under the
  **GPLv3** with 145 MB of models (218 MB installed with JioNLP, +37 MB
  resident, numpy, requests, a banner printed on import). The bot is MIT and
  already chose lunar-python over the GPL lunardate; a time parser is not worth
  the licence.

So dateparser does the English, the ISO forms and the date arithmetic (today,
tomorrow, in N days/hours, month names, "the next such time of day"), and this
module rewrites Chinese into what it reads: Chinese numerals to digits,
"8点半" to 08:30, 下午/晚上 to the afternoon hours, and the weekdays, which it
resolves itself because "周六" means this week's Saturday (today if still ahead)
and "下周五" next week's Friday, where dateparser's "next Friday" is the coming
one. Anything left unread is "not understood", never guessed.

Rules: a time of day without a date is its next occurrence; a weekday the next
one (today if the time is still ahead); a month and day without a year the next
such date; a part of the day without an hour (周六下午) takes a default hour
(下午 14:00), and the proposal says so; a day without any time of day gets "add
the hour"; "周末" and "晚上12点" are ambiguous; a result not after ``now`` is in
the past. Nothing here reads the clock: ``now`` and the zone are passed in.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo


class Reason(enum.StrEnum):
    """Why a phrase gave no proposal; each has its own answer."""

    NOT_UNDERSTOOD = "not_understood"
    AMBIGUOUS = "ambiguous"  # 周末, 晚上12点
    NO_TIME = "no_time"  # a day without a time of day: 后天, 12月30日, tomorrow
    IN_PAST = "in_past"


@dataclass(frozen=True)
class Proposal:
    """A time to put to the member: ``when`` is aware, in the zone asked for."""

    when: datetime
    defaulted: bool  # the hour was a default for a part of the day (下午 → 14:00)


@dataclass(frozen=True)
class Refusal:
    reason: Reason


Understood = Proposal | Refusal

# Parts of the day: (hours they shift a clock reading to, default hour when none is given).
_PERIODS: dict[str, tuple[str, int | None]] = {
    "凌晨": ("am", None),
    "早上": ("am", 8),
    "早晨": ("am", 8),
    "清晨": ("am", 7),
    "上午": ("am", 10),
    "中午": ("noon", 12),
    "下午": ("pm", 14),
    "傍晚": ("pm", 18),
    "晚上": ("pm", 19),
    "夜里": ("pm", None),
}
# Day words, longest first: (days from today, part of the day they imply).
_DAYS: dict[str, tuple[int, str | None]] = {
    "大后天": (3, None),
    "后天": (2, None),
    "明天": (1, None),
    "明日": (1, None),
    "今天": (0, None),
    "今日": (0, None),
    "明早": (1, "早上"),
    "明晚": (1, "晚上"),
    "今早": (0, "早上"),
    "今晚": (0, "晚上"),
}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff]")
_FILLER = re.compile(r"[的在于到，,。]")
_CLOCK_ONLY = re.compile(r"\d{1,2}(?::\d{2})?\s*(?:am|pm)?", re.IGNORECASE)
_CLOCK = re.compile(r"\b\d{1,2}(?::\d{2})?\s*(?:am|pm)\b|\b\d{1,2}:\d{2}\b", re.IGNORECASE)


def understand(
    text: str, now: datetime, zone: tzinfo, *, base: datetime | None = None
) -> Understood:
    """Read ``text`` as a time in ``zone``, seen from ``now`` (aware).

    ``base`` (default ``now``) is where "the next such time" counts from: an
    activity's end is read from its start. A result not after ``now`` is refused
    as in the past; one before ``base`` is the caller's to refuse (an end before
    its start has its own answer).
    """
    local_now = now.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    start = (base or now).astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    cleaned = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()
    if not cleaned:
        return Refusal(Reason.NOT_UNDERSTOOD)
    if _CJK.search(cleaned):
        read = _from_chinese(cleaned, local_now)
        if isinstance(read, Refusal):
            return read
        phrase, defaulted = read
    else:
        phrase, defaulted = cleaned, False
    # Only a bare time of day counts from ``base``; 明天, 12月9日, in 2 hours count from now.
    found = _parse(phrase, start if _CLOCK_ONLY.fullmatch(phrase) else local_now)
    if found is None:
        return Refusal(Reason.NOT_UNDERSTOOD)
    moment, has_time = found
    if not has_time:
        return Refusal(Reason.NO_TIME)
    if moment <= local_now:
        return Refusal(Reason.IN_PAST)
    return Proposal(moment.replace(tzinfo=zone), defaulted)


def _parse(phrase: str, start: datetime) -> tuple[datetime, bool] | None:
    # Imported on first use: ~20 MB the delivery worker (which draws prompts, never reads
    # one) need not hold.
    from dateparser.date import DateDataParser

    parser = DateDataParser(
        languages=["en"],
        settings={
            "RELATIVE_BASE": start,
            "PREFER_DATES_FROM": "future",
            "RETURN_TIME_AS_PERIOD": True,
            "DATE_ORDER": "MDY",
        },
    )
    data = parser.get_date_data(phrase)
    if data.date_obj is None:
        return None
    moment = data.date_obj.replace(tzinfo=None, second=0, microsecond=0)
    return moment, data.period == "time" or bool(_CLOCK.search(phrase))


def _number(text: str) -> int | None:
    """A small Chinese or Arabic number (0–99): "8", "两", "十二", "三十", "二十五"."""
    if text.isdecimal():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        high = _DIGITS.get(tens, -1) if tens else 1
        low = _DIGITS.get(ones, -1) if ones else 0
        return high * 10 + low if high >= 0 and low >= 0 else None
    return _DIGITS.get(text) if len(text) == 1 else None


_NUM = r"[0-9]{1,2}|[零〇一二两三四五六七八九十]{1,3}"
_YMD = re.compile(r"([0-9]{4})\s*[年/.-]\s*([0-9]{1,2})\s*[月/.-]\s*([0-9]{1,2})\s*[日号]?")
_MD = re.compile(rf"(下个?月)?({_NUM})\s*月\s*({_NUM})\s*[日号]?|(下个?月)\s*({_NUM})\s*[日号]")
_BARE_DAY = re.compile(rf"(?<![0-9月])({_NUM})\s*[日号]")
_WEEKDAY = re.compile(r"(本|这|这个|下下|下下个|下|下个)?(?:周|星期|礼拜)([一二三四五六日天1-7])")
_LATER = re.compile(rf"({_NUM}|半)\s*(个)?\s*(天|小时|钟头|分钟|周|星期|礼拜)\s*(?:以)?后")
_HOUR = re.compile(rf"({_NUM})\s*(?:点|时)\s*(?:(半)|(一刻|三刻)|({_NUM})\s*分?)?")
_COLON = re.compile(r"([0-9]{1,2})\s*:\s*([0-9]{2})")


def _from_chinese(text: str, start: datetime) -> tuple[str, bool] | Refusal:
    """Rewrite a Chinese phrase into what dateparser reads (see the module's docstring)."""
    rest = text
    day_phrase = ""  # "tomorrow", "in 2 days", "December 30", "2026-12-11"
    weekday: tuple[str, int] | None = None
    period: str | None = None
    relative = ""
    if "周末" in rest:
        return Refusal(Reason.AMBIGUOUS)
    if "元旦" in rest:
        day_phrase, rest = "January 1", rest.replace("元旦", " ", 1)
    if match := _YMD.search(rest):
        year, month, day = (int(part) for part in match.groups())
        day_phrase = f"{year:04d}-{month:02d}-{day:02d}"
        rest = rest.replace(match[0], " ", 1)
    elif match := _MD.search(rest):
        if match[4]:  # 下个月3号
            next_month, month_text, day_text = True, None, match[5]
        else:
            next_month, month_text, day_text = bool(match[1]), match[2], match[3]
        day_number = _number(day_text)
        if day_number is None:
            return Refusal(Reason.NOT_UNDERSTOOD)
        if next_month and month_text is None:
            year, month = (
                (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
            )
            day_phrase = f"{year:04d}-{month:02d}-{day_number:02d}"
        else:
            month_number = _number(month_text or "")
            if month_number is None or not 1 <= month_number <= 12:
                return Refusal(Reason.NOT_UNDERSTOOD)
            day_phrase = f"{_MONTHS[month_number - 1]} {day_number}"
        rest = rest.replace(match[0], " ", 1)
    elif match := _BARE_DAY.search(rest):  # 30号: this month's, or next month's once past
        day_number = _number(match[1])
        if day_number is None:
            return Refusal(Reason.NOT_UNDERSTOOD)
        year, month = start.year, start.month
        if day_number < start.day:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        day_phrase = f"{year:04d}-{month:02d}-{day_number:02d}"
        rest = rest.replace(match[0], " ", 1)
    if match := _WEEKDAY.search(rest):
        which = match[2]
        number = int(which) - 1 if which.isdecimal() else _WEEKDAYS[which]
        weekday = ((match[1] or "").replace("个", ""), number)
        rest = rest.replace(match[0], " ", 1)
    for word, (offset, implied) in _DAYS.items():
        if word in rest:
            day_phrase = ("today", "tomorrow", "in 2 days", "in 3 days")[offset]
            period = implied
            rest = rest.replace(word, " ", 1)
            break
    if match := _LATER.search(rest):
        amount = 0.5 if match[1] == "半" else _number(match[1])
        if amount is None:
            return Refusal(Reason.NOT_UNDERSTOOD)
        unit = {"天": "days", "小时": "hours", "钟头": "hours", "分钟": "minutes"}.get(
            match[3], "weeks"
        )
        if amount == 0.5:
            amount, unit = {"hours": (30, "minutes"), "days": (12, "hours")}.get(unit, (0, unit))
        relative = f"in {int(amount)} {unit}"
        rest = rest.replace(match[0], " ", 1)
    for word in _PERIODS:
        if word in rest:
            period = word
            rest = rest.replace(word, " ", 1)
            break
    else:
        for short, word in (("早", "早上"), ("晚", "晚上")):
            if short in rest:
                period, rest = word, rest.replace(short, " ", 1)
                break
    hour = minute = None
    if match := _COLON.search(rest):
        hour, minute = int(match[1]), int(match[2])
        rest = rest.replace(match[0], " ", 1)
    elif match := _HOUR.search(rest):
        hour = _number(match[1])
        if match[2]:
            minute = 30
        elif match[3]:
            minute = 15 if match[3] == "一刻" else 45
        else:
            minute = _number(match[4]) if match[4] else 0
        if hour is None or minute is None:
            return Refusal(Reason.NOT_UNDERSTOOD)
        rest = rest.replace(match[0], " ", 1)
    if _FILLER.sub("", rest).strip():
        return Refusal(Reason.NOT_UNDERSTOOD)  # words we do not read: never guess
    defaulted = False
    if hour is None and period is not None:
        default = _PERIODS[period][1]
        if default is None:
            return Refusal(Reason.NO_TIME)
        hour, minute, defaulted = default, 0, True
    elif hour is not None and period is not None:
        shift = _PERIODS[period][0]
        if shift == "pm" and hour == 12:
            return Refusal(Reason.AMBIGUOUS)  # 晚上12点: midnight which night?
        if (shift == "pm" and hour < 12) or (shift == "noon" and hour < 6):
            hour += 12
        if shift == "am" and hour == 12 and period == "凌晨":
            hour = 0
    clock = "" if hour is None else f"{hour:02d}:{minute or 0:02d}"
    if hour is not None and not (0 <= hour <= 23 and 0 <= (minute or 0) <= 59):
        return Refusal(Reason.NOT_UNDERSTOOD)
    if weekday is not None:
        if day_phrase:
            return Refusal(Reason.AMBIGUOUS)  # 明天周五: two days named
        day_phrase = _weekday_date(weekday, start, clock)
        if not day_phrase:
            return Refusal(Reason.NO_TIME)
    if relative:
        if day_phrase:
            return Refusal(Reason.AMBIGUOUS)
        day_phrase = relative
    phrase = " ".join(part for part in (day_phrase, clock) if part)
    if not phrase:
        return Refusal(Reason.NOT_UNDERSTOOD)
    return phrase, defaulted


def _weekday_date(weekday: tuple[str, int], start: datetime, clock: str) -> str:
    """The ISO date a weekday names: 周六 the next Saturday (today while the time is ahead),
    本周六 this week's (Monday to Sunday), 下周六 next week's, 下下周六 the week after."""
    which, number = weekday
    today = start.date()
    monday = today - timedelta(days=today.weekday())
    if which in ("本", "这"):
        on: date = monday + timedelta(days=number)
    elif which == "下":
        on = monday + timedelta(days=7 + number)
    elif which == "下下":
        on = monday + timedelta(days=14 + number)
    else:
        on = today + timedelta(days=(number - today.weekday()) % 7)
        if clock and on == today and datetime.combine(on, time.fromisoformat(clock)) <= start:
            on += timedelta(days=7)
    return on.isoformat()

"""The greeting calendar: real dates every year, lunar ones included, each once."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lunar_python import Solar

from storage import occasions
from storage.occasions import (
    BIRTHDAY,
    BUILTIN,
    CustomDate,
    Occurrence,
    birthday_in,
    birthdays_greeted_on,
    fixed_day,
    lunar_to_solar,
    next_occurrence,
    occasions_between,
    occasions_on,
    occurrences_in_year,
)

# Published dates (the State Council's holiday notices and the Chinese almanac).
KNOWN: dict[str, dict[int, str]] = {
    "spring_festival": {
        2024: "02-10", 2025: "01-29", 2026: "02-17", 2027: "02-06",
        2028: "01-26", 2029: "02-13", 2030: "02-03",
    },
    "lantern": {
        2024: "02-24", 2025: "02-12", 2026: "03-03", 2027: "02-20",
        2028: "02-09", 2029: "02-27", 2030: "02-17",
    },
    "qingming": {
        2024: "04-04", 2025: "04-04", 2026: "04-05", 2027: "04-05",
        2028: "04-04", 2029: "04-04", 2030: "04-05",
    },
    "dragon_boat": {
        2024: "06-10", 2025: "05-31", 2026: "06-19", 2027: "06-09",
        2028: "05-28", 2029: "06-16", 2030: "06-05",
    },
    "qixi": {
        2024: "08-10", 2025: "08-29", 2026: "08-19", 2027: "08-08",
        2028: "08-26", 2029: "08-16", 2030: "08-05",
    },
    "mid_autumn": {
        2024: "09-17", 2025: "10-06", 2026: "09-25", 2027: "09-15",
        2028: "10-03", 2029: "09-22", 2030: "09-12",
    },
    "double_ninth": {
        2024: "10-11", 2025: "10-29", 2026: "10-18", 2027: "10-08",
        2028: "10-26", 2029: "10-16", 2030: "10-05",
    },
    # Laba (12/8) of the lunar year before falls in January.
    "laba": {
        2024: "01-18", 2025: "01-07", 2026: "01-26", 2027: "01-15",
        2028: "01-04", 2029: "01-22", 2030: "01-11",
    },
    # 小年 (northern, lunar 12/23) of the lunar year before: always 15 days after
    # that Laba and 7 or 8 days before Spring Festival, as the almanac gives it.
    "xiaonian": {
        2024: "02-02", 2025: "01-22", 2026: "02-10", 2027: "01-30",
        2028: "01-19", 2029: "02-06", 2030: "01-26",
    },
    # 小年 (southern, lunar 12/24): the day after the northern one, every year.
    "xiaonian_south": {
        2024: "02-03", 2025: "01-23", 2026: "02-11", 2027: "01-31",
        2028: "01-20", 2029: "02-07", 2030: "01-27",
    },
    # 冬至 in China's time (the solstice falls on the evening of the 21st or the
    # morning of the 22nd, Beijing time).
    "winter_solstice": {
        2024: "12-21", 2025: "12-21", 2026: "12-22", 2027: "12-22",
        2028: "12-21", 2029: "12-21", 2030: "12-22",
    },
}  # fmt: skip
FIXED = {
    "new_year": "01-01",
    "womens_day": "03-08",
    "labour_day": "05-01",
    "youth_day": "05-04",
    "childrens_day": "06-01",
    "army_day": "08-01",
    "national_day": "10-01",
}
CALENDAR_CODES = {spec.code for spec in BUILTIN if spec.code != BIRTHDAY}
LUNAR_CODES = {spec.code for spec in BUILTIN if spec.lunar}
# The statutory days as the State Council has set them since 2008 (Qingming,
# Dragon Boat and Mid-Autumn became holidays that year).
MODERN = st.integers(min_value=2008, max_value=2099)


def by_code(year: int) -> dict[str, Occurrence]:
    """The year's occasions by code; only Laba may come twice (two lunar years)."""
    found = occurrences_in_year(year)
    twice = [code for code, n in Counter(o.code for o in found).items() if n > 1]
    assert set(twice) <= {"laba"}, f"{twice} twice in {year}"
    return {o.code: o for o in reversed(found)}


@pytest.mark.parametrize("year", range(2024, 2031))
def test_known_dates_2024_to_2030(year: int) -> None:
    found = by_code(year)
    for code, dates in KNOWN.items():
        assert found[code].day == date.fromisoformat(f"{year}-{dates[year]}"), code
    for code, month_day in FIXED.items():
        assert found[code].day == date.fromisoformat(f"{year}-{month_day}"), code
    assert set(found) == CALENDAR_CODES


def test_a_year_on_the_calendar_day_by_day() -> None:
    """Walking 2026 one day at a time meets each occasion exactly once, on its day."""
    seen: list[tuple[str, str]] = []
    day = date(2026, 1, 1)
    while day.year == 2026:
        seen += [(o.code, f"{o.day:%m-%d}") for o in occasions_on(day)]
        day += timedelta(days=1)
    assert seen == [
        ("new_year", "01-01"),
        ("laba", "01-26"),
        ("xiaonian", "02-10"),
        ("xiaonian_south", "02-11"),
        ("spring_festival", "02-17"),
        ("lantern", "03-03"),
        ("womens_day", "03-08"),
        ("qingming", "04-05"),
        ("labour_day", "05-01"),
        ("youth_day", "05-04"),
        ("childrens_day", "06-01"),
        ("dragon_boat", "06-19"),
        ("army_day", "08-01"),
        ("qixi", "08-19"),
        ("mid_autumn", "09-25"),
        ("national_day", "10-01"),
        ("double_ninth", "10-18"),
        ("winter_solstice", "12-22"),
    ]


@settings(max_examples=60, deadline=None)
@given(MODERN)
def test_every_year_has_each_statutory_greeting_once_on_its_first_day(year: int) -> None:
    found = by_code(year)
    statutory = {spec.code for spec in BUILTIN if spec.holiday_name}
    assert statutory <= set(found)
    # Multi-day holidays greet on the first day, never on an observed or swapped day.
    for code, month_day in FIXED.items():
        assert f"{found[code].day:%m-%d}" == month_day
    # The holidays package's lunar dates agree with lunar-python's, an independent table.
    assert found["spring_festival"].day == lunar_to_solar(year, 1, 1)
    assert found["dragon_boat"].day == lunar_to_solar(year, 5, 5)
    assert found["mid_autumn"].day == lunar_to_solar(year, 8, 15)
    assert found["qingming"].day.month == 4 and 4 <= found["qingming"].day.day <= 6


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1951, max_value=2099))
def test_every_lunar_year_has_each_lunar_day_once(lunar_year: int) -> None:
    """Laba can fall twice in one Gregorian year (2022), but once per lunar year."""
    found = [
        o
        for year in (lunar_year, lunar_year + 1)
        for o in occurrences_in_year(year)
        if o.code in LUNAR_CODES and o.year == lunar_year
    ]
    assert Counter(o.code for o in found) == dict.fromkeys(LUNAR_CODES, 1)
    for occurrence in found:
        lunar = Solar.fromYmd(*occurrence.day.timetuple()[:3]).getLunar()
        spec = occasions.SPECS[occurrence.code]
        assert (lunar.getYear(), lunar.getMonth(), lunar.getDay()) == (lunar_year, *spec.lunar)


def test_laba_twice_in_2022_with_distinct_keys() -> None:
    labas = [o for o in occurrences_in_year(2022) if o.code == "laba"]
    assert [(o.day.isoformat(), o.year) for o in labas] == [
        ("2022-01-10", 2021),
        ("2022-12-30", 2022),
    ]
    assert not [o for o in occurrences_in_year(2023) if o.code == "laba"]


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=2000, max_value=2098))
def test_keys_never_repeat_across_years(year: int) -> None:
    keys = [(o.code, o.year) for y in (year, year + 1) for o in occurrences_in_year(y)]
    assert len(keys) == len(set(keys))


@settings(max_examples=60, deadline=None)
@given(
    st.dates(min_value=date(2008, 1, 1), max_value=date(2099, 11, 1)),
    st.lists(
        st.tuples(st.integers(1, 12), st.integers(1, 31)).filter(
            lambda md: md[1] <= (29 if md[0] == 2 else 30 if md[0] in (4, 6, 9, 11) else 31)
        ),
        max_size=3,
    ),
)
def test_window_is_the_days_put_together(start: date, month_days: list[tuple[int, int]]) -> None:
    customs = [CustomDate(f"custom-{i}", m, d) for i, (m, d) in enumerate(month_days)]
    window = occasions_between(start, start + timedelta(days=30), customs)
    day_by_day = [o for n in range(30) for o in occasions_on(start + timedelta(days=n), customs)]
    assert window == day_by_day
    assert all(start <= o.day < start + timedelta(days=30) for o in window)


def test_custom_dates_every_year_and_feb_29() -> None:
    customs = [CustomDate("custom-a", 10, 18), CustomDate("custom-b", 2, 29)]
    assert [o for o in occasions_on(date(2026, 10, 18), customs) if o.code == "custom-a"]
    assert [o.code for o in occasions_on(date(2027, 2, 28), customs)] == ["custom-b"]
    assert [o.code for o in occasions_on(date(2028, 2, 29), customs)] == ["custom-b"]
    assert occasions_on(date(2028, 2, 28), customs) == []


def test_feb_29_birthday_is_greeted_on_feb_28_in_common_years() -> None:
    born = date(1988, 2, 29)
    assert birthday_in(2027, born) == date(2027, 2, 28)
    assert birthday_in(2028, born) == date(2028, 2, 29)
    assert birthdays_greeted_on(date(2027, 2, 28)) == [(2, 28), (2, 29)]
    assert birthdays_greeted_on(date(2028, 2, 28)) == [(2, 28)]
    assert birthdays_greeted_on(date(2028, 2, 29)) == [(2, 29)]
    assert fixed_day(2026, 3, 1) == date(2026, 3, 1)


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2010, 12, 31)), MODERN)
def test_each_birthday_greeted_once_a_year(born: date, year: int) -> None:
    greeted = [
        day
        for day in (date(year, 1, 1) + timedelta(days=n) for n in range(366))
        if day.year == year and (born.month, born.day) in birthdays_greeted_on(day)
    ]
    assert greeted == [birthday_in(year, born)]


def test_next_occurrence() -> None:
    assert next_occurrence("spring_festival", date(2026, 11, 24)) == Occurrence(
        date(2027, 2, 6), "spring_festival", 2027
    )
    assert next_occurrence("national_day", date(2026, 10, 1)).day == date(2026, 10, 1)
    assert next_occurrence("laba", date(2026, 2, 1)) == Occurrence(date(2027, 1, 15), "laba", 2026)
    assert next_occurrence("custom-x", date(2026, 1, 1)) is None


def test_outside_the_calendars_range_nothing_happens() -> None:
    assert occurrences_in_year(1900) == []
    assert occurrences_in_year(2200, [CustomDate("custom-a", 1, 1)]) == []


def test_the_winter_solstice_and_little_new_year_are_off_until_switched_on() -> None:
    off = {spec.code for spec in BUILTIN if not spec.default_enabled}
    assert off == {"winter_solstice", "xiaonian", "xiaonian_south"}
    # Little New Year is the northern 腊月廿三, of the lunar year ending at Spring Festival.
    assert occasions.SPECS["xiaonian"].lunar == (12, 23)
    (xiaonian,) = [o for o in occurrences_in_year(2027) if o.code == "xiaonian"]
    assert xiaonian == Occurrence(date(2027, 1, 30), "xiaonian", 2026)
    assert Solar.fromYmd(2027, 1, 30).getLunar().getDayInChinese() == "廿三"
    (solstice,) = [o for o in occurrences_in_year(2026) if o.code == "winter_solstice"]
    assert solstice == Occurrence(date(2026, 12, 22), "winter_solstice", 2026)
    assert Solar.fromYmd(2026, 12, 22).getLunar().getJieQi() == "冬至"


def test_little_new_year_north_and_south_from_the_lunar_calendar() -> None:
    """腊月廿三 in the north, 廿四 in the south: two occasions, each on its own day, of the
    lunar year that ends at that Spring Festival, and greeted as plain 小年 either way."""
    assert occasions.SPECS["xiaonian_south"].lunar == (12, 24)
    for year, north, south in (
        (2026, date(2026, 2, 10), date(2026, 2, 11)),
        (2027, date(2027, 1, 30), date(2027, 1, 31)),
        (2029, date(2029, 2, 6), date(2029, 2, 7)),
    ):
        found = by_code(year)
        assert found["xiaonian"] == Occurrence(north, "xiaonian", year - 1)
        assert found["xiaonian_south"] == Occurrence(south, "xiaonian_south", year - 1)
        for day, lunar_day in ((north, "廿三"), (south, "廿四")):
            lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
            assert (lunar.getMonthInChinese(), lunar.getDayInChinese()) == ("腊", lunar_day)
    assert next_occurrence("xiaonian_south", date(2026, 2, 11)) == Occurrence(
        date(2026, 2, 11), "xiaonian_south", 2025
    )
    assert next_occurrence("xiaonian_south", date(2026, 2, 12)) == Occurrence(
        date(2027, 1, 31), "xiaonian_south", 2026
    )

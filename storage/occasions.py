"""Which greeting occasions fall on which day: the calendar rules, pure and cached.

Three sources make the union's calendar:

* the ``holidays`` package's China calendar, for the statutory holidays (New
  Year, Spring Festival, Qingming, Labour Day, Dragon Boat, Mid-Autumn,
  National Day) and the special days it lists (Women's, Youth, Children's and
  Army Day). Its dates are the real ones of each year, lunar ones included;
* ``lunar-python`` (MIT licensed; ``lunardate`` was the other candidate but
  is GPL) for the traditional lunar days that calendar lacks: Lantern (1/15),
  Qixi (7/7), Double Ninth (9/9), Laba (12/8) and Little New Year (小年) as
  two occasions, the northern 腊月廿三 (12/23) and the southern 腊月廿四
  (12/24), and for the solar term of the Winter Solstice (冬至, 21 or 22
  December). 冬至 and both 小年 are off until an admin switches them on
  (``default_enabled``): a union keeps the one of its region, or both, each
  for the members tagged for it (a union with sites in north and south);
* admin-defined dates, fixed month and day every year (the union's founding day…).

Both packages are imported when a date is first asked of them, not with the bot:
together about 0.1 s of every start-up, for the greetings job's first run minutes later.

Birthdays are per member and live in `storage.greetings`; the rule for
29 February lives here (:func:`fixed_day`).

Rules:

* A multi-day holiday is greeted once, on its first day: National Day on
  1 October, not on the 2nd or 3rd; "observed" and swapped working days never
  count, and Spring Festival is greeted on lunar 1/1, not on New Year's Eve.
* Each occurrence has an *occasion year*, the ``year`` of the once-per-year
  outbox key. It is the Gregorian year of the date for solar days, and the
  lunar year for lunar days (小年 too): Laba (12/8) of lunar year Y falls in January of
  Y+1, or in some years late December of Y, so one Gregorian year can hold two
  Labas (or none) but every lunar year holds exactly one, and keys never clash.
* A date that does not exist in a year (29 February, for a birthday or a
  custom date) is greeted on 28 February in common years: still in the right
  month, and never skipped for three years out of four.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from core.i18n import N_

#: The occasion code of members' birthdays (not a calendar date of its own).
BIRTHDAY = "birthday"
#: Custom occasions have codes ``custom-<token>``.
CUSTOM_PREFIX = "custom-"
#: The years both calendars cover (the holidays package's China calendar and
#: the tables of lunar-python); outside them the calendar stays silent.
FIRST_YEAR = 1950
LAST_YEAR = 2100


class Source(enum.StrEnum):
    STATUTORY = "statutory"  # from the holidays package
    LUNAR = "lunar"  # from lunar-python
    SOLAR_TERM = "solar_term"  # from lunar-python's 24 solar terms (节气)
    BIRTHDAY = "birthday"
    CUSTOM = "custom"


@dataclass(frozen=True)
class OccasionSpec:
    """A built-in occasion: its code, name (msgid), where its date comes from, defaults."""

    code: str
    title: str
    source: Source
    holiday_name: str | None = None  # its name in the holidays package (en_US)
    # The name a greeting's {holiday} says, when the title says more (小年's region).
    greeting_name: str | None = None
    lunar: tuple[int, int] | None = None  # lunar (month, day)
    default_tag: str | None = None  # greet only members with this tag, unless changed
    solar_term: str | None = None  # the term's name in lunar-python (Chinese, e.g. 冬至)
    default_enabled: bool = True  # greeted unless an admin switches it off


BUILTIN: tuple[OccasionSpec, ...] = (
    OccasionSpec("new_year", N_("New Year's Day"), Source.STATUTORY, "New Year's Day"),
    OccasionSpec(
        "spring_festival",
        N_("Spring Festival"),
        Source.STATUTORY,
        "Chinese New Year (Spring Festival)",
    ),
    OccasionSpec("lantern", N_("Lantern Festival"), Source.LUNAR, lunar=(1, 15)),
    OccasionSpec(
        "womens_day",
        N_("International Women's Day"),
        Source.STATUTORY,
        "International Women's Day",
        default_tag="女职工",
    ),
    OccasionSpec("qingming", N_("Qingming Festival"), Source.STATUTORY, "Tomb-Sweeping Day"),
    OccasionSpec("labour_day", N_("Labour Day"), Source.STATUTORY, "Labor Day"),
    OccasionSpec("youth_day", N_("Youth Day"), Source.STATUTORY, "Youth Day"),
    OccasionSpec(
        "dragon_boat", N_("Dragon Boat Festival"), Source.STATUTORY, "Dragon Boat Festival"
    ),
    OccasionSpec("childrens_day", N_("Children's Day"), Source.STATUTORY, "Children's Day"),
    OccasionSpec("army_day", N_("Army Day"), Source.STATUTORY, "Army Day", default_tag="退役军人"),
    OccasionSpec("qixi", N_("Qixi Festival"), Source.LUNAR, lunar=(7, 7)),
    OccasionSpec("mid_autumn", N_("Mid-Autumn Festival"), Source.STATUTORY, "Mid-Autumn Festival"),
    OccasionSpec(
        "double_ninth",
        N_("Double Ninth Festival"),
        Source.LUNAR,
        lunar=(9, 9),
        default_tag="退休职工",
    ),
    OccasionSpec("national_day", N_("National Day"), Source.STATUTORY, "National Day"),
    OccasionSpec(
        "winter_solstice",
        N_("Winter Solstice"),
        Source.SOLAR_TERM,
        solar_term="冬至",
        default_enabled=False,
    ),
    OccasionSpec("laba", N_("Laba Festival"), Source.LUNAR, lunar=(12, 8)),
    # 小年 is 腊月廿三 in the north (and most calendars), 廿四 in the south: two
    # occasions, so each region's members can be greeted on their own day (by tag).
    OccasionSpec(
        "xiaonian",
        N_("Little New Year (north, 23rd of the 12th lunar month)"),
        Source.LUNAR,
        lunar=(12, 23),
        default_enabled=False,
        greeting_name=N_("Little New Year"),
    ),
    OccasionSpec(
        "xiaonian_south",
        N_("Little New Year (south, 24th of the 12th lunar month)"),
        Source.LUNAR,
        lunar=(12, 24),
        default_enabled=False,
        greeting_name=N_("Little New Year"),
    ),
    OccasionSpec(BIRTHDAY, N_("Birthday"), Source.BIRTHDAY),
)
SPECS: dict[str, OccasionSpec] = {spec.code: spec for spec in BUILTIN}
#: Occasions kept on different days by region (the two 小年): the card says so.
REGIONAL = frozenset(spec.code for spec in BUILTIN if spec.greeting_name is not None)
_BY_HOLIDAY_NAME = {spec.holiday_name: spec.code for spec in BUILTIN if spec.holiday_name}


@dataclass(frozen=True, order=True)
class Occurrence:
    """One occasion on one day; ``year`` is the occasion year of its once-per-year key."""

    day: date
    code: str
    year: int


@dataclass(frozen=True)
class CustomDate:
    """An admin-defined occasion: the same month and day every year."""

    code: str
    month: int
    day: int


def is_custom(code: str) -> bool:
    return code.startswith(CUSTOM_PREFIX)


def fixed_day(year: int, month: int, day: int) -> date:
    """The date of a yearly (month, day) in ``year``; 29 February is the 28th in common years."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def birthday_in(year: int, birthday: date) -> date:
    """The day a member born on ``birthday`` is greeted in ``year``."""
    return fixed_day(year, birthday.month, birthday.day)


def birthdays_greeted_on(day: date) -> list[tuple[int, int]]:
    """The (month, day) of the birthdays greeted on ``day``: 28 Feb takes 29 Feb in common years."""
    found = [(day.month, day.day)]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        found.append((2, 29))
    return found


def _in_range(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


@cache
def statutory_dates(year: int) -> dict[str, date]:
    """First day of each statutory or special day the holidays package lists in ``year``."""
    if not _in_range(year):
        return {}
    import holidays

    calendar_ = holidays.China(
        years=year, categories=(holidays.PUBLIC, holidays.HALF_DAY), language="en_US"
    )
    first: dict[str, date] = {}
    for day, names in sorted(calendar_.items()):
        # Two holidays on one day come as one name joined by "; " (Mid-Autumn on
        # National Day, 2020). "(observed)" and swapped days off never match.
        for name in str(names).split("; "):
            code = _BY_HOLIDAY_NAME.get(name)
            if code is not None and code not in first:
                first[code] = day
    return first


def lunar_to_solar(lunar_year: int, month: int, day: int) -> date:
    """The Gregorian date of a (non-leap) lunar month and day."""
    from lunar_python import Lunar

    solar = Lunar.fromYmd(lunar_year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


@cache
def lunar_occurrences(year: int) -> tuple[Occurrence, ...]:
    """The lunar days (Lantern, Qixi, Double Ninth, Laba, both 小年) dated in ``year``."""
    if not _in_range(year):
        return ()
    found: list[Occurrence] = []
    for spec in BUILTIN:
        if spec.lunar is None:
            continue
        # Lunar year Y runs from late January/February of Y into early next
        # year, so the days dated in `year` belong to lunar year `year - 1` or `year`.
        for lunar_year in (year - 1, year):
            day = lunar_to_solar(lunar_year, *spec.lunar)
            if day.year == year:
                found.append(Occurrence(day, spec.code, lunar_year))
    return tuple(sorted(found))


@cache
def solar_term_dates(year: int) -> dict[str, date]:
    """The date in ``year`` (China's time, as lunar-python reckons) of each solar term by name."""
    if not _in_range(year):
        return {}
    from lunar_python import Solar

    found: dict[str, date] = {}
    # A lunar year's table runs from the previous winter into the next one: the
    # tables around mid-January and mid-December hold every term of ``year``.
    for month in (1, 12):
        table = Solar.fromYmd(year, month, 15).getLunar().getJieQiTable()
        for solar in table.values():
            name = solar.getLunar().getJieQi()  # the table's keys mix Chinese and pinyin
            if name and solar.getYear() == year:
                found[name] = date(solar.getYear(), solar.getMonth(), solar.getDay())
    return found


def solar_term_occurrences(year: int) -> list[Occurrence]:
    """The solar-term occasions (冬至) dated in ``year``; their occasion year is ``year``."""
    terms = solar_term_dates(year)
    return [
        Occurrence(terms[spec.solar_term], spec.code, year)
        for spec in BUILTIN
        if spec.solar_term is not None and spec.solar_term in terms
    ]


def occurrences_in_year(year: int, customs: Iterable[CustomDate] = ()) -> list[Occurrence]:
    """Every calendar occasion dated in ``year`` (birthdays aside), in date order."""
    found = [Occurrence(day, code, year) for code, day in statutory_dates(year).items()]
    found += lunar_occurrences(year)
    found += solar_term_occurrences(year)
    if _in_range(year):
        found += [Occurrence(fixed_day(year, c.month, c.day), c.code, year) for c in customs]
    return sorted(found)


def occasions_between(
    start: date, end: date, customs: Iterable[CustomDate] = ()
) -> list[Occurrence]:
    """Occasions dated in [start, end), in date order (birthdays aside)."""
    customs = tuple(customs)
    found: list[Occurrence] = []
    for year in range(start.year, end.year + 1):
        found += [o for o in occurrences_in_year(year, customs) if start <= o.day < end]
    return found


def occasions_on(day: date, customs: Iterable[CustomDate] = ()) -> list[Occurrence]:
    """Occasions dated on ``day`` (birthdays aside)."""
    return occasions_between(day, day + timedelta(days=1), customs)


def next_occurrence(
    code: str, today: date, customs: Iterable[CustomDate] = ()
) -> Occurrence | None:
    """The first occurrence of ``code`` on or after ``today`` (within about a year)."""
    customs = tuple(customs)
    for year in (today.year, today.year + 1, today.year + 2):
        for occurrence in occurrences_in_year(year, customs):
            if occurrence.code == code and occurrence.day >= today:
                return occurrence
    return None

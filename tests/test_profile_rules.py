"""The rules for names, departments, tags and birthdays, by example and by property."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.profile_rules import (
    MAX_AGE,
    MIN_AGE,
    NAME_MAX,
    InvalidInput,
    clean_name,
    clean_tag,
    parse_birthday,
)

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1990-05-03", date(1990, 5, 3)),
        ("1990/5/3", date(1990, 5, 3)),
        ("1990.05.03", date(1990, 5, 3)),
        ("1990年5月3日", date(1990, 5, 3)),
        ("1990年05月03号", date(1990, 5, 3)),
        ("19900503", date(1990, 5, 3)),
        ("２０００－０２－２９", date(2000, 2, 29)),  # full-width digits from a Chinese keyboard
        (" 1990 - 05 - 03 ", date(1990, 5, 3)),
    ],
)
def test_birthday_spellings(text: str, expected: date) -> None:
    assert parse_birthday(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("May 3rd", "format"),
        ("03-05-1990", "format"),
        ("2001-02-29", "no_such_date"),
        ("1990-13-01", "no_such_date"),
        ("2027-01-01", "future"),
        ("2020-01-01", "implausible"),
        ("1800-01-01", "implausible"),
    ],
)
def test_birthday_refusals(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_birthday(text, TODAY)
    assert caught.value.code == code


@given(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
def test_any_real_date_round_trips_or_is_refused_for_age(born: date) -> None:
    age = TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))
    if MIN_AGE <= age <= MAX_AGE:
        assert parse_birthday(born.isoformat(), TODAY) == born
    else:
        with pytest.raises(InvalidInput):
            parse_birthday(born.isoformat(), TODAY)


def test_leap_day_birthday_accepted() -> None:
    assert parse_birthday("1996-02-29", TODAY) == date(1996, 2, 29)
    assert parse_birthday("1996-02-29", TODAY + timedelta(days=365)) == date(1996, 2, 29)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("  王   小明 ", "王 小明"), ("Li\nLei", "Li Lei"), ("👩‍🔧 Ana", "👩‍🔧 Ana")],
)
def test_names_are_tidied(text: str, expected: str) -> None:
    assert clean_name(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * (NAME_MAX + 1), "too_long"),
        ("a\x00b", "control"),
        ("a\u202eb", "control"),
        ("/start", "command"),
    ],
)
def test_name_refusals(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_name(text)
    assert caught.value.code == code


@given(st.text(max_size=200))
def test_clean_name_never_returns_something_unsafe(text: str) -> None:
    try:
        name = clean_name(text)
    except InvalidInput:
        return
    assert 0 < len(name) <= NAME_MAX
    assert name == name.strip()
    assert "  " not in name and "\n" not in name


def test_tags() -> None:
    assert clean_tag(" New Hire ") == "new-hire"
    assert clean_tag("退休") == "退休"
    with pytest.raises(InvalidInput):
        clean_tag("a,b!")

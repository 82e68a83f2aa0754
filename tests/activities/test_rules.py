"""The pure rules of seats, waitlist, reminders and time input (hypothesis and examples)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.i18n import translator
from display.activities import moment
from storage import enrolment_rules as rules
from storage.profile_rules import InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")
queues = st.lists(st.integers(min_value=1, max_value=2), max_size=30).map(
    lambda seats: list(enumerate(seats, start=1))
)


@given(st.one_of(st.none(), st.integers(1, 40)), st.integers(0, 40), queues)
def test_promotion_takes_the_head_of_the_line_while_it_fits(
    capacity: int | None, taken: int, queue: list[tuple[int, int]]
) -> None:
    if capacity is not None:
        taken = min(taken, capacity)
    chosen = rules.promotions(capacity, taken, queue)
    # A prefix of the line: nobody is overtaken.
    assert chosen == [item for item, _ in queue[: len(chosen)]]
    seats = dict(queue)
    if capacity is None:
        assert len(chosen) == len(queue)
        return
    used = taken + sum(seats[i] for i in chosen)
    assert used <= capacity
    if len(chosen) < len(queue):
        # The next in line would not fit: the seats are not wasted by stopping early.
        assert used + queue[len(chosen)][1] > capacity


@given(st.integers(1, 10), st.lists(st.sampled_from(["join", "leave"]), max_size=60))
def test_a_freed_seat_is_given_once_and_capacity_holds(capacity: int, moves: list[str]) -> None:
    """A model of the service: joins and leaves in any order, promotions by the rule."""
    seated: list[int] = []
    line: list[int] = []
    promoted: list[int] = []
    next_id = 1
    for move in moves:
        if move == "join":
            line.append(next_id)
            next_id += 1
        elif seated:
            seated.pop(0)
        for item in rules.promotions(capacity, len(seated), [(i, 1) for i in line]):
            line.remove(item)
            seated.append(item)
            promoted.append(item)
        assert len(seated) <= capacity
        assert not line or len(seated) == capacity  # nobody waits while a seat is free
    assert len(promoted) == len(set(promoted))  # each member moved up at most once
    assert promoted == sorted(promoted)  # in the order they asked


OFFSETS = st.lists(st.integers(1, 3 * 24 * 60), min_size=1, max_size=4, unique=True)


@given(OFFSETS, st.lists(st.integers(0, 5 * 24 * 60), min_size=1, max_size=40))
def test_reminders_never_after_the_start_and_only_the_nearest(
    offsets: list[int], run_minutes: list[int]
) -> None:
    start = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
    sent: set[int] = set()
    for minute in sorted(run_minutes):
        now = start - timedelta(minutes=5 * 24 * 60) + timedelta(minutes=minute)
        offset = rules.due_offset(start, offsets, now)
        if offset is None:
            assert now >= start or all(start - timedelta(minutes=o) > now for o in offsets)
            continue
        assert now < start and start - timedelta(minutes=offset) <= now
        assert all(start - timedelta(minutes=o) > now for o in offsets if o < offset)
        sent.add(offset)  # the marks make a repeat of the same offset a no-op
    assert sent <= set(offsets)


def test_a_job_running_every_minute_sends_every_reminder() -> None:
    start = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
    seen = {
        rules.due_offset(start, [1440, 60], start - timedelta(minutes=m)) for m in range(0, 2000)
    }
    assert seen == {None, 1440, 60}


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31)))
def test_typed_times_read_back_as_written(value: datetime) -> None:
    value = value.replace(second=0, microsecond=0)
    today = value.date() - timedelta(days=3)
    for text in (
        f"{value:%Y-%m-%d %H:%M}",
        f"{value.year}年{value.month}月{value.day}日 {value.hour}:{value.minute:02d}",
        f"{value.year}/{value.month}/{value.day} {value.hour}：{value.minute:02d}",
    ):
        assert rules.parse_local_datetime(text, today).value == value


@given(
    st.datetimes(
        min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    )
)
def test_times_stored_in_utc_are_shown_in_the_union_s_zone(value: datetime) -> None:
    shown = moment(translator("en"), SHANGHAI, value)
    local = value.astimezone(SHANGHAI)
    assert shown.startswith(local.date().isoformat()) and shown.endswith(local.strftime("%H:%M"))
    typed = rules.parse_local_datetime(f"{local:%Y-%m-%d %H:%M}", local.date())
    assert rules.to_utc(typed, SHANGHAI) == value.replace(second=0, microsecond=0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12月5日 14:00", datetime(2026, 12, 5, 14, 0)),
        ("12-5 9点", datetime(2026, 12, 5, 9, 0)),
        ("3月1日 8:30", datetime(2027, 3, 1, 8, 30)),  # no year: the next 1 March
        ("2026-12-05T14:00", datetime(2026, 12, 5, 14, 0)),
    ],
)
def test_short_forms(text: str, expected: datetime) -> None:
    assert rules.parse_local_datetime(text, date(2026, 11, 24)).value == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [("明天下午", "format"), ("2026-02-30 10:00", "no_such_date"), ("25:00", "format")],
)
def test_bad_times(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        rules.parse_local_datetime(text, date(2026, 11, 24))
    assert error.value.code == code


def test_end_as_a_time_of_the_start_day() -> None:
    assert rules.parse_local_datetime("16:30", date(2026, 11, 24), day=date(2026, 12, 5)).value == (
        datetime(2026, 12, 5, 16, 30)
    )


@pytest.mark.parametrize(("text", "value"), [("20", 20), ("２０", 20), (" 1 ", 1)])
def test_capacity(text: str, value: int) -> None:
    assert rules.parse_capacity(text) == value


@pytest.mark.parametrize("text", ["0", "-3", "二十", "100001", "1.5", "2²", "9" * 40])
def test_bad_capacity(text: str) -> None:
    with pytest.raises(InvalidInput):
        rules.parse_capacity(text)


def test_schedule_checks() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    start, end = now + timedelta(days=2), now + timedelta(days=2, hours=2)
    assert rules.check_schedule(start, end, start, now) is None
    assert rules.check_schedule(now, end, now, now) == "start_past"
    assert rules.check_schedule(start, start, start, now) == "end_before_start"
    assert rules.check_schedule(start, end, end, now) == "deadline_after_start"
    assert rules.check_schedule(start, end, now, now) == "deadline_past"


@pytest.mark.parametrize(
    ("required", "sessions", "attended", "done"),
    [
        (None, 3, 3, True),
        (None, 3, 2, False),
        (2, 3, 2, True),
        (5, 3, 3, True),
        (None, 0, 0, False),
    ],
)
def test_completion(required: int | None, sessions: int, attended: int, done: bool) -> None:
    assert rules.completed(required, sessions, attended) is done


def test_descriptions_keep_their_lines_but_not_control_characters() -> None:
    assert rules.clean_text("  第一行 \n\n\n\n第二行  ") == "第一行\n\n第二行"
    with pytest.raises(InvalidInput):
        rules.clean_text("坏\x00字符")
    assert rules.clean_link("https://meeting.example.org/x") == "https://meeting.example.org/x"
    assert rules.clean_link("二号培训室") is None

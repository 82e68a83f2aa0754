"""What admins may set, the safety rule, mute lengths, stars, and the drafts kept between steps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import conversations as store
from storage import grievance_rules as rules
from storage.grievance_rules import (
    NotOffered,
    RatingRefused,
    SettingProblem,
    SettingRefused,
    Urgency,
)
from storage.grievances import Attachment, GrievanceDraft
from storage.models import GrievanceCategory
from storage.models import GrievanceStatus as Status

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def problem(read: Callable[[str], object], typed: str) -> SettingProblem:
    with pytest.raises(SettingRefused) as refused:
        read(typed)
    return refused.value.problem


def test_deadlines_are_two_ordered_hours_up_to_thirty_days() -> None:
    assert rules.read_deadlines("24 72") == (24, 72)
    assert rules.read_deadlines("4，4") == (4, 4)
    assert rules.read_deadlines("1, 720") == (1, 720)
    for typed in ("72 24", "0 5", "24 721", "24", "24 48 72", "a b", ""):
        assert problem(rules.read_deadlines, typed) is SettingProblem.DEADLINES


@given(st.integers(-1000, 1000), st.integers(-1000, 1000))
def test_deadlines_taken_exactly_when_in_range(take: int, answer: int) -> None:
    allowed = 1 <= take <= answer <= 720
    try:
        rules.check_deadlines(take, answer)
    except SettingRefused:
        assert not allowed
    else:
        assert allowed


def test_a_group_is_a_negative_id_or_a_dash() -> None:
    assert rules.read_group("-1001234567890") == -1001234567890
    assert rules.read_group(" - ") is None and rules.read_group("—") is None
    for typed in ("1001234567890", "0", "-1 -2", "group", ""):
        assert problem(rules.read_group, typed) is SettingProblem.GROUP_ID


def test_the_daily_limit_is_one_to_fifty() -> None:
    assert rules.read_daily_limit("1") == 1 and rules.read_daily_limit("50") == 50
    for typed in ("0", "51", "-3", "3 4", "three"):
        assert problem(rules.read_daily_limit, typed) is SettingProblem.DAILY_LIMIT


def test_only_urgent_safety_cases_go_upstairs_on_arrival_and_only_if_there_is_one() -> None:
    assert rules.escalates_on_arrival(always_urgent=True, urgency=Urgency.URGENT, upstairs=True)
    assert not rules.escalates_on_arrival(
        always_urgent=True, urgency=Urgency.URGENT, upstairs=False
    )
    assert not rules.escalates_on_arrival(
        always_urgent=False, urgency=Urgency.URGENT, upstairs=True
    )


def test_mutes_last_only_as_long_as_the_card_offers() -> None:
    assert rules.mute_until(NOW, 7) == NOW + timedelta(days=7)
    for days in (0, 2, 365, -1):
        with pytest.raises(NotOffered):
            rules.mute_until(NOW, days)


def test_stars_once_for_a_finished_case() -> None:
    rules.check_stars(5, status=Status.RESOLVED, rated=False)
    with pytest.raises(RatingRefused) as refused:
        rules.check_stars(5, status=Status.RESOLVED, rated=True)
    assert refused.value.already_rated
    for stars, status in ((6, Status.CLOSED), (0, Status.CLOSED), (3, Status.TAKEN)):
        with pytest.raises(RatingRefused) as refused:
            rules.check_stars(stars, status=status, rated=False)
        assert not refused.value.already_rated


def test_an_always_urgent_category_decides_the_draft_urgency() -> None:
    draft = GrievanceDraft()
    assert draft.choose(GrievanceCategory(id=2, always_urgent=True))
    assert draft.urgency is Urgency.URGENT
    assert not GrievanceDraft().choose(GrievanceCategory(id=1, always_urgent=False))


def test_a_grievance_draft_comes_back_typed_with_its_files() -> None:
    draft = GrievanceDraft(choices={"💰 工资": 1}, category_id=1, urgency=Urgency.NORMAL)
    draft.describe("更衣室的锁坏了", "ref")
    draft.files.append(Attachment("photo", "file-1", "门锁", "ref-1"))
    back = store.loads(store.dumps({"draft_grievance": draft}))["draft_grievance"]
    assert back == draft and back.complete
    assert back.urgency is Urgency.NORMAL and isinstance(back.files[0], Attachment)
    assert not GrievanceDraft(category_id=1).complete


@given(st.text(max_size=12))
def test_typed_numbers_never_crash_and_take_only_whole_numbers(typed: str) -> None:
    numbers = rules.typed_numbers(typed)
    assert all(isinstance(n, int) for n in numbers)


def test_typed_numbers_read_full_width_digits_and_refuse_superscripts() -> None:
    assert rules.typed_numbers("２４，７２") == [24, 72]
    assert rules.typed_numbers("2²") == []

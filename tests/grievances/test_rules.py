"""The pure rules and the sealing, directly and with hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import grievance_rules as rules
from storage.grievance_rules import CadreAction, Escalation, MemberAction, Refusal, Urgency
from storage.grievances import Sealer
from storage.models import Grievance, GrievanceMessage
from storage.models import GrievanceStatus as Status
from storage.profile_rules import InvalidInput
from tests.support.config import SECRET

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@given(st.integers(min_value=0, max_value=2**32))
def test_codes_are_well_formed_and_found_again(seed: int) -> None:
    digits = iter(range(seed, seed + 10))
    code = rules.new_code(randbelow=lambda n: next(digits) % n)
    assert rules.find_code(f"📝 {code} · 工资") == code
    assert rules.parse_code(code.lower()) == code
    assert rules.parse_code(code.replace("-", " ")) == code
    assert not set(code[2:]) & set("01IO")


def test_codes_in_text_and_typed_badly() -> None:
    assert rules.find_code("no code here G-12") is None
    assert rules.parse_code("G-0O1I") is None
    assert rules.parse_code("hello") is None


@given(
    st.integers(min_value=-5, max_value=1000),
    st.integers(min_value=-5, max_value=1000),
    st.sampled_from(list(Urgency)),
)
def test_deadlines_are_ordered_and_urgent_is_sooner(
    take: int, answer: int, urgency: Urgency
) -> None:
    take_due, answer_due = rules.deadlines(NOW, take, answer, urgency)
    assert NOW < take_due <= answer_due
    normal = rules.deadlines(NOW, take, answer, Urgency.NORMAL)
    assert take_due <= normal[0] and answer_due <= normal[1]


@given(
    st.sampled_from(list(Status)),
    st.integers(min_value=-100, max_value=100),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_each_deadline_escalates_once_and_only_open_cases(
    status: Status, hours: int, answered: bool, take_breached: bool, answer_breached: bool
) -> None:
    now = NOW + timedelta(hours=hours)
    missed = rules.overdue(
        status=status,
        now=now,
        take_due=NOW,
        answer_due=NOW + timedelta(hours=10),
        answered=answered,
        take_breached=take_breached,
        answer_breached=answer_breached,
    )
    assert len(missed) == len(set(missed))
    if status not in rules.OPEN or hours < 0:
        assert missed == []
    if Escalation.TAKE in missed:
        assert status is Status.NEW and not take_breached
    if Escalation.ANSWER in missed:
        assert not answered and not answer_breached and hours >= 10


def test_who_may_do_what() -> None:
    assert rules.cadre_may(CadreAction.TAKE, Status.NEW, muted=False, escalated=False)
    assert not rules.cadre_may(CadreAction.TAKE, Status.TAKEN, muted=False, escalated=False)
    assert not rules.cadre_may(CadreAction.RESOLVE, Status.CLOSED, muted=False, escalated=False)
    assert not rules.cadre_may(CadreAction.ESCALATE, Status.TAKEN, muted=False, escalated=True)
    assert rules.cadre_may(CadreAction.UNMUTE, Status.RESOLVED, muted=True, escalated=False)
    assert rules.member_may(MemberAction.RATE, Status.RESOLVED, rated=False, signed=False)
    assert not rules.member_may(MemberAction.RATE, Status.RESOLVED, rated=True, signed=False)
    assert not rules.member_may(MemberAction.SIGN, Status.TAKEN, rated=False, signed=True)
    assert not rules.member_may(MemberAction.ADD, Status.CLOSED, rated=False, signed=False)


def test_opening_refusals() -> None:
    later = NOW + timedelta(days=1)
    assert rules.opening_refusal(today=0, limit=3, muted_until=later, now=NOW) is Refusal.MUTED
    assert rules.opening_refusal(today=3, limit=3, muted_until=NOW, now=NOW) is Refusal.LIMIT
    assert rules.opening_refusal(today=2, limit=3, muted_until=None, now=NOW) is None


def test_day_start_is_the_unions_midnight() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    start = rules.day_start(datetime(2026, 11, 24, 17, 0, tzinfo=UTC), tz)
    assert start.astimezone(UTC) == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


def test_retention_waits_for_the_period_and_the_mute() -> None:
    finished = NOW - timedelta(days=91)
    assert rules.link_expired(finished_at=finished, muted_until=None, now=NOW, days=90)
    assert not rules.link_expired(finished_at=NOW, muted_until=None, now=NOW, days=90)
    assert not rules.link_expired(finished_at=None, muted_until=None, now=NOW, days=90)
    muted = NOW + timedelta(days=1)
    assert not rules.link_expired(finished_at=finished, muted_until=muted, now=NOW, days=90)


def test_the_link_is_sealed_randomly_and_bound_to_its_case() -> None:
    sealer = Sealer(SECRET)
    first = Grievance(code="G-AAAA", link=sealer.seal_link("G-AAAA", 42))
    again = Grievance(code="G-AAAA", link=sealer.seal_link("G-AAAA", 42))
    assert first.link != again.link and "42" not in (first.link or "")
    assert sealer.open_link(first) == 42
    moved = Grievance(code="G-BBBB", link=first.link)
    assert sealer.open_link(moved) is None  # copied to another case: does not open
    assert Sealer("another-secret-key-0123456789abcdef0123").open_link(first) is None
    message = GrievanceMessage(seq=2, body=sealer.seal("G-AAAA", "message:2", "秘密"))
    assert sealer.body(first, message) == "秘密"
    assert sealer.member_key(1, "taken") != sealer.member_key(2, "taken")
    assert "1" not in sealer.member_key(1, "taken").split(":", 1)[0]


@given(
    st.lists(st.integers(min_value=0, max_value=7200), max_size=40),
    st.integers(min_value=1, max_value=25),
)
def test_additions_are_limited_over_a_sliding_hour(offsets: list[int], per_hour: int) -> None:
    """Following the rule never puts more than ``per_hour`` additions in any hour."""
    accepted: list[datetime] = []
    for offset in sorted(offsets):
        moment = NOW + timedelta(seconds=offset)
        allowed_at = rules.next_addition_at(accepted, moment, per_hour)
        if allowed_at is None:
            accepted.append(moment)
        else:
            assert allowed_at > moment
            # At the moment given, the addition is allowed.
            assert rules.next_addition_at(accepted, allowed_at, per_hour) is None
    for start in accepted:
        window = [t for t in accepted if start <= t < start + rules.ADDITION_WINDOW]
        assert len(window) <= per_hour


def test_the_hourly_limit_names_when_to_write_again() -> None:
    sent = [NOW + timedelta(minutes=m) for m in (1, 2, 3)]
    later = NOW + timedelta(minutes=4)
    assert rules.next_addition_at(sent, later, 3) == NOW + timedelta(minutes=61)
    assert rules.next_addition_at(sent, later, 4) is None
    assert rules.next_addition_at(sent, NOW + timedelta(minutes=61), 3) is None


def test_text_rules() -> None:
    assert rules.clean_text("  第一行\r\n\r\n\r\n第二行 ", 100) == "第一行\n\n第二行"
    for bad, code in (("", "empty"), ("a\x00b", "control"), ("长" * 11, "too_long")):
        with pytest.raises(InvalidInput) as error:
            rules.clean_text(bad, 10)
        assert error.value.code == code


def _reopen(
    status: Status = Status.RESOLVED,
    *,
    ago: timedelta = timedelta(days=1),
    reopened: int = 0,
    retention: int = 90,
) -> rules.ReopenRefusal | None:
    return rules.reopen_refusal(
        status=status,
        finished_at=NOW - ago,
        reopened=reopened,
        now=NOW,
        retention_days=retention,
    )


def test_reopen_only_a_resolved_case_within_14_days_at_most_twice() -> None:
    assert _reopen() is None
    assert _reopen(ago=timedelta(days=14) - timedelta(seconds=1)) is None
    assert _reopen(ago=timedelta(days=14)) is rules.ReopenRefusal.TOO_LATE
    for status in (Status.NEW, Status.TAKEN, Status.ANSWERED, Status.CLOSED):
        assert _reopen(status) is rules.ReopenRefusal.NOT_RESOLVED
    assert _reopen(reopened=1) is None
    assert _reopen(reopened=rules.REOPEN_LIMIT) is rules.ReopenRefusal.LIMIT
    assert rules.member_may(MemberAction.REOPEN, Status.RESOLVED, rated=True, signed=False)


def test_the_reopen_window_ends_before_the_link_is_destroyed() -> None:
    assert rules.reopen_days(90) == rules.REOPEN_DAYS == 14
    assert rules.reopen_days(15) == 14
    assert rules.reopen_days(7) == 6  # a day before retention destroys the link
    assert rules.reopen_days(1) == 0
    assert _reopen(ago=timedelta(days=6), retention=7) is rules.ReopenRefusal.TOO_LATE
    assert _reopen(ago=timedelta(days=5), retention=7) is None
    assert _reopen(ago=timedelta(hours=1), retention=1) is rules.ReopenRefusal.TOO_LATE
    # Within the window, retention has not yet come for the link.
    for days in (1, 2, 7, 14, 15, 90):
        window = timedelta(days=rules.reopen_days(days))
        assert not rules.link_expired(
            finished_at=NOW - window, muted_until=None, now=NOW, days=days
        )


def test_a_later_deadline_rearms_a_breach() -> None:
    assert not rules.breached(None, NOW)
    assert rules.breached(NOW, NOW) and rules.breached(NOW + timedelta(hours=1), NOW)
    assert not rules.breached(NOW - timedelta(days=3), NOW)  # breached an earlier deadline

"""Training services: courses with sessions, enrolment with optional approval, attendance,
ratings.

Capacity and the waitlist are the course's (one seat per enrolled member, via
`storage.seating`, the same locked rules as activities); reminders and
attendance are per session. A member completes a course by attending its
required sessions; hours are the attended sessions' lengths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import drafts
from storage import enrolment_rules as rules
from storage import offerings, ratings, seating
from storage.enrolment_rules import Refusal
from storage.members import NotFound, Page
from storage.models import (
    Department,
    Member,
    OfferingStatus,
    SignupStatus,
    Training,
    TrainingAttendance,
    TrainingEnrolment,
    TrainingRating,
    TrainingSession,
)
from storage.offerings import Incomplete, Refused
from storage.profile_rules import InvalidInput

BOOK = seating.TRAININGS
PER_PAGE = 6
LISTED_AT_MOST = 300
RECENT = timedelta(days=90)


MAX_SESSIONS = 20


@drafts.draft("training-session")
@dataclass
class SessionDraft:
    starts_at: datetime
    ends_at: datetime
    place: str = ""
    online_link: str | None = None


@drafts.draft("training")
@dataclass
class TrainingDraft:
    """A course as :func:`create` takes it, and the editor's answers while it is built.

    Kept between the editor's steps (`core.drafts`). The session being asked
    for waits in ``next_start`` / ``next_end`` until its place is known. The
    setters apply the rules and raise `ScheduleRefused` (or InvalidInput)
    rather than keep an answer that cannot hold, so the editor only asks.
    """

    title: str = ""
    description: str = ""
    capacity: int | None = None
    signup_deadline: datetime | None = None
    needs_approval: bool = False
    required_sessions: int | None = None
    sessions: list[SessionDraft] = field(default_factory=list)
    next_start: datetime | None = None
    next_end: datetime | None = None

    @property
    def may_add_session(self) -> bool:
        return len(self.sessions) < MAX_SESSIONS

    @property
    def first_start(self) -> datetime:
        if not self.sessions:
            raise Incomplete("sessions")
        return min(s.starts_at for s in self.sessions)

    def set_session_start(self, start: datetime, now: datetime) -> None:
        rules.require(rules.check_start(start, now))
        self.next_start, self.next_end = start, None

    def set_session_end(self, end: datetime) -> None:
        if self.next_start is None:
            raise Incomplete("session start")
        rules.require(rules.check_end(self.next_start, end))
        self.next_end = end

    def add_session(self, where: str) -> int:
        """The session asked for, at a place or (a link) online; returns how many there are."""
        if self.next_start is None or self.next_end is None:
            raise Incomplete("session times")
        link = rules.clean_link(where)
        place = "" if link is not None else rules.clean_title(where, rules.PLACE_MAX)
        self.sessions.append(SessionDraft(self.next_start, self.next_end, place, link))
        self.next_start = self.next_end = None
        return len(self.sessions)

    def set_deadline(self, deadline: datetime, now: datetime) -> None:
        rules.require(rules.check_deadline(self.first_start, deadline, now))
        self.signup_deadline = deadline

    def set_required(self, required: int | None) -> None:
        """How many sessions complete the course (None, or all of them: every one)."""
        count = len(self.sessions)
        if required is not None and not 1 <= required <= count:
            raise InvalidInput("range")
        self.required_sessions = None if required == count else required


@dataclass(frozen=True)
class Enrolled:
    """Where a member stands after asking to enrol."""

    enrolment: TrainingEnrolment
    position: int | None
    already: bool
    promoted: list[TrainingEnrolment]


@dataclass(frozen=True)
class HistoryLine:
    training: Training
    status: str
    position: int | None
    sessions: int
    attended: int
    hours: float
    completed: bool
    reject_reason: str | None


@dataclass(frozen=True)
class EnrolmentLine:
    enrolment_id: int
    member_id: int
    name: str
    department: str
    requested_at: datetime
    status: str
    position: int | None
    attended: int
    hours: float
    completed: bool
    reject_reason: str | None


def _enrolments(rows: list[seating.Signup]) -> list[TrainingEnrolment]:
    return [row for row in rows if isinstance(row, TrainingEnrolment)]


# Reading ------------------------------------------------------------------------------


async def get(session: AsyncSession, training_id: int) -> Training:
    """The course as the database has it now (never a stale copy from this session)."""
    training: Training = await offerings.get(session, BOOK, training_id, "training")
    return training


async def sessions_of(session: AsyncSession, training_id: int) -> list[TrainingSession]:
    return list(
        await session.scalars(
            select(TrainingSession)
            .where(TrainingSession.training_id == training_id)
            .order_by(TrainingSession.starts_at, TrainingSession.id)
        )
    )


async def last_session_end(session: AsyncSession, training_id: int) -> datetime | None:
    return await session.scalar(
        select(func.max(TrainingSession.ends_at)).where(TrainingSession.training_id == training_id)
    )


async def open_for_members(
    session: AsyncSession, now: datetime, page: int, per_page: int = PER_PAGE
) -> Page[Training]:
    """Published courses with a session still to come, earliest first session first."""
    first = (
        select(TrainingSession.training_id, func.min(TrainingSession.starts_at).label("first"))
        .group_by(TrainingSession.training_id)
        .having(func.max(TrainingSession.ends_at) > now)
        .subquery()
    )
    found = list(
        await session.scalars(
            select(Training)
            .join(first, first.c.training_id == Training.id)
            .where(Training.status == OfferingStatus.PUBLISHED.value)
            .order_by(first.c.first, Training.id)
            .limit(LISTED_AT_MOST)
        )
    )
    return offerings.page_of(found, page, per_page)


async def for_cadres(
    session: AsyncSession, now: datetime, page: int, per_page: int = PER_PAGE
) -> Page[Training]:
    found = list(
        await session.scalars(
            select(Training)
            .where(Training.created_at > now - RECENT * 4)
            .order_by(Training.id.desc())
            .limit(LISTED_AT_MOST)
        )
    )
    return offerings.page_of(found, page, per_page)


async def enrolment_of(
    session: AsyncSession, training_id: int, member_id: int
) -> tuple[TrainingEnrolment | None, int | None]:
    """The member's enrolment and, when waitlisted, their position."""
    found, position = await offerings.standing(session, BOOK, training_id, member_id)
    assert found is None or isinstance(found, TrainingEnrolment)
    return found, position


async def pending_count(session: AsyncSession, training_id: int) -> int:
    return await offerings.count_with_status(session, BOOK, training_id, SignupStatus.PENDING)


# Cadres ---------------------------------------------------------------------------------


async def create(
    session: AsyncSession, draft: TrainingDraft, *, created_by: int | None, now: datetime
) -> Training:
    """A new course, a draft only cadres see. Raises Incomplete or ScheduleRefused."""
    if not draft.title or draft.signup_deadline is None or not draft.sessions:
        raise Incomplete("title")
    for item in draft.sessions:
        rules.require(rules.check_end(item.starts_at, item.ends_at))
    rules.require(rules.check_deadline(draft.first_start, draft.signup_deadline, now))
    training = Training(
        title=draft.title,
        description=draft.description,
        capacity=draft.capacity,
        seats_taken=0,
        tickets=0,
        signup_deadline=draft.signup_deadline,
        needs_approval=draft.needs_approval,
        required_sessions=draft.required_sessions,
        status=OfferingStatus.DRAFT.value,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(training)
    await session.flush()
    for item in sorted(draft.sessions, key=lambda s: s.starts_at):
        session.add(
            TrainingSession(
                training_id=training.id,
                starts_at=item.starts_at,
                ends_at=item.ends_at,
                place=item.place,
                online_link=item.online_link,
                schedule_version=1,
            )
        )
    await session.flush()
    return training


async def publish(session: AsyncSession, training_id: int, now: datetime) -> bool:
    """Draft → published, once: True only for the call that published it."""
    return await offerings.publish(session, BOOK, training_id, now)


async def cancel(session: AsyncSession, training_id: int, now: datetime) -> list[Member]:
    """Cancel the course; returns everyone to tell (seated, waitlisted, pending)."""
    if not await offerings.mark_cancelled(session, BOOK, training_id, now):
        return []
    return await offerings.members_where(
        session, BOOK, training_id, TrainingEnrolment.status != SignupStatus.REJECTED.value
    )


async def seated_members(session: AsyncSession, training_id: int) -> list[Member]:
    """The seated, in pinyin order (the attendance sheet), ordered in SQL over all of them."""
    return await offerings.members_where(
        session,
        BOOK,
        training_id,
        TrainingEnrolment.status == SignupStatus.SEATED.value,
        by_name=True,
    )


# Members: enrol and withdraw ---------------------------------------------------------------


async def enrol(session: AsyncSession, training_id: int, member: Member, now: datetime) -> Enrolled:
    """Ask for a place: pending when the course needs approval, else seated or waitlisted."""
    try:
        training = await get(session, training_id)
    except NotFound:
        raise Refused(Refusal.NOT_FOUND) from None
    refusal = rules.signup_refusal(training.status, training.signup_deadline, now)
    if refusal is not None:
        raise Refused(refusal)
    existing, position = await enrolment_of(session, training_id, member.id)
    if existing is not None and existing.status != SignupStatus.REJECTED.value:
        return Enrolled(existing, position, already=True, promoted=[])
    locked = await offerings.lock_for_signup(session, BOOK, training_id, "training", now)
    # A double tap that lost the race: the first tap's row is committed by now.
    again = await seating.find(session, BOOK, training_id, member.id)
    if again is not None:
        if again.status != SignupStatus.REJECTED.value:
            assert isinstance(again, TrainingEnrolment)
            return Enrolled(again, await seating.position(session, BOOK, again), True, promoted=[])
        await session.delete(again)  # asking again after a rejection
        await session.flush()
    status = SignupStatus.PENDING if training.needs_approval else SignupStatus.WAITLISTED
    enrolment = await seating.join(
        session, BOOK, locked, member.id, seats=1, now=now, status=status
    )
    assert isinstance(enrolment, TrainingEnrolment)
    promoted: list[TrainingEnrolment] = []
    if status is SignupStatus.WAITLISTED:
        promoted = _enrolments(await seating.promote(session, BOOK, locked, now))
    return Enrolled(
        enrolment,
        await seating.position(session, BOOK, enrolment),
        already=False,
        promoted=[p for p in promoted if p.id != enrolment.id],
    )


async def withdraw(
    session: AsyncSession, training_id: int, member_id: int, now: datetime
) -> list[TrainingEnrolment]:
    """Leave the course (or the waitlist, or withdraw a request); returns who moved up."""
    training = await get(session, training_id)
    first = await session.scalar(
        select(func.min(TrainingSession.starts_at)).where(
            TrainingSession.training_id == training_id
        )
    )
    if first is not None and now >= first and training.status == OfferingStatus.PUBLISHED.value:
        raise Refused(Refusal.STARTED)
    left = await offerings.give_up(
        session, BOOK, training_id, member_id, now, absent=(SignupStatus.REJECTED,)
    )
    return _enrolments(left)


# Approval ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    enrolment: TrainingEnrolment
    member: Member
    position: int | None
    promoted: list[TrainingEnrolment]


async def _pending(session: AsyncSession, enrolment_id: int) -> TrainingEnrolment:
    enrolment = await session.scalar(
        select(TrainingEnrolment)
        .where(TrainingEnrolment.id == enrolment_id)
        .execution_options(populate_existing=True)
    )
    if enrolment is None:
        raise Refused(Refusal.NOT_FOUND)
    if enrolment.status != SignupStatus.PENDING.value:
        raise Refused("decided")
    return enrolment


async def approve(
    session: AsyncSession, enrolment_id: int, *, by: int | None, now: datetime
) -> Decision:
    """Approve a request: it joins the line by its request ticket and takes a seat if it can."""
    first = await _pending(session, enrolment_id)
    locked = await seating.lock(session, BOOK, first.training_id)
    enrolment = await _pending(session, enrolment_id)  # again, under the lock
    if locked is None or locked.status != OfferingStatus.PUBLISHED.value:
        raise Refused(Refusal.CANCELLED)
    enrolment.status = SignupStatus.WAITLISTED.value
    enrolment.decided_at, enrolment.decided_by = now, by
    await session.flush()
    promoted = _enrolments(await seating.promote(session, BOOK, locked, now))
    member = await session.get(Member, enrolment.member_id)
    assert member is not None
    return Decision(
        enrolment,
        member,
        await seating.position(session, BOOK, enrolment),
        [p for p in promoted if p.id != enrolment.id],
    )


async def reject(
    session: AsyncSession, enrolment_id: int, reason: str, *, by: int | None, now: datetime
) -> Decision:
    enrolment = await _pending(session, enrolment_id)
    enrolment.status = SignupStatus.REJECTED.value
    enrolment.reject_reason = reason
    enrolment.decided_at, enrolment.decided_by = now, by
    await session.flush()
    member = await session.get(Member, enrolment.member_id)
    assert member is not None
    return Decision(enrolment, member, None, [])


async def pending_requests(
    session: AsyncSession, training_id: int
) -> list[tuple[TrainingEnrolment, Member]]:
    rows = await session.execute(
        select(TrainingEnrolment, Member)
        .join(Member, Member.id == TrainingEnrolment.member_id)
        .where(
            TrainingEnrolment.training_id == training_id,
            TrainingEnrolment.status == SignupStatus.PENDING.value,
        )
        .order_by(TrainingEnrolment.ticket)
    )
    return [(e, m) for e, m in rows]


# Attendance and completion -------------------------------------------------------------------


async def attendance(session: AsyncSession, session_id: int) -> set[int]:
    """Member ids marked present at one session."""
    rows = await session.scalars(
        select(TrainingAttendance.member_id).where(TrainingAttendance.session_id == session_id)
    )
    return set(rows)


async def get_session(session: AsyncSession, session_id: int) -> TrainingSession:
    found = await session.get(TrainingSession, session_id)
    if found is None:
        raise NotFound(f"session {session_id}")
    return found


@dataclass(frozen=True)
class Marked:
    present: bool
    completed_now: bool  # this mark completed the course for the member
    member: Member
    training: Training


async def toggle_present(
    session: AsyncSession, session_id: int, member_id: int, *, by: int | None, now: datetime
) -> Marked:
    """Mark a seated member present at a session (or take it back); completion follows."""
    meeting = await get_session(session, session_id)
    training = await get(session, meeting.training_id)
    enrolment = await seating.find(session, BOOK, training.id, member_id)
    if enrolment is None or enrolment.status != SignupStatus.SEATED.value:
        raise Refused("not_seated")
    assert isinstance(enrolment, TrainingEnrolment)
    mark = await session.get(TrainingAttendance, (session_id, member_id))
    if mark is None:
        session.add(
            TrainingAttendance(
                session_id=session_id, member_id=member_id, marked_at=now, marked_by=by
            )
        )
        present = True
    else:
        await session.delete(mark)
        present = False
    await session.flush()
    sessions = await sessions_of(session, training.id)
    attended = await _attended(session, training.id, member_id)
    done = rules.completed(training.required_sessions, len(sessions), len(attended))
    completed_now = False
    if done and enrolment.completed_at is None:
        enrolment.completed_at = now
        completed_now = True
    elif not done:
        enrolment.completed_at = None
    await session.flush()
    member = await session.get(Member, member_id)
    assert member is not None
    return Marked(present, completed_now, member, training)


async def _attended(
    session: AsyncSession, training_id: int, member_id: int
) -> list[TrainingSession]:
    return list(
        await session.scalars(
            select(TrainingSession)
            .join(TrainingAttendance, TrainingAttendance.session_id == TrainingSession.id)
            .where(
                TrainingSession.training_id == training_id,
                TrainingAttendance.member_id == member_id,
            )
        )
    )


def hours(sessions: list[TrainingSession]) -> float:
    return sum((s.ends_at - s.starts_at).total_seconds() for s in sessions) / 3600


async def history(session: AsyncSession, member_id: int) -> list[HistoryLine]:
    """The member's courses (requests included), newest first, with attendance and hours."""
    rows = await session.execute(
        select(TrainingEnrolment, Training)
        .join(Training, Training.id == TrainingEnrolment.training_id)
        .where(TrainingEnrolment.member_id == member_id)
        .order_by(TrainingEnrolment.created_at.desc(), TrainingEnrolment.id.desc())
    )
    lines: list[HistoryLine] = []
    for enrolment, training in rows:
        sessions = await sessions_of(session, training.id)
        attended = await _attended(session, training.id, member_id)
        lines.append(
            HistoryLine(
                training=training,
                status=enrolment.status,
                position=await seating.position(session, BOOK, enrolment),
                sessions=len(sessions),
                attended=len(attended),
                hours=hours(attended),
                completed=enrolment.completed_at is not None,
                reject_reason=enrolment.reject_reason,
            )
        )
    return lines


async def enrolment_report(session: AsyncSession, training_id: int) -> list[EnrolmentLine]:
    """Every enrolment with attendance, hours and completion (for the XLSX export)."""
    training = await get(session, training_id)
    sessions = await sessions_of(session, training_id)
    positions = await seating.waitlist_positions(session, BOOK, training_id)
    present: dict[int, list[TrainingSession]] = {}
    by_id = {s.id: s for s in sessions}
    marks = await session.execute(
        select(TrainingAttendance.session_id, TrainingAttendance.member_id).where(
            TrainingAttendance.session_id.in_(list(by_id))
        )
    )
    for session_id, member_id in marks:
        present.setdefault(member_id, []).append(by_id[session_id])
    rows = await session.execute(
        select(TrainingEnrolment, Member.name, Department.name)
        .join(Member, Member.id == TrainingEnrolment.member_id)
        .outerjoin(Department, Department.id == Member.department_id)
        .where(TrainingEnrolment.training_id == training_id)
        .order_by(TrainingEnrolment.ticket)
    )
    lines = []
    for enrolment, name, department in rows:
        attended = present.get(enrolment.member_id, [])
        lines.append(
            EnrolmentLine(
                enrolment_id=enrolment.id,
                member_id=enrolment.member_id,
                name=name,
                department=department or "",
                requested_at=enrolment.created_at,
                status=enrolment.status,
                position=positions.get(enrolment.id),
                attended=len(attended),
                hours=hours(attended),
                completed=rules.completed(training.required_sessions, len(sessions), len(attended)),
                reject_reason=enrolment.reject_reason,
            )
        )
    return lines


# Ratings --------------------------------------------------------------------------------


def attendees(session_id: int) -> Select[int]:
    """Members enrolled (seated) and marked present at one session: who is asked to rate."""
    return (
        select(TrainingAttendance.member_id)
        .join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
        .join(
            TrainingEnrolment,
            (TrainingEnrolment.training_id == TrainingSession.training_id)
            & (TrainingEnrolment.member_id == TrainingAttendance.member_id),
        )
        .where(
            TrainingAttendance.session_id == session_id,
            TrainingEnrolment.status == SignupStatus.SEATED.value,
        )
    )


async def rate(
    session: AsyncSession, training_id: int, member_id: int, stars: int, now: datetime
) -> TrainingRating:
    """Rate (or re-rate) a course after a session one attended has ended. Raises Refused."""
    ratings.check_stars(stars)
    training = await get(session, training_id)
    if training.status == OfferingStatus.CANCELLED.value:
        raise Refused("training_cancelled")
    enrolment = await seating.find(session, BOOK, training_id, member_id)
    attended = await _attended(session, training_id, member_id)
    if enrolment is None or enrolment.status != SignupStatus.SEATED.value or not attended:
        raise Refused("not_attended")
    if training.status != OfferingStatus.PUBLISHED.value or all(now < s.ends_at for s in attended):
        raise Refused("not_over")
    rating = await ratings.give(session, TrainingRating, training_id, member_id, stars, now)
    assert isinstance(rating, TrainingRating)
    return rating

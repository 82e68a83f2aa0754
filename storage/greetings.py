"""Greetings: occasion settings, templates, who is greeted, and which greetings are due.

Functions take a session and know nothing of Telegram. The calendar itself is
`storage.occasions`; the words (the shipped default texts, a template filled
in) are `display.greeting_text`; writing a day's greetings to the outbox is
`jobs.greetings` with `notices.greetings`.

An admin's own text is a `GreetingTemplate` row; deleting it restores the
shipped default. Placeholders are ``{name}`` (the member's name), ``{year}``
(the year of the greeting's date) and ``{holiday}`` (the occasion's name in
the member's language). Anything else in braces is refused when the text is
saved (:func:`check_template`, a typed :class:`TemplateError`), so rendering
can never fail or reach into Python objects.

Once per member per occasion per year: every greeting is an outbox row with
the key ``greeting:<occasion>:<year>:<member_id>`` (:func:`greeting_key`; see
`storage.occasions` for the year of lunar occasions); the outbox inserts a key
once, however many instances or runs try, and :func:`ungreeted` asks only for
members without it. The group key ``greetings:<date>`` gathers one day's
greetings, so the day's stragglers can be cancelled once the day is over.
"""

from __future__ import annotations

import re
import secrets
import string
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import String, and_, cast, delete, exists, extract, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from core.i18n import Translator
from core.settings import SUPPORTED_LANGUAGES
from storage import occasions, outbox
from storage.db import rows_changed
from storage.members import Conflict, NotFound
from storage.models import GreetingOccasion, GreetingTemplate, Member, MemberTag, Outbox
from storage.occasions import BIRTHDAY, CustomDate, Occurrence
from storage.profile_rules import InvalidInput, clean_label, clean_tag

TEMPLATE_MAX = 1500
CUSTOM_NAME_MAX = 64
PLACEHOLDERS: tuple[str, ...] = ("name", "year", "holiday")
#: How many members one enqueue transaction covers.
CHUNK = 500
#: How far back a run cancels greetings still unsent from earlier days.
EXPIRE_DAYS = 7

# Templates: pure rules -----------------------------------------------------------


class TemplateError(ValueError):
    """A template an admin can correct; ``code`` says what is wrong, ``field`` where."""

    def __init__(self, code: str, field: str = "") -> None:
        super().__init__(code, field)
        self.code = code
        self.field = field


# Control characters other than line breaks and tabs, and format characters
# other than the joiner emoji need, cannot be stored or shown sensibly.
_REFUSED = frozenset({"Cc", "Cf", "Co", "Cs"})
_ALLOWED = frozenset({"\n", "\t", "\u200d"})


def check_template(text: str) -> str:
    """The template cleaned, or TemplateError: empty, too_long, control, braces, unknown, format."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").strip()
    if not text:
        raise TemplateError("empty")
    if len(text) > TEMPLATE_MAX:
        raise TemplateError("too_long")
    if any(unicodedata.category(ch) in _REFUSED and ch not in _ALLOWED for ch in text):
        raise TemplateError("control")
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        raise TemplateError("braces") from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            raise TemplateError("unknown", field)
        if spec or conversion:
            raise TemplateError("format", field)
    return text


# Occasions -----------------------------------------------------------------------


@dataclass(frozen=True)
class Occasion:
    """One occasion as the admin sees it: defaults merged with the union's changes."""

    code: str
    title: str  # a msgid for built-ins, the admin's own name for custom dates
    custom: bool
    enabled: bool
    audience_tag: str | None
    month: int | None = None
    day: int | None = None

    def name(self, t: Translator) -> str:
        return self.title if self.custom else t.gettext(self.title)

    def greeting_name(self, t: Translator) -> str:
        """What a greeting's {holiday} says: the name, without a built-in's region."""
        spec = None if self.custom else occasions.SPECS.get(self.code)
        if spec is not None and spec.greeting_name is not None:
            return t.gettext(spec.greeting_name)
        return self.name(t)

    @property
    def is_birthday(self) -> bool:
        return self.code == BIRTHDAY

    @property
    def custom_date(self) -> CustomDate | None:
        if self.custom and self.month is not None and self.day is not None:
            return CustomDate(self.code, self.month, self.day)
        return None


def _builtin(spec: occasions.OccasionSpec, row: GreetingOccasion | None) -> Occasion:
    if row is None:
        return Occasion(spec.code, spec.title, False, spec.default_enabled, spec.default_tag)
    return Occasion(spec.code, spec.title, False, row.enabled, row.audience_tag)


def _custom(row: GreetingOccasion) -> Occasion:
    return Occasion(
        row.code, row.name or row.code, True, row.enabled, row.audience_tag, row.month, row.day
    )


async def list_occasions(session: AsyncSession) -> list[Occasion]:
    """Every occasion: the built-ins in calendar order, then the union's own dates by date."""
    rows = {row.code: row for row in await session.scalars(select(GreetingOccasion))}
    found = [_builtin(spec, rows.get(spec.code)) for spec in occasions.BUILTIN]
    customs = [_custom(row) for row in rows.values() if occasions.is_custom(row.code)]
    customs.sort(key=lambda o: (o.month or 0, o.day or 0, o.title))
    return found + customs


async def get_occasion(session: AsyncSession, code: str) -> Occasion:
    spec = occasions.SPECS.get(code)
    row = await session.get(GreetingOccasion, code)
    if spec is not None:
        return _builtin(spec, row)
    if row is None or not occasions.is_custom(code):
        raise NotFound(f"occasion {code}")
    return _custom(row)


def custom_dates(found: Iterable[Occasion]) -> list[CustomDate]:
    return [d for d in (o.custom_date for o in found) if d is not None]


async def _row_for(session: AsyncSession, code: str) -> GreetingOccasion:
    """The occasion's row, created with the defaults for a built-in that has none yet."""
    row = await session.get(GreetingOccasion, code)
    if row is not None:
        return row
    spec = occasions.SPECS.get(code)
    if spec is None:
        raise NotFound(f"occasion {code}")
    row = GreetingOccasion(code=code, enabled=spec.default_enabled, audience_tag=spec.default_tag)
    session.add(row)
    return row


async def set_enabled(session: AsyncSession, code: str, enabled: bool) -> Occasion:
    row = await _row_for(session, code)
    row.enabled = enabled
    await session.flush()
    return await get_occasion(session, code)


async def set_audience(session: AsyncSession, code: str, tag: str | None) -> Occasion:
    """Greet only members with ``tag`` as typed (InvalidInput if it is no tag), None: everyone."""
    tag = clean_tag(tag) if tag is not None else None
    row = await _row_for(session, code)
    row.audience_tag = tag
    await session.flush()
    return await get_occasion(session, code)


_MONTH_DAY = (
    re.compile(r"^(?:\d{4}[-/.])?(\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(?:\d{4}年)?(\d{1,2})月(\d{1,2})[日号]?$"),
)


def parse_month_day(text: str) -> tuple[int, int]:
    """A yearly date: 10-18, 10/18, 10月18日, or a full date whose year is ignored."""
    cleaned = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    for pattern in _MONTH_DAY:
        match = pattern.match(cleaned)
        if match:
            month, day = (int(part) for part in match.groups())
            break
    else:
        raise InvalidInput("month_day")
    try:
        date(2000, month, day)  # a leap year: 29 February is a valid yearly date
    except ValueError as exc:
        raise InvalidInput("no_such_date") from exc
    return month, day


def clean_occasion_name(text: str) -> str:
    name = clean_label(text, CUSTOM_NAME_MAX)
    if name.startswith("/"):
        raise InvalidInput("command")
    return name


async def new_occasion_name(session: AsyncSession, text: str) -> str:
    """A typed name for a new date, cleaned: InvalidInput, or Conflict if a date has it."""
    name = clean_occasion_name(text)
    if await name_taken(session, name):
        raise Conflict(name)
    return name


async def add_custom(session: AsyncSession, name: str, month: int, day: int) -> Occasion:
    """A new yearly date of the union's own; Conflict if one has that name already."""
    if await name_taken(session, name):
        raise Conflict(name)
    while True:
        # A fresh code per date: a deleted date's greetings of this year (outbox
        # keys) can never stand in for a new date's.
        code = occasions.CUSTOM_PREFIX + secrets.token_hex(4)
        if await session.get(GreetingOccasion, code) is None:
            break
    session.add(GreetingOccasion(code=code, enabled=True, name=name, month=month, day=day))
    await session.flush()
    return await get_occasion(session, code)


async def delete_custom(session: AsyncSession, code: str) -> None:
    if not occasions.is_custom(code):
        raise NotFound(f"custom occasion {code}")
    row = await session.get(GreetingOccasion, code)
    if row is None:
        raise NotFound(f"custom occasion {code}")
    await session.execute(delete(GreetingTemplate).where(GreetingTemplate.occasion == code))
    await session.delete(row)
    await session.flush()


# Templates: stored -----------------------------------------------------------------


async def own_templates(session: AsyncSession, code: str) -> dict[str, str]:
    """The admins' own texts of one occasion, by language."""
    rows = await session.scalars(select(GreetingTemplate).where(GreetingTemplate.occasion == code))
    return {row.language: row.text for row in rows}


async def set_template(session: AsyncSession, code: str, language: str, text: str) -> str:
    """Save an admin's text (checked: TemplateError); returns the stored text."""
    if language not in SUPPORTED_LANGUAGES:
        raise NotFound(f"language {language}")
    await get_occasion(session, code)  # NotFound for a deleted custom date
    text = check_template(text)
    row = await session.get(GreetingTemplate, (code, language))
    if row is None:
        session.add(GreetingTemplate(occasion=code, language=language, text=text))
    else:
        row.text = text
    await session.flush()
    return text


async def reset_templates(session: AsyncSession, code: str) -> int:
    """Back to the shipped texts; returns how many own texts were dropped."""
    result = await session.execute(
        delete(GreetingTemplate).where(GreetingTemplate.occasion == code)
    )
    return rows_changed(result)


# Who is greeted ----------------------------------------------------------------------


def _audience(occasion: Occasion, day: date | None) -> list[ColumnElement[bool]]:
    """Conditions on `Member`: active, reachable, in the audience (and born that day)."""
    conditions: list[ColumnElement[bool]] = [Member.active.is_(True), Member.blocked_at.is_(None)]
    if occasion.audience_tag:
        conditions.append(
            exists().where(MemberTag.member_id == Member.id, MemberTag.tag == occasion.audience_tag)
        )
    if occasion.is_birthday:
        conditions.append(Member.birthday.is_not(None))
        if day is not None:
            conditions.append(
                or_(
                    *(
                        and_(
                            extract("month", Member.birthday) == month,
                            extract("day", Member.birthday) == day_,
                        )
                        for month, day_ in occasions.birthdays_greeted_on(day)
                    )
                )
            )
    return conditions


async def count_recipients(session: AsyncSession, occasion: Occasion, day: date | None) -> int:
    """How many members would be greeted for ``occasion`` on ``day``, as things stand.

    For birthdays without a day: everyone in the audience with a birthday on file.
    """
    query = select(func.count(Member.id)).where(*_audience(occasion, day))
    return int(await session.scalar(query) or 0)


async def birthday_counts(
    session: AsyncSession, occasion: Occasion, start: date, end: date
) -> dict[date, int]:
    """Birthday greetings per day in [start, end), 29 February folded as greeted."""
    month = extract("month", Member.birthday)
    day = extract("day", Member.birthday)
    rows = await session.execute(
        select(month, day, func.count()).where(*_audience(occasion, None)).group_by(month, day)
    )
    by_month_day = {(int(m), int(d)): int(n) for m, d, n in rows}
    counts: dict[date, int] = {}
    current = start
    while current < end:
        total = sum(by_month_day.get(md, 0) for md in occasions.birthdays_greeted_on(current))
        if total:
            counts[current] = total
        current += timedelta(days=1)
    return counts


@dataclass(frozen=True)
class Upcoming:
    """A day on which an occasion's greetings would go out, and to how many members."""

    day: date
    occasion: Occasion
    recipients: int


async def upcoming(session: AsyncSession, today: date, days: int = 30) -> list[Upcoming]:
    """What goes out in [today, today + days): switched-off occasions included, marked by them."""
    end = today + timedelta(days=days)
    found = await list_occasions(session)
    by_code = {o.code: o for o in found}
    items: list[Upcoming] = []
    counts: dict[str, int] = {}
    for occurrence in occasions.occasions_between(today, end, custom_dates(found)):
        occasion = by_code[occurrence.code]
        if occasion.code not in counts:
            counts[occasion.code] = await count_recipients(session, occasion, occurrence.day)
        items.append(Upcoming(occurrence.day, occasion, counts[occasion.code]))
    birthday = by_code[BIRTHDAY]
    for day, count in (await birthday_counts(session, birthday, today, end)).items():
        items.append(Upcoming(day, birthday, count))
    items.sort(key=lambda u: (u.day, u.occasion.is_birthday, u.occasion.code))
    return items


async def due_on(session: AsyncSession, day: date) -> list[tuple[Occasion, Occurrence]]:
    """The switched-on occasions to greet for on ``day``, birthdays included."""
    found = await list_occasions(session)
    by_code = {o.code: o for o in found}
    due = [
        (by_code[o.code], o)
        for o in occasions.occasions_on(day, custom_dates(found))
        if by_code[o.code].enabled
    ]
    if by_code[BIRTHDAY].enabled:
        due.append((by_code[BIRTHDAY], Occurrence(day, BIRTHDAY, day.year)))
    return due


# Enqueueing --------------------------------------------------------------------------


def _key_prefix(code: str, year: int) -> str:
    return f"greeting:{code}:{year}:"


def greeting_key(code: str, year: int, member_id: int) -> str:
    """The outbox key that makes a greeting once per member, occasion and (occasion) year."""
    return _key_prefix(code, year) + str(member_id)


def day_group(day: date) -> str:
    return f"greetings:{day.isoformat()}"


@dataclass(frozen=True)
class Recipient:
    """A member to greet: whom, where, and what the text needs of them."""

    member_id: int
    chat_id: int
    name: str
    language: str


async def ungreeted(
    session: AsyncSession,
    occasion: Occasion,
    occurrence: Occurrence,
    *,
    after: int = 0,
    limit: int = CHUNK,
) -> list[Recipient]:
    """Up to ``limit`` members of the audience, in id order past ``after``, not yet greeted.

    Asks the database only for members without this greeting's outbox key (the
    key is unique and indexed), so every run after the first costs one cheap
    query.
    """
    prefix = _key_prefix(occasion.code, occurrence.year)
    already = exists().where(Outbox.key == literal(prefix, String) + cast(Member.id, String(20)))
    query = (
        select(Member.id, Member.telegram_id, Member.name, Member.language)
        .where(*_audience(occasion, occurrence.day), Member.id > after, ~already)
        .order_by(Member.id)
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [
        Recipient(member_id, chat_id, name, language) for member_id, chat_id, name, language in rows
    ]


async def expire_missed(
    session: AsyncSession, today: date, *, now: datetime, days: int = EXPIRE_DAYS
) -> int:
    """Cancel greetings of the ``days`` days before ``today`` still unsent: never late.

    One statement for all the days (an indexed lookup of each day's batch), not one a day.
    """
    return await outbox.cancel_groups(
        session, (day_group(today - timedelta(days=back)) for back in range(1, days + 1)), now=now
    )


# Helpers for the admin's typed input ---------------------------------------------------


async def known_tags(session: AsyncSession, limit: int = 12) -> list[str]:
    """The most used member tags, offered as buttons when choosing an audience."""
    rows = await session.execute(
        select(MemberTag.tag, func.count())
        .group_by(MemberTag.tag)
        .order_by(func.count().desc(), MemberTag.tag)
        .limit(limit)
    )
    return [tag for tag, _count in rows]


async def name_taken(session: AsyncSession, name: str) -> bool:
    return (
        await session.scalar(
            select(GreetingOccasion.code).where(func.lower(GreetingOccasion.name) == name.lower())
        )
    ) is not None

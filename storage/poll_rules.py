"""Pure rules of quick polls: what a tap does to a ballot, how votes are counted,
when a poll reminds, when it may close, and what a breakdown by department may show.

No database and no Telegram here, so each rule is tested directly (and with
hypothesis). A ballot is a bit mask: bit ``i`` set means option ``i`` is chosen,
so a member's whole current choice is one small integer that the database can
update atomically and sum per option.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from core import collation
from storage.disclosure import THRESHOLD, Protected, Totals, protect
from storage.profile_rules import InvalidInput, clean_label

QUESTION_MAX = 300
OPTION_MAX = 100
MIN_OPTIONS = 2
MAX_OPTIONS = 10
# Results of an anonymous poll are shown only once this many have voted.
MIN_GROUP = THRESHOLD
REMIND_BEFORE = timedelta(hours=24)
# A reminder closer than this to the poll's start would only repeat the poll itself.
MIN_REMIND_LEAD = timedelta(minutes=30)
MIN_DURATION = timedelta(minutes=10)
MAX_DURATION = timedelta(days=366)
# "2026-12-01" alone closes at the end of that working day, not at midnight before it.
DEFAULT_CLOSING_TIME = time(18, 0)
# Closing presets a draft cycles through, in hours (0: no closing time).
CLOSING_PRESETS = (0, 24, 72, 168)
# How much longer a manager may keep an open poll open, in hours.
EXTEND_CHOICES = (24, 72, 168)


class NotOffered(ValueError):
    """A choice no current button offers (an outdated or forged press); ``code`` names it."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class VoteRefused(ValueError):
    """A tap that must change nothing; ``code`` names why (the handler words it)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def clean_question(text: str) -> str:
    question = clean_label(text, QUESTION_MAX)
    if question.startswith("/"):
        raise InvalidInput("command")
    return question


def clean_option(text: str, existing: Sequence[str]) -> str:
    """One answer option: short enough for a button, not a command, not a repeat."""
    option = clean_label(text, OPTION_MAX)
    if option.startswith("/"):
        raise InvalidInput("command")
    if option.casefold() in {o.casefold() for o in existing}:
        raise InvalidInput("duplicate")
    if len(existing) >= MAX_OPTIONS:
        raise InvalidInput("too_many_options")
    return option


def extension(hours: int) -> timedelta:
    """How much longer a manager's button keeps the poll open; NotOffered for other hours."""
    if hours not in EXTEND_CHOICES:
        raise NotOffered("extension")
    return timedelta(hours=hours)


def next_preset(hours: int) -> int:
    """The closing preset after ``hours``, round in a circle; an unknown value starts over."""
    if hours not in CLOSING_PRESETS:
        return CLOSING_PRESETS[0]
    return CLOSING_PRESETS[(CLOSING_PRESETS.index(hours) + 1) % len(CLOSING_PRESETS)]


def chosen(mask: int) -> list[int]:
    """The option positions set in a ballot mask, in order."""
    return [i for i in range(MAX_OPTIONS) if mask >> i & 1]


def toggle(current: int, position: int, *, options: int, multiple: bool, max_choices: int) -> int:
    """The ballot after the member taps option ``position``.

    Single choice: the tapped option becomes the choice (tapping it again keeps
    it, so a double tap is harmless). Multiple choice: the tap adds or removes
    the option; adding beyond ``max_choices`` is refused. An empty result (0)
    means the member has withdrawn their vote.
    """
    if not 0 <= position < options:
        raise VoteRefused("no_such_option")
    bit = 1 << position
    if not multiple:
        return bit
    if current & bit:
        return current & ~bit
    if len(chosen(current)) >= max_choices:
        raise VoteRefused("too_many")
    return current | bit


@dataclass(frozen=True)
class Tally:
    """Counts per option and the number of members with a vote in."""

    counts: tuple[int, ...]
    voters: int

    def percent(self, position: int) -> int:
        """Share of voters who chose the option, as a whole percent.

        Of voters, not of votes: with multiple choice the shares add up to more
        than 100, and each still answers "how many of us want this?".
        """
        if not self.voters:
            return 0
        return round(100 * self.counts[position] / self.voters)

    @property
    def total_choices(self) -> int:
        return sum(self.counts)


def count(ballots: Iterable[int], options: int) -> Tally:
    """Count ballot masks (withdrawn ones, 0, are not voters)."""
    counts = [0] * options
    voters = 0
    for mask in ballots:
        if not mask:
            continue
        voters += 1
        for position in chosen(mask):
            if position < options:
                counts[position] += 1
    return Tally(tuple(counts), voters)


def results_shown(anonymous: bool, voters: int) -> bool:
    """Whether counts may be shown: an anonymous poll's only from 5 voters on, or "1 of 1
    voted" followed by the counts would be that one member's vote."""
    return not anonymous or voters >= MIN_GROUP


@dataclass(frozen=True)
class Breakdown:
    """Votes per option by department, as they may be shown.

    ``table`` rows follow ``departments``, columns the options; with single
    choice its row totals are each department's voters. Counts pass through
    `storage.disclosure`: the overall counts are shown to everyone, so they are
    known totals, and no hidden count can be worked out from them.
    """

    departments: tuple[str, ...]
    table: Protected

    def voters(self, row: int) -> int | None:
        return None if self.table.row_totals is None else self.table.row_totals[row]


def breakdown(
    groups: Mapping[str, Sequence[int]],
    options: int,
    *,
    departments: Iterable[str] = (),
    multiple: bool = False,
) -> Breakdown:
    """Every department a row (also those without a voter, so a row's presence says
    nothing), each option a column, through disclosure control."""
    names = tuple(collation.by_name(set(departments) | set(groups), str))
    counts = [list(count(groups.get(name, ()), options).counts) for name in names]
    table = protect(
        counts,
        column_totals=Totals.KNOWN,
        # One vote each: a department's counts add up to its voters, who are shown.
        # With several choices they do not, and its voters are not shown at all.
        row_totals=Totals.NONE if multiple else Totals.PUBLISHED,
    )
    return Breakdown(names, table)


def remind_at(published: datetime, closes_at: datetime | None) -> datetime | None:
    """When to remind those who have not voted: a day before closing, or halfway for a
    shorter poll; None when there is no closing time or too little time for it to help."""
    if closes_at is None:
        return None
    lead = min(REMIND_BEFORE, (closes_at - published) / 2)
    if lead < MIN_REMIND_LEAD:
        return None
    return closes_at - lead


def check_closing(closes_at: datetime, now: datetime) -> datetime:
    """A closing time must leave time to vote and not lie absurdly far ahead."""
    if closes_at - now < MIN_DURATION:
        raise InvalidInput("closing_too_soon")
    if closes_at - now > MAX_DURATION:
        raise InvalidInput("closing_too_far")
    return closes_at


_CLOSING_PATTERNS = (
    # 2026-12-01 18:00, 2026/12/1 18:00, 2026.12.1
    re.compile(r"^(?:(\d{4})[-/.])?(\d{1,2})[-/.](\d{1,2})(?:[ T]+(\d{1,2})[:：](\d{2}))?$"),
    # 2026年12月1日 18:00, 12月1日18点, 12月1号 18点30
    re.compile(
        r"^(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]?\s*(?:(\d{1,2})(?:[:：点时](\d{1,2})?分?)?)?$"
    ),
)


def parse_closing(text: str, now: datetime, tz: tzinfo) -> datetime:
    """A closing time typed in the union's time zone, as an aware UTC datetime.

    Accepts ISO-like and Chinese spellings; without a year, the next such date;
    without a time of day, 18:00. Raises InvalidInput("closing_format"), or the
    codes of :func:`check_closing`.
    """
    cleaned = unicodedata.normalize("NFKC", text).strip()
    local_now = now.astimezone(tz)
    for pattern in _CLOSING_PATTERNS:
        match = pattern.match(cleaned)
        if not match:
            continue
        year_text, month_text, day_text, hour_text, minute_text = match.groups()
        hour = int(hour_text) if hour_text else DEFAULT_CLOSING_TIME.hour
        minute = int(minute_text) if minute_text else 0
        if not hour_text:
            minute = DEFAULT_CLOSING_TIME.minute
        try:
            year = int(year_text) if year_text else local_now.year
            day = date(year, int(month_text), int(day_text))
            at = datetime.combine(day, time(hour, minute), tzinfo=tz)
            if not year_text and at < local_now:
                at = at.replace(year=year + 1)
        except ValueError:
            raise InvalidInput("no_such_date") from None
        return check_closing(at.astimezone(now.tzinfo), now)
    raise InvalidInput("closing_format")

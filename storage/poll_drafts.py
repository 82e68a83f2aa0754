"""A poll being composed: the draft the new-poll conversation keeps, and what it may become.

The conversation (`handlers.polls.composer`) asks; this draft decides. It is a
`core.drafts` dataclass, kept typed in ``user_data`` between steps and across
restarts, and every edit the settings card offers is one method here that
either changes the draft or raises a typed refusal (`InvalidInput` for text the
member can correct, `NotOffered` for a button no card shows) for the handler
to word. Nothing is stored until :func:`publishable` turns the draft into a
`storage.polls.PollDraft` for `storage.polls.create`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import drafts
from storage import audience_picks
from storage.audiences import Audience
from storage.models import Poll, PollStatus
from storage.poll_rules import (
    MAX_OPTIONS,
    MIN_OPTIONS,
    NotOffered,
    check_closing,
    clean_option,
    clean_question,
    next_preset,
)
from storage.polls import PollDraft, PollView
from storage.profile_rules import InvalidInput

# The settings a tap on the card changes; the card's other buttons only move around.
EDITS = frozenset({"kind", "max", "anon", "close", "vis", "share", "remind"})


def _everyone() -> dict[str, Any]:
    return Audience(everyone=True).to_json()


@drafts.draft("poll")
@dataclass
class NewPoll:
    """What the creator has chosen so far; ``nonce`` ties the card's buttons to this draft."""

    nonce: int
    question: str | None = None
    options: list[str] = field(default_factory=list)
    multiple: bool = False
    max_choices: int = 2
    anonymous: bool = True
    # Audience.to_json(): an Audience holds frozensets, which a stored draft cannot.
    audience_json: dict[str, Any] = field(default_factory=_everyone)
    closing_hours: int = 72  # a preset; 0 when typed (closes_at) or never
    closes_at: datetime | None = None
    results_visible: bool = False
    share_results: bool = True
    remind: bool = True
    tags: list[str] = field(default_factory=list)  # the picker's tags, in button order

    @property
    def audience(self) -> Audience:
        return Audience.from_json(self.audience_json)

    @property
    def has_question(self) -> bool:
        """Whether the card exists yet: its buttons act only once the question is in."""
        return self.question is not None

    # The question and the options ------------------------------------------------------

    def ask(self, text: str) -> None:
        """Take the question; InvalidInput if it cannot be one."""
        self.question = clean_question(text)

    def add_options(self, text: str) -> None:
        """Take one option per non-empty line; InvalidInput at the first line that cannot
        be one (the lines before it are kept, as the member sent them in that order)."""
        for line in [part for part in text.splitlines() if part.strip()] or [text]:
            self.options.append(clean_option(line, self.options))

    @property
    def options_done(self) -> bool:
        """Whether no more options fit, so the card follows without waiting for Done."""
        return len(self.options) >= MAX_OPTIONS

    @property
    def enough_options(self) -> bool:
        return len(self.options) >= MIN_OPTIONS

    def finish_options(self) -> None:
        """Close the list of options; InvalidInput("too_few_options") below the minimum."""
        if not self.enough_options:
            raise InvalidInput("too_few_options")
        self.max_choices = min(self.max_choices, len(self.options))

    # The settings card --------------------------------------------------------------

    def change(self, setting: str) -> None:
        """Apply one tap on the card; NotOffered for a setting the card does not show."""
        if setting not in EDITS or (setting == "max" and not self.multiple):
            raise NotOffered(setting)
        if setting == "kind":
            self.multiple = not self.multiple
        elif setting == "max":
            # Round from 2 up to every option, then back to 2.
            self.max_choices = self.max_choices + 1 if self.max_choices < len(self.options) else 2
        elif setting == "anon":
            self.anonymous = not self.anonymous
        elif setting == "close":
            self.closing_hours, self.closes_at = next_preset(self.closing_hours or 0), None
        elif setting == "vis":
            self.results_visible = not self.results_visible
        elif setting == "share":
            self.share_results = not self.share_results
        elif setting == "remind":
            self.remind = not self.remind

    def close_at(self, closes_at: datetime) -> None:
        """A typed closing time replaces the preset."""
        self.closing_hours, self.closes_at = 0, closes_at

    def choose(self, audience: Audience) -> None:
        self.audience_json = audience.to_json()

    def closing(self, now: datetime) -> datetime | None:
        """When the poll would close if published at ``now``."""
        if self.closing_hours:
            return now + timedelta(hours=self.closing_hours)
        return self.closes_at

    # Publishing ------------------------------------------------------------------------

    def as_poll(self, now: datetime) -> PollDraft:
        assert self.question is not None
        return PollDraft(
            question=self.question,
            options=tuple(self.options),
            multiple=self.multiple,
            max_choices=self.max_choices if self.multiple else 1,
            anonymous=self.anonymous,
            audience=self.audience,
            closes_at=self.closing(now),
            results_visible=self.results_visible,
            share_results=self.share_results,
            remind=self.remind,
        )


async def publishable(session: AsyncSession, draft: NewPoll, now: datetime) -> PollDraft:
    """The poll to create from the draft, if it may go out now.

    Raises `audience_picks.NoRecipients` when the audience reaches nobody, and
    `InvalidInput` when the closing time has come too close (or lies too far).
    """
    await audience_picks.recipients(session, draft.audience)
    poll = draft.as_poll(now)
    if poll.closes_at is not None:
        check_closing(poll.closes_at, now)
    return poll


def preview(poll: PollDraft) -> PollView:
    """The poll as members will see it, never stored (its buttons do nothing)."""
    return PollView(
        Poll(
            id=0,
            question=poll.question,
            multiple=poll.multiple,
            max_choices=poll.max_choices,
            anonymous=poll.anonymous,
            results_visible=poll.results_visible,
            status=PollStatus.OPEN.value,
            closes_at=poll.closes_at,
        ),
        poll.options,
    )

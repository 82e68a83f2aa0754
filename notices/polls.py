"""What a poll sends to its members: the poll itself, the reminder, the results, the chart;
and the redraws when it changes: every copy and every manager's card at the close or
an extension.

Shared by the handlers (publishing, closing by hand) and `jobs.polls` (closing
at the set time, reminding, the chart). Each function writes outbox rows in
the caller's transaction, under keys that name the poll and the member
(``poll:<id>:result:<member>``), so a job that runs twice, or on two
instances, sends each message once. A reminder's recipients are the
non-voters, so for an anonymous poll its rows are sealed and keyed by a hash:
the outbox must not say who voted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup

from core.i18n import Translator, translator
from core.runtime import Runtime
from display import polls as display
from storage import audiences, members, outbox, polls
from storage.audiences import Audience, Recipient
from storage.poll_rules import Tally
from storage.polls import PollKeys, PollView

log = logging.getLogger(__name__)


async def announce(session: AsyncSession, view: PollView, *, now: datetime, zone: tzinfo) -> int:
    """Send a just-created poll to its audience; returns how many members that is."""
    return await polls.publish(
        session,
        view,
        now=now,
        message_for=lambda language: display.poll_payload(translator(language), view, zone),
    )


async def close_and_notify(
    session: AsyncSession,
    poll_id: int,
    *,
    now: datetime,
    runtime: Runtime,
    shown: tuple[int, int] | None = None,
) -> PollView | None:
    """Close the poll (if nobody did yet) and enqueue the results text, in this transaction.

    The creator always gets the results; the whole audience too when the poll says
    so — everyone asked, not only those who voted, so that who gets a result says
    nothing of who voted.
    """
    view = await polls.close(session, poll_id, now=now)
    if view is None:
        return None
    tally = await polls.tally(session, view)
    zone = runtime.settings.tz
    targets: dict[int, Recipient] = {}
    creator = await polls.creator_recipient(session, view.poll)
    if creator is not None:
        targets[creator.member_id] = creator
    if view.poll.share_results:
        for member in await polls.audience_members(session, view.poll):
            targets.setdefault(member.member_id, member)
    texts: dict[str, str] = {}
    items = []
    for member_id, target in sorted(targets.items()):
        if target.language not in texts:
            texts[target.language] = display.closed_notice(
                translator(target.language), view, tally, zone
            )
        items.append(
            outbox.Outgoing(
                key=f"poll:{view.id}:result:{member_id}",
                kind="poll-result",
                chat_id=target.telegram_id,
                member_id=member_id,
                group_key=f"poll:{view.id}:results",
                payload=outbox.payload("sendMessage", text=texts[target.language]),
                priority=outbox.PRIORITY_NOTICE,
            )
        )
    await outbox.enqueue_many(session, items, now=now)
    log.info("poll %d closed: %d results enqueued", view.id, len(items))
    # A poll message or reminder not yet sent would arrive with live buttons: not sent.
    await outbox.cancel_group(session, polls.group_key(view.id), now=now)
    await close_copies(session, view, now=now, runtime=runtime)
    await redraw_cards(session, view, now=now, runtime=runtime, shown=shown)
    return view


async def close_copies(
    session: AsyncSession, view: PollView, *, now: datetime, runtime: Runtime
) -> int:
    """Edit every delivered copy of a closed poll to its closed state; returns how many new.

    Idempotent: each edit's outbox key names the copy (``poll:<id>:closed:…``), so
    running it again (the job does, for a while after closing, to catch a copy that
    was in flight at the close) enqueues only copies not edited yet. Edits go
    through the outbox at its pace, after notices and replies (bulk priority).
    A reminder's copy went only to a non-voter, an opened copy (`PollCopy`) to a
    member who looked again: for an anonymous poll their edits are sealed and
    keyed by a hash, like the reminder itself.
    """
    keys = PollKeys.from_secret(runtime.settings.secret_key)
    members = await polls.audience_members(session, view.poll)
    copies = await polls.delivered_copies(session, view.id, members, keys)
    if not copies:
        return 0
    tally = await polls.tally(session, view)
    zone = runtime.settings.tz
    shown: dict[str, tuple[str, dict[str, Any]]] = {}
    items = []
    for copy in copies:
        if copy.language not in shown:
            text, markup = display.closed_copy(translator(copy.language), view, zone, tally)
            shown[copy.language] = (text, markup.to_dict())
        text, markup_data = shown[copy.language]
        sealed = copy.private and view.poll.anonymous
        name = f"{copy.member_id}:{copy.message_id}"
        items.append(
            outbox.Outgoing(
                key=f"poll:{view.id}:closed:"
                + (keys.voter(f"closed:{view.id}:{name}")[:32] if copy.private else name),
                kind="poll-closed",
                chat_id=copy.chat_id,
                member_id=None if sealed else copy.member_id,
                group_key=f"poll:{view.id}:closed",
                payload=outbox.payload(
                    "editMessageText",
                    message_id=copy.message_id,
                    text=text,
                    reply_markup=markup_data,
                ),
                priority=outbox.PRIORITY_BULK,
                at_most_once=False,  # an edit done twice reads the same
                sensitive=sealed,
            )
        )
    cipher = outbox.outbox_cipher(runtime.settings.secret_key)
    created = await outbox.enqueue_many(session, items, now=now, cipher=cipher)
    if created:
        log.info("poll %d: %d copies to show as closed", view.id, created)
    return created


# The managers' cards ------------------------------------------------------------------


async def manage_card(
    session: AsyncSession, view: PollView, t: Translator, zone: tzinfo
) -> tuple[str, InlineKeyboardMarkup]:
    """The card an admin or the creating cadre manages the poll from, as it is now."""
    tally = await polls.tally(session, view)
    described = await audiences.describe(session, Audience.from_json(view.poll.audience), zone)
    return (
        display.manage_text(t, view, tally, described, zone),
        display.manage_keyboard(t, view),
    )


async def redraw_cards(
    session: AsyncSession,
    view: PollView,
    *,
    now: datetime,
    runtime: Runtime,
    shown: tuple[int, int] | None = None,
) -> int:
    """Edit every manage card of the poll to its state now (closed, or the new time).

    Through the outbox, in the caller's transaction; ``shown`` (chat, message) is
    the card the presser is looking at, redrawn by the handler itself. A card's
    edit is keyed by the state it shows, so a state is drawn once per card, and an
    older redraw still waiting is cancelled: the newest state wins.
    """
    cards = await polls.cards_of(session, view.id)
    if not cards:
        return 0
    zone = runtime.settings.tz
    group = f"poll:{view.id}:cards"
    await outbox.cancel_group(session, group, now=now)
    if not view.is_open:
        state = "closed"
    elif view.poll.closes_at is not None:
        state = f"until:{int(view.poll.closes_at.timestamp())}"
    else:
        state = "open"
    drawn: dict[str, tuple[str, dict[str, Any]]] = {}
    items = []
    for card in cards:
        if shown is not None and (card.chat_id, card.message_id) == shown:
            continue
        member = await members.get_member(session, card.chat_id)
        language = member.language if member is not None else runtime.settings.default_language
        if language not in drawn:
            text, markup = await manage_card(session, view, translator(language), zone)
            drawn[language] = (text, markup.to_dict())
        text, markup_data = drawn[language]
        items.append(
            outbox.Outgoing(
                key=f"poll:{view.id}:card:{card.id}:{state}",
                kind="poll-card",
                chat_id=card.chat_id,
                group_key=group,
                payload=outbox.payload(
                    "editMessageText",
                    message_id=card.message_id,
                    text=text,
                    reply_markup=markup_data,
                ),
                priority=outbox.PRIORITY_NOTICE,
                at_most_once=False,  # an edit done twice reads the same
            )
        )
    return await outbox.enqueue_many(session, items, now=now)


# Extending --------------------------------------------------------------------------


def _reminder_payload(t: Translator, view: PollView, zone: tzinfo) -> dict[str, Any]:
    assert view.poll.closes_at is not None
    header = t.gettext(
        "⏰ Reminder: this poll closes on {when} and you have not voted yet."
    ).format(when=display.local_time(view.poll.closes_at, zone))
    return outbox.payload(
        "sendMessage",
        text=header + "\n\n" + display.poll_text(t, view, zone, 0),
        reply_markup=display.poll_keyboard(t, view, 0).to_dict(),
    )


def extension_group(keys: PollKeys, poll_id: int, member_id: int) -> str:
    """The outbox group of one member's extension edits (a keyed hash: who has copies
    is no secret, but a vote cancels these, and a vote must not name its voter)."""
    return f"poll:{poll_id}:ext:" + keys.voter(f"ext:{poll_id}:{member_id}")[:32]


async def extend_and_notify(
    session: AsyncSession,
    poll_id: int,
    by: timedelta,
    *,
    now: datetime,
    runtime: Runtime,
    shown: tuple[int, int] | None = None,
) -> PollView:
    """Extend the poll and make every message about it say the new closing time.

    The poll messages and reminders still waiting in the outbox are rewritten
    (the member gets the new text, not the old one and then an edit); the
    delivered copies are edited; so are the managers' cards. Raises
    `VoteRefused` ("closed") when the poll is no longer open.
    """
    view = await polls.extend(session, poll_id, by, now=now)
    zone = runtime.settings.tz
    keys = PollKeys.from_secret(runtime.settings.secret_key)
    audience = await polls.audience_members(session, view.poll)
    fresh: dict[tuple[str, bool], dict[str, Any]] = {}
    rewrites = []
    for pending in await polls.pending_copies(session, view.id, audience, keys):
        language = pending.member.language
        if (language, pending.reminder) not in fresh:
            t = translator(language)
            fresh[language, pending.reminder] = (
                _reminder_payload(t, view, zone)
                if pending.reminder
                else display.poll_payload(t, view, zone)
            )
        sealed = pending.reminder and view.poll.anonymous
        rewrites.append(
            outbox.Outgoing(
                key=pending.key,
                kind="poll-reminder" if pending.reminder else "poll",
                chat_id=pending.member.telegram_id,
                member_id=None if sealed else pending.member.member_id,
                payload=fresh[language, pending.reminder],
                sensitive=sealed,
            )
        )
    cipher = outbox.outbox_cipher(runtime.settings.secret_key)
    rewritten = await outbox.rewrite_pending(session, rewrites, cipher=cipher)
    edited = await extension_copies(session, view, now=now, runtime=runtime, audience=audience)
    await redraw_cards(session, view, now=now, runtime=runtime, shown=shown)
    log.info(
        "poll %d extended: %d waiting rewritten, %d copies to edit", view.id, rewritten, edited
    )
    return view


async def extension_copies(
    session: AsyncSession,
    view: PollView,
    *,
    now: datetime,
    runtime: Runtime,
    audience: Sequence[Recipient] | None = None,
) -> int:
    """Edit every delivered copy of an open poll to show its closing time now.

    Each member's copy shows their own choice, so on an anonymous poll every
    edit is sealed and keyed by a hash. The key names the closing time, so a
    second run (the job, for copies that were in flight) adds only new copies;
    a member's vote redraws their copies itself and cancels these
    (`extension_group`), so an edit drawn before the vote never lands after it.
    """
    keys = PollKeys.from_secret(runtime.settings.secret_key)
    if audience is None:
        audience = await polls.audience_members(session, view.poll)
    copies = await polls.delivered_copies(session, view.id, audience, keys)
    if not copies:
        return 0
    zone = runtime.settings.tz
    choices = await polls.choices_by_voter(session, view.id)
    tally: Tally | None = (
        await polls.tally(session, view) if display.results_visible(view.poll) else None
    )
    until = int(view.poll.closes_at.timestamp()) if view.poll.closes_at is not None else 0
    anonymous = view.poll.anonymous
    items = []
    for copy in copies:
        t = translator(copy.language)
        mask = choices.get(keys.voter_key(view.id, copy.member_id), 0)
        name = f"{copy.member_id}:{copy.message_id}"
        items.append(
            outbox.Outgoing(
                key=f"poll:{view.id}:ext:{until}:"
                + (keys.voter(f"ext:{view.id}:{name}")[:32] if anonymous else name),
                kind="poll-extended",
                chat_id=copy.chat_id,
                member_id=None if anonymous else copy.member_id,
                group_key=extension_group(keys, view.id, copy.member_id),
                payload=outbox.payload(
                    "editMessageText",
                    message_id=copy.message_id,
                    text=display.poll_text(t, view, zone, mask, tally),
                    reply_markup=display.poll_keyboard(t, view, mask).to_dict(),
                ),
                priority=outbox.PRIORITY_BULK,
                at_most_once=False,
                sensitive=anonymous,
            )
        )
    cipher = outbox.outbox_cipher(runtime.settings.secret_key)
    return await outbox.enqueue_many(session, items, now=now, cipher=cipher)


async def remind(session: AsyncSession, poll_id: int, *, now: datetime, runtime: Runtime) -> int:
    """Remind the audience's non-voters that the poll closes soon; returns how many."""
    view = await polls.get(session, poll_id)
    keys = PollKeys.from_secret(runtime.settings.secret_key)
    zone = runtime.settings.tz
    payloads: dict[str, dict[str, Any]] = {}
    items = []
    for target in await polls.non_voters(session, view.poll, keys):
        if target.language not in payloads:
            payloads[target.language] = _reminder_payload(translator(target.language), view, zone)
        items.append(
            outbox.Outgoing(
                key=keys.reminder_key(view.id, target.member_id),
                kind="poll-reminder",
                chat_id=target.telegram_id,
                group_key=polls.group_key(view.id),
                payload=payloads[target.language],
                priority=outbox.PRIORITY_REMINDER,
                # The reminded are the non-voters: sealed, for an anonymous poll
                # the database must not say who voted.
                sensitive=view.poll.anonymous,
            )
        )
    cipher = outbox.outbox_cipher(runtime.settings.secret_key)
    return await outbox.enqueue_many(session, items, now=now, cipher=cipher)


async def share_chart(
    session: AsyncSession,
    view: PollView,
    file_id: str,
    audience: Sequence[Recipient],
    *,
    creator: Recipient | None,
    now: datetime,
) -> int:
    """Send the uploaded chart by its file id to the audience (the creator has it already)."""
    items = [
        outbox.Outgoing(
            key=f"poll:{view.id}:chart:{voter.member_id}",
            kind="poll-chart",
            chat_id=voter.telegram_id,
            member_id=voter.member_id,
            group_key=f"poll:{view.id}:results",
            payload=outbox.payload(
                "sendPhoto",
                photo=file_id,
                caption=display.chart_caption(translator(voter.language), view),
            ),
            priority=outbox.PRIORITY_NOTICE,
        )
        for voter in audience
        if creator is None or voter.member_id != creator.member_id
    ]
    return await outbox.enqueue_many(session, items, now=now)

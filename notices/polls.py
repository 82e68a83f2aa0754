"""What a poll sends to its members: the poll itself, the reminder, the results, the chart.

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
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import translator
from core.runtime import Runtime
from display import polls as display
from storage import outbox, polls
from storage.audiences import Recipient
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
    session: AsyncSession, poll_id: int, *, now: datetime, runtime: Runtime
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


async def remind(session: AsyncSession, poll_id: int, *, now: datetime, runtime: Runtime) -> int:
    """Remind the audience's non-voters that the poll closes soon; returns how many."""
    view = await polls.get(session, poll_id)
    keys = PollKeys.from_secret(runtime.settings.secret_key)
    zone = runtime.settings.tz
    payloads: dict[str, dict[str, Any]] = {}
    items = []
    for target in await polls.non_voters(session, view.poll, keys):
        if target.language not in payloads:
            t = translator(target.language)
            assert view.poll.closes_at is not None
            header = t.gettext(
                "⏰ Reminder: this poll closes on {when} and you have not voted yet."
            ).format(when=display.local_time(view.poll.closes_at, zone))
            payloads[target.language] = outbox.payload(
                "sendMessage",
                text=header + "\n\n" + display.poll_text(t, view, zone, 0),
                reply_markup=display.poll_keyboard(t, view, 0).to_dict(),
            )
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

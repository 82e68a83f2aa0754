"""Members and polls: the list, a poll shown again, a vote, the results (and their chart).

Voting needs the poll open, the option real and the presser in the audience
(`storage.polls.vote` decides and raises `VoteRefused`); results need the
presser in the audience and the results visible, unless they manage the poll.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError

from display import callbacks as cb
from display import polls as display
from display import rendering
from handlers.common import pressed_args, reply, show_working
from handlers.polls.base import alert, edit, keys, load, refusal
from handlers.scope import Context, Scope, registered
from jobs.sender import edit_done
from notices import polls as notices
from storage import outbox, polls
from storage.audiences import Recipient
from storage.poll_rules import VoteRefused, chosen, results_shown
from storage.polls import PollView

log = logging.getLogger(__name__)


async def member_view(
    scope: Scope, view: PollView, mask: int | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """The poll as the presser sees it: their choice (``mask``, when the vote just made
    it is known), and the results if shown."""
    assert scope.member is not None
    if mask is None:
        mask = await polls.current_choice(scope.session, view.id, scope.member.id, keys(scope))
    tally = await polls.tally(scope.session, view) if display.results_visible(view.poll) else None
    zone = scope.settings.tz
    return (
        display.poll_text(scope.t, view, zone, mask, tally),
        display.poll_keyboard(scope.t, view, mask),
    )


@registered
async def vote(update: Update, context: Context, scope: Scope) -> None:
    query = update.callback_query
    assert query is not None and scope.member is not None
    pressed = pressed_args(update, cb.POLL_VOTE)
    try:
        outcome = await polls.vote(
            scope.session,
            pressed.poll,
            scope.member,
            pressed.position,
            now=scope.runtime.now(),
            keys=keys(scope),
        )
    except VoteRefused as refused:
        limit = 0
        if refused.code == "too_many":
            view = await polls.get(scope.session, pressed.poll)
            limit = view.poll.max_choices
        await query.answer(refusal(scope, refused.code, limit), show_alert=True)
        if refused.code == "closed":
            view = await polls.get(scope.session, pressed.poll)
            text, markup = await member_view(scope, view)
            await edit(update, text, markup)
        return
    view = outcome.view
    # This member's copies are redrawn below, as they are now: an extension's edit of
    # them still waiting (drawn before this vote) must not land after it.
    await outbox.cancel_group(
        scope.session,
        notices.extension_group(keys(scope), view.id, scope.member.id),
        now=scope.runtime.now(),
    )
    picked = [view.options[i] for i in chosen(outcome.after)]
    if not picked:
        toast = scope._("Your vote was withdrawn.")
    elif outcome.changed:
        toast = scope._("Saved: {choice}").format(
            choice=scope._(display.CHOICE_SEPARATOR).join(picked)
        )[:190]
    else:
        toast = scope._("That is already your choice.")
    await query.answer(toast)
    text, markup = await member_view(scope, view, outcome.after)
    await edit(update, text, markup)
    await _other_copies(update, context, scope, view, text, markup)


async def _other_copies(
    update: Update,
    context: Context,
    scope: Scope,
    view: PollView,
    text: str,
    markup: InlineKeyboardMarkup,
) -> None:
    """The presser's other copies of the poll (as published, the reminder) say the same.

    The presser's own messages, edited after the vote was committed: nothing is
    written for it, so no row says who voted when.
    """
    assert scope.member is not None
    pressed = update.effective_message
    me = Recipient(scope.member.id, scope.member.telegram_id, scope.member.language)
    for copy in await polls.delivered_copies(scope.session, view.id, [me], keys(scope)):
        if pressed is not None and copy.message_id == pressed.message_id:
            continue
        try:
            await context.bot.edit_message_text(
                text, chat_id=copy.chat_id, message_id=copy.message_id, reply_markup=markup
            )
        except BadRequest as error:
            if not edit_done(error):
                log.info("poll %d copy not redrawn: %s", view.id, error.message)
        except TelegramError as error:
            log.info("poll %d copy not redrawn: %s", view.id, type(error).__name__)


async def _send_results(update: Update, scope: Scope, view: PollView) -> None:
    tally = await polls.tally(scope.session, view)
    await reply(update, display.results_text(scope.t, view, tally, scope.settings.tz))
    message = update.effective_message
    assert message is not None
    if not results_shown(view.poll.anonymous, tally.voters):
        return  # no chart either: its bars would be the counts
    caption = display.chart_caption(scope.t, view)
    if not view.is_open and view.poll.chart_file_id:
        await message.reply_photo(view.poll.chart_file_id, caption=caption)
        return
    await show_working(update, ChatAction.UPLOAD_PHOTO)
    (png,) = await rendering.draw(display.chart(scope.t, view, tally))
    await message.reply_photo(png, caption=caption, filename=f"poll-{view.id}.png")


@registered
async def results(update: Update, context: Context, scope: Scope) -> None:
    assert scope.member is not None and update.callback_query is not None
    view = await load(update, scope, pressed_args(update, cb.POLL_RESULTS).poll)
    if view is None:
        return
    if not polls.may_manage(view.poll, scope.role, scope.member.id):
        if not await polls.in_audience(scope.session, view.poll, scope.member.id):
            await alert(update, refusal(scope, "not_in_audience"))
            return
        if not display.results_visible(view.poll):
            await alert(update, refusal(scope, "hidden"))
            return
    await update.callback_query.answer()
    await _send_results(update, scope, view)


@registered
async def open_poll(update: Update, context: Context, scope: Scope) -> None:
    assert scope.member is not None and update.callback_query is not None
    view = await load(update, scope, pressed_args(update, cb.POLL_OPEN).poll)
    if view is None:
        return
    manager = polls.may_manage(view.poll, scope.role, scope.member.id)
    if not manager and not await polls.in_audience(scope.session, view.poll, scope.member.id):
        await alert(update, refusal(scope, "not_in_audience"))
        return
    await update.callback_query.answer()
    text, markup = await member_view(scope, view)
    shown = await reply(update, text, reply_markup=markup)
    if view.is_open:  # kept, so a vote elsewhere and the close redraw this copy too
        await polls.record_copy(
            scope.session, view.id, scope.member.id, shown.message_id, keys(scope)
        )


@registered
async def list_polls(update: Update, context: Context, scope: Scope) -> None:
    assert scope.member is not None
    found = await polls.for_member(
        scope.session, scope.member, scope.role, now=scope.runtime.now(), keys=keys(scope)
    )
    can_create = await polls.may_create(scope.session, scope.role)
    text = display.list_text(scope.t, found, scope.settings.tz, can_create)
    markup = display.list_keyboard(scope.t, found, can_create, scope.is_admin)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await edit(update, text, markup)
        message = update.effective_message
        if message is not None:  # a manage card turned back into the list
            await polls.forget_card(scope.session, message.chat_id, message.message_id)
    else:
        await reply(update, text, reply_markup=markup)

"""Managing a poll: its card, results by department, the export, extending, closing, deleting;
and, from the admin panel, whether cadres may create polls.

Every button here needs an admin or the cadre who created the poll
(`handlers.polls.base.managed`); the settings need an admin.
"""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from display import callbacks as cb
from display import polls as display
from display import rendering
from handlers.common import pressed_args, reply, show_working
from handlers.polls.base import alert, edit, keys, managed
from handlers.scope import Context, Scope, admin_only, registered
from jobs import polls as poll_jobs
from jobs.delivery import wake_after_commit
from notices import polls as notices
from storage import polls
from storage.poll_rules import NotOffered, VoteRefused, extension
from storage.polls import PollView


def _shown(update: Update) -> tuple[int, int] | None:
    """The card the presser is looking at: the handler redraws it itself."""
    message = update.effective_message
    return (message.chat_id, message.message_id) if message is not None else None


async def send_manage_card(update: Update, scope: Scope, view: PollView) -> None:
    text, markup = await notices.manage_card(scope.session, view, scope.t, scope.settings.tz)
    sent = await reply(update, text, reply_markup=markup)
    # Kept, so that closing (by hand or by the job) or extending redraws it.
    await polls.record_card(scope.session, view.id, sent.chat_id, sent.message_id)


async def _show_manage_card(update: Update, scope: Scope, view: PollView) -> None:
    text, markup = await notices.manage_card(scope.session, view, scope.t, scope.settings.tz)
    await edit(update, text, markup)
    if (shown := _shown(update)) is not None:
        await polls.record_card(scope.session, view.id, *shown)


async def _already_closed(update: Update, scope: Scope, view: PollView) -> None:
    """A press on ⏰ or 🔒 of a closed poll (an old card, a forged button): nothing changes,
    the presser is told so and the pressed card shows the poll as it is."""
    await alert(update, scope._("This poll has already closed; nothing was changed."))
    await _show_manage_card(update, scope, view)


@registered
async def manage(update: Update, context: Context, scope: Scope) -> None:
    view = await managed(update, scope, pressed_args(update, cb.POLL_MANAGE).poll)
    if view is None:
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await _show_manage_card(update, scope, view)


@registered
async def breakdown(update: Update, context: Context, scope: Scope) -> None:
    view = await managed(update, scope, pressed_args(update, cb.POLL_BREAKDOWN).poll)
    if view is None:
        return
    assert update.callback_query is not None
    if view.is_open:
        # While votes still come in, two looks a minute apart would differ by exactly
        # the votes in between: departments are shown for the final count only.
        await update.callback_query.answer(
            scope._("Results by department are shown once the poll has closed."),
            show_alert=True,
        )
        return
    await update.callback_query.answer()
    rows = await polls.department_breakdown(
        scope.session, view, keys(scope), no_department=scope._("No department")
    )
    await reply(update, display.breakdown_text(scope.t, view, rows))


@registered
async def export(update: Update, context: Context, scope: Scope) -> None:
    view = await managed(update, scope, pressed_args(update, cb.POLL_EXPORT).poll)
    if view is None:
        return
    assert update.callback_query is not None and update.effective_message is not None
    await update.callback_query.answer()
    await show_working(update)
    tally = await polls.tally(scope.session, view)
    votes = None if view.poll.anonymous else await polls.named_votes(scope.session, view)
    rows = (
        None
        if view.is_open
        else await polls.department_breakdown(
            scope.session, view, keys(scope), no_department=scope._("No department")
        )
    )
    book = display.export_xlsx(scope.t, view, tally, scope.settings.tz, votes, rows)
    (data,) = await rendering.draw(book)
    caption = (
        scope._("Totals only: the poll is anonymous, so nobody's vote can be exported.")
        if view.poll.anonymous
        else scope._("Who voted what, with the totals.")
    )
    await update.effective_message.reply_document(
        data, filename=display.export_name(view), caption=caption
    )


@registered
async def extend(update: Update, context: Context, scope: Scope) -> None:
    pressed = pressed_args(update, cb.POLL_EXTEND)
    view = await managed(update, scope, pressed.poll)
    if view is None:
        return
    try:
        longer = extension(pressed.hours)
    except NotOffered:
        await alert(update, scope._("This button is no longer valid."))
        return
    if not view.is_open:
        await _already_closed(update, scope, view)
        return
    try:
        view = await notices.extend_and_notify(
            scope.session,
            view.id,
            longer,
            now=scope.runtime.now(),
            runtime=scope.runtime,
            shown=_shown(update),
        )
    except VoteRefused:
        await scope.session.refresh(view.poll)
        await _already_closed(update, scope, view)
        return
    wake_after_commit(scope.session, context)
    assert update.callback_query is not None and view.poll.closes_at is not None
    await update.callback_query.answer(
        scope._("Now open until {when}.").format(
            when=display.local_time(view.poll.closes_at, scope.settings.tz)
        )
    )
    await _show_manage_card(update, scope, view)


@registered
async def ask_close(update: Update, context: Context, scope: Scope) -> None:
    view = await managed(update, scope, pressed_args(update, cb.POLL_CLOSE).poll)
    if view is None:
        return
    if not view.is_open:
        await _already_closed(update, scope, view)
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await edit(
        update,
        scope._("Close “{question}” now? Votes stop and the results go out.").format(
            question=html.escape(view.poll.question)
        ),
        display.confirm_keyboard(
            scope.t, cb.POLL_CLOSE_CONFIRM.pack(view.id), cb.POLL_MANAGE.pack(view.id)
        ),
    )


@registered
async def close_now(update: Update, context: Context, scope: Scope) -> None:
    view = await managed(update, scope, pressed_args(update, cb.POLL_CLOSE_CONFIRM).poll)
    if view is None:
        return
    assert update.callback_query is not None
    closed = await notices.close_and_notify(
        scope.session,
        view.id,
        now=scope.runtime.now(),
        runtime=scope.runtime,
        shown=_shown(update),
    )
    if closed is None:  # closed by someone else (or the job) since the card was drawn
        await scope.session.refresh(view.poll)
        await _already_closed(update, scope, view)
        return
    await update.callback_query.answer(scope._("Closed. The results are on their way."))
    wake_after_commit(scope.session, context)
    # The chart needs the committed closing: render it right after.
    application = context.application
    poll_jobs.after_commit(scope.session, lambda: poll_jobs.run_soon(application))
    await _show_manage_card(update, scope, closed)


@registered
async def ask_delete(update: Update, context: Context, scope: Scope) -> None:
    view = await managed(update, scope, pressed_args(update, cb.POLL_DELETE).poll)
    if view is None:
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await edit(
        update,
        scope._(
            "Delete “{question}” with all its votes? Members' buttons will stop working. "
            "This cannot be undone."
        ).format(question=html.escape(view.poll.question)),
        display.confirm_keyboard(
            scope.t, cb.POLL_DELETE_CONFIRM.pack(view.id), cb.POLL_MANAGE.pack(view.id)
        ),
    )


@registered
async def delete(update: Update, context: Context, scope: Scope) -> None:
    view = await managed(update, scope, pressed_args(update, cb.POLL_DELETE_CONFIRM).poll)
    if view is None:
        return
    assert update.callback_query is not None
    await polls.remove(scope.session, view.id, now=scope.runtime.now())
    await update.callback_query.answer(scope._("Deleted."))
    await edit(
        update,
        scope._("The poll “{question}” was deleted.").format(
            question=html.escape(view.poll.question)
        ),
        InlineKeyboardMarkup(
            [[InlineKeyboardButton(scope._("« Polls"), callback_data=cb.POLL_LIST.pack())]]
        ),
    )


# Settings (from the admin panel) ----------------------------------------------------------


async def _render_settings(update: Update, scope: Scope) -> None:
    allowed = await polls.cadres_may_create(scope.session)
    text = display.settings_text(scope.t, allowed)
    markup = display.settings_keyboard(scope.t, allowed)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await edit(update, text, markup)
    else:
        await reply(update, text, reply_markup=markup)


@admin_only
async def settings(update: Update, context: Context, scope: Scope) -> None:
    await _render_settings(update, scope)


@admin_only
async def set_cadres(update: Update, context: Context, scope: Scope) -> None:
    flag = pressed_args(update, cb.POLL_CADRES)
    if flag.on not in (0, 1):
        await alert(update, scope._("This button is no longer valid."))
        return
    await polls.set_cadres_may_create(scope.session, bool(flag.on))
    await _render_settings(update, scope)

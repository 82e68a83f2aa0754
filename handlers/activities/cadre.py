"""Cadres run activities: their list and panel, publishing, the link, cancelling, the
roster with check-in marks, and exports.

Every handler here is `cadre_only`; the activity id in the button is looked up
again, so a press on an old panel acts on what the database holds now.
Members told of a change (an announcement, a cancellation) are written to
the outbox by `notices.activities` in the same step.
"""

from __future__ import annotations

from html import escape

from telegram import InputFile, Update

from display import activities as show
from display import callbacks as cb
from display import rendering
from handlers.activities.views import link_to, render_manage
from handlers.common import pressed_args, reply, show_panel, show_working
from handlers.enrolment_common import (
    answer,
    delivering,
    now_of,
    publish_offering,
    publish_toast,
)
from handlers.scope import Context, Scope, cadre_only
from notices import activities as tell
from storage import activities
from storage.members import NotFound
from storage.offerings import Refused

EXPORTS = ("csv", "xlsx")


@cadre_only
async def admin_list(update: Update, context: Context, scope: Scope) -> None:
    page = 0
    if update.callback_query is not None:
        page = pressed_args(update, cb.ACT_ADMIN).page
        await answer(update)
    found = await activities.for_cadres(scope.session, now_of(scope), page)
    await show_panel(
        update,
        show.admin_list_text(scope.t, found),
        show.list_keyboard(
            scope.t,
            scope.settings.tz,
            found,
            cadre=True,
            paging=cb.ACT_ADMIN,
            opening=cb.ACT_MANAGE,
        ),
    )


@cadre_only
async def manage(update: Update, context: Context, scope: Scope) -> None:
    activity_id = pressed_args(update, cb.ACT_MANAGE).activity
    await answer(update)
    await render_manage(update, context, scope, activity_id)


async def publish_now(
    context: Context, scope: Scope, activity_id: int, announce: bool
) -> tuple[bool, int]:
    """Publish (once) and, if asked, announce to the audience: (published now, rows written)."""
    return await publish_offering(
        context, scope, activity_id, announce, book=activities, notices=tell
    )


@cadre_only
async def publish(update: Update, context: Context, scope: Scope) -> None:
    pressed = pressed_args(update, cb.ACT_PUBLISH)
    announce = bool(pressed.announce)
    published, sent = await publish_now(context, scope, pressed.parent, announce)
    await publish_toast(update, scope, published=published, announce=announce, sent=sent)
    await render_manage(update, context, scope, pressed.parent)


@cadre_only
async def share_link(update: Update, context: Context, scope: Scope) -> None:
    activity_id = pressed_args(update, cb.ACT_LINK).activity
    await answer(update)
    await reply(
        update,
        scope._("Share this link in any chat; it opens the activity in the bot:\n{link}").format(
            link=escape(link_to(context, activity_id))
        ),
    )


@cadre_only
async def ask_cancel(update: Update, context: Context, scope: Scope) -> None:
    activity_id = pressed_args(update, cb.ACT_CANCEL).activity
    await answer(update)
    try:
        activity = await activities.get(scope.session, activity_id)
    except NotFound:
        return
    people = len(await activities.participants(scope.session, activity.id, waitlisted=True))
    await show_panel(
        update,
        scope._(
            "Cancel “{title}”? The {count} members signed up (waitlist included) are told, "
            "and no more reminders go out. This cannot be undone."
        ).format(title=escape(activity.title), count=people),
        show.cancel_confirm_keyboard(scope.t, activity.id),
    )


@cadre_only
async def cancel_activity(update: Update, context: Context, scope: Scope) -> None:
    activity_id = pressed_args(update, cb.ACT_CANCEL_CONFIRM).activity
    now = now_of(scope)
    people = await activities.cancel(scope.session, activity_id, now)
    try:
        activity = await activities.get(scope.session, activity_id)
    except NotFound:
        await answer(update, show.refusal(scope.t, scope.settings.tz, "not_found"), True)
        return
    told = await tell.tell_cancelled(
        scope.session, activity, people, zone=scope.settings.tz, now=now
    )
    delivering(scope, context, told)
    await answer(
        update, scope._("Cancelled. {count} members are being told.").format(count=len(people))
    )
    await render_manage(update, context, scope, activity.id)


# The roster and check-in marks ----------------------------------------------------------------


async def render_roster(update: Update, scope: Scope, activity_id: int, page: int) -> None:
    activity = await activities.get(scope.session, activity_id)
    lines = await activities.roster(scope.session, activity_id)
    await show_panel(
        update,
        show.roster_text(scope.t, activity, lines, page),
        show.roster_keyboard(scope.t, activity, lines, page),
    )


@cadre_only
async def roster(update: Update, context: Context, scope: Scope) -> None:
    pressed = pressed_args(update, cb.ACT_ROSTER)
    try:
        await render_roster(update, scope, pressed.activity, pressed.page)
    except NotFound:
        await answer(update, show.refusal(scope.t, scope.settings.tz, "not_found"), True)
        return
    await answer(update)


@cadre_only
async def mark(update: Update, context: Context, scope: Scope) -> None:
    pressed = pressed_args(update, cb.ACT_MARK)
    try:
        signup = await activities.toggle_attendance(
            scope.session, pressed.activity, pressed.signup, now_of(scope)
        )
    except Refused as refused:
        await answer(update, show.refusal(scope.t, scope.settings.tz, refused.reason), True)
        return
    await answer(
        update,
        scope._("Checked in.") if signup.checked_in_at else scope._("Check-in taken back."),
    )
    await render_roster(update, scope, pressed.activity, pressed.page)


@cadre_only
async def export(update: Update, context: Context, scope: Scope) -> None:
    pressed = pressed_args(update, cb.ACT_EXPORT)
    if pressed.format not in EXPORTS:
        await answer(update, scope._("This button is no longer valid."), True)
        return
    try:
        activity = await activities.get(scope.session, pressed.activity)
    except NotFound:
        await answer(update, show.refusal(scope.t, scope.settings.tz, "not_found"), True)
        return
    await answer(update)
    await show_working(update)
    lines = await activities.roster(scope.session, activity.id)
    zone = scope.settings.tz
    if pressed.format == "csv":
        data = show.roster_csv(scope.t, zone, lines)
    else:
        (data,) = await rendering.draw(show.roster_xlsx(scope.t, zone, activity, lines))
    message = update.effective_message
    assert message is not None
    await message.reply_document(
        InputFile(data, filename=show.export_name(activity, pressed.format)),
        caption=scope._("Roster of {title}: {count} rows.").format(
            title=escape(activity.title), count=len(lines)
        ),
    )

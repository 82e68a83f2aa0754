"""Cadres run trainings: their list and panel, publishing, the link, cancelling, the export.

Every handler here is `cadre_only`; the course id in the button is looked up
again, so a press on an old panel acts on what the database holds now.
Members told of a change are written to the outbox by `notices.trainings` in
the same step. Requests are `requests`, attendance `attendance`.
"""

from __future__ import annotations

from html import escape

from telegram import InputFile, Update

from display import callbacks as cb
from display import rendering
from display import trainings as show
from handlers.common import pressed_args, reply, show_panel, show_working
from handlers.enrolment_common import (
    answer,
    delivering,
    now_of,
    publish_offering,
    publish_toast,
)
from handlers.scope import Context, Scope, cadre_only
from handlers.trainings.views import gone, link_to, render_manage
from notices import trainings as tell
from storage import trainings
from storage.members import NotFound


@cadre_only
async def admin_list(update: Update, context: Context, scope: Scope) -> None:
    page = 0
    if update.callback_query is not None:
        page = pressed_args(update, cb.TRN_ADMIN).page
        await answer(update)
    found = await trainings.for_cadres(scope.session, now_of(scope), page)
    await show_panel(
        update,
        show.list_text(scope.t, found, cadre_list=True),
        show.list_keyboard(scope.t, found, cadre=True, cadre_list=True),
    )


@cadre_only
async def manage(update: Update, context: Context, scope: Scope) -> None:
    training_id = pressed_args(update, cb.TRN_MANAGE).training
    await answer(update)
    await render_manage(update, context, scope, training_id)


async def publish_now(
    context: Context, scope: Scope, training_id: int, announce: bool
) -> tuple[bool, int]:
    """Publish (once) and, if asked, announce to every member: (published now, rows written)."""
    return await publish_offering(
        context, scope, training_id, announce, book=trainings, notices=tell
    )


@cadre_only
async def publish(update: Update, context: Context, scope: Scope) -> None:
    pressed = pressed_args(update, cb.TRN_PUBLISH)
    announce = bool(pressed.announce)
    published, sent = await publish_now(context, scope, pressed.parent, announce)
    await publish_toast(update, scope, published=published, announce=announce, sent=sent)
    await render_manage(update, context, scope, pressed.parent)


@cadre_only
async def share_link(update: Update, context: Context, scope: Scope) -> None:
    training_id = pressed_args(update, cb.TRN_LINK).training
    await answer(update)
    await reply(
        update,
        scope._("Share this link in any chat; it opens the training in the bot:\n{link}").format(
            link=escape(link_to(context, training_id))
        ),
    )


@cadre_only
async def ask_cancel(update: Update, context: Context, scope: Scope) -> None:
    training_id = pressed_args(update, cb.TRN_CANCEL).training
    await answer(update)
    try:
        training = await trainings.get(scope.session, training_id)
    except NotFound:
        return
    await show_panel(
        update,
        scope._(
            "Cancel the training “{title}”? Everyone enrolled or waiting is told. "
            "This cannot be undone."
        ).format(title=escape(training.title)),
        show.cancel_confirm_keyboard(scope.t, training.id),
    )


@cadre_only
async def cancel_training(update: Update, context: Context, scope: Scope) -> None:
    training_id = pressed_args(update, cb.TRN_CANCEL_CONFIRM).training
    now = now_of(scope)
    people = await trainings.cancel(scope.session, training_id, now)
    try:
        training = await trainings.get(scope.session, training_id)
    except NotFound:
        await gone(update, scope)
        return
    delivering(scope, context, await tell.tell_cancelled(scope.session, training, people, now=now))
    await answer(
        update, scope._("Cancelled. {count} members are being told.").format(count=len(people))
    )
    await render_manage(update, context, scope, training.id)


@cadre_only
async def export(update: Update, context: Context, scope: Scope) -> None:
    try:
        training = await trainings.get(scope.session, pressed_args(update, cb.TRN_EXPORT).training)
    except NotFound:
        await gone(update, scope)
        return
    await answer(update)
    await show_working(update)
    found = await trainings.sessions_of(scope.session, training.id)
    lines = await trainings.enrolment_report(scope.session, training.id)
    book = show.enrolment_xlsx(scope.t, scope.settings.tz, training, found, lines)
    (data,) = await rendering.draw(book)
    message = update.effective_message
    assert message is not None
    await message.reply_document(
        InputFile(data, filename=f"training-{training.id}.xlsx"),
        caption=scope._("Enrolment and completion of {title}.").format(
            title=escape(training.title)
        ),
    )

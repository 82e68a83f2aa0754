"""Following a broadcast: Pause / Resume / Stop on its progress message, and /broadcasts.

The controls work on any running broadcast, from its progress message or
from the list. Each says what it did; when someone else pressed first, the
service refuses (`StateError`) and the message shows how the broadcast
stands now.
"""

from __future__ import annotations

from telegram import Message, Update

from display import broadcasts as display
from display import callbacks as cb
from handlers.broadcasts.base import edit, stale
from handlers.common import pressed_args, reply
from handlers.scope import Context, Scope, admin_only
from jobs.delivery import wake_after_commit
from notices import broadcasts as notices
from storage import broadcasts
from storage.broadcasts import StateError
from storage.members import NotFound
from storage.models import Broadcast, BroadcastStatus


async def _show_status(
    update: Update,
    scope: Scope,
    broadcast: Broadcast,
    *,
    confirm_stop: bool = False,
    back_page: int | None = None,
    excerpt: bool = False,
) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.message, Message)
    is_progress = query.message.message_id == broadcast.progress_message_id
    if back_page is None and not is_progress:
        back_page = 0  # pressed in /broadcasts: keep the way back
    text, markup = await notices.render_status(
        scope.session,
        scope.runtime,
        scope.t,
        broadcast,
        scope.runtime.now(),
        back_page=back_page,
        confirm_stop=confirm_stop,
        excerpt=excerpt or not is_progress,
    )
    await edit(query.message, text, markup)


async def _load(update: Update, scope: Scope, broadcast_id: int) -> Broadcast | None:
    """The broadcast a button names, or None after saying the button is stale."""
    try:
        return await broadcasts.get(scope.session, broadcast_id)
    except NotFound:
        await stale(update, scope)
        return None


async def _refused(update: Update, scope: Scope, broadcast: Broadcast) -> None:
    """The button no longer fits (someone else pressed first): say so, show how it stands."""
    assert update.callback_query is not None
    await update.callback_query.answer(
        scope._("This broadcast has changed meanwhile; here is how it stands now."),
        show_alert=True,
    )
    await _show_status(update, scope, broadcast)


@admin_only
async def pause(update: Update, context: Context, scope: Scope) -> None:
    broadcast = await _load(update, scope, pressed_args(update, cb.BROADCAST_PAUSE).broadcast)
    if broadcast is None:
        return
    try:
        await broadcasts.pause(scope.session, broadcast.id, now=scope.runtime.now())
    except StateError:
        await _refused(update, scope, broadcast)
        return
    assert update.callback_query is not None
    await update.callback_query.answer(scope._("Paused. Nothing more goes out until you resume."))
    await _show_status(update, scope, broadcast)


@admin_only
async def resume(update: Update, context: Context, scope: Scope) -> None:
    broadcast = await _load(update, scope, pressed_args(update, cb.BROADCAST_RESUME).broadcast)
    if broadcast is None:
        return
    try:
        await broadcasts.resume(scope.session, broadcast.id, now=scope.runtime.now())
    except StateError:
        await _refused(update, scope, broadcast)
        return
    wake_after_commit(scope.session, context)
    assert update.callback_query is not None
    await update.callback_query.answer(scope._("Resumed."))
    await _show_status(update, scope, broadcast)


@admin_only
async def ask_stop(update: Update, context: Context, scope: Scope) -> None:
    broadcast = await _load(update, scope, pressed_args(update, cb.BROADCAST_STOP).broadcast)
    if broadcast is None:
        return
    assert update.callback_query is not None
    if broadcast.finished_at is not None or broadcast.status == BroadcastStatus.CANCELLED:
        await _refused(update, scope, broadcast)
        return
    await update.callback_query.answer()
    await _show_status(update, scope, broadcast, confirm_stop=True)


@admin_only
async def keep_going(update: Update, context: Context, scope: Scope) -> None:
    broadcast = await _load(update, scope, pressed_args(update, cb.BROADCAST_STOP_BACK).broadcast)
    if broadcast is None:
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await _show_status(update, scope, broadcast)


@admin_only
async def stop(update: Update, context: Context, scope: Scope) -> None:
    broadcast = await _load(
        update, scope, pressed_args(update, cb.BROADCAST_STOP_CONFIRM).broadcast
    )
    if broadcast is None:
        return
    now = scope.runtime.now()
    try:
        await broadcasts.cancel(scope.session, broadcast.id, now=now)
    except StateError:
        await _refused(update, scope, broadcast)
        return
    # Nothing in flight: finished at once, so the report need not wait for the job.
    finished = await broadcasts.finish_if_done(
        scope.session, broadcast.id, now=now, rate=scope.settings.delivery_pace
    )
    if finished is not None:
        await notices.enqueue_report(scope.session, scope.runtime, finished, now)
        wake_after_commit(scope.session, context)
        broadcast = finished
    assert update.callback_query is not None
    await update.callback_query.answer(scope._("Stopped. Nothing more goes out."))
    await _show_status(update, scope, broadcast)


# /broadcasts ------------------------------------------------------------------------


@admin_only
async def list_broadcasts(update: Update, context: Context, scope: Scope) -> None:
    query = update.callback_query
    page_number = 0 if query is None else pressed_args(update, cb.BROADCAST_LIST).page
    page = await broadcasts.list_page(scope.session, page_number)
    text = display.list_text(scope.t, page, scope.settings.tz)
    markup = display.list_keyboard(scope.t, page)
    if query is not None and isinstance(query.message, Message):
        await query.answer()
        await edit(query.message, text, markup)
    else:
        await reply(update, text, reply_markup=markup)


@admin_only
async def view(update: Update, context: Context, scope: Scope) -> None:
    pressed = pressed_args(update, cb.BROADCAST_VIEW)
    broadcast = await _load(update, scope, pressed.broadcast)
    if broadcast is None:
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await _show_status(update, scope, broadcast, back_page=pressed.page, excerpt=True)

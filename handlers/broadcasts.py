"""/broadcast and /broadcasts: compose, target, preview, send or schedule; follow and control.

The conversation keeps a draft in ``user_data`` (nothing is stored until the
admin confirms). Its buttons carry the draft's nonce, so a button from an
older draft cannot send the current one. Confirming creates the broadcast
and its outbox rows in the update's one transaction (`storage.broadcasts`);
the delivery worker sends them and `jobs.broadcasts` keeps the progress
message current and reports at the end. Pause / Resume / Stop work on any
running broadcast, from its progress message or from /broadcasts.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import datetime
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core.i18n import N_
from core.runtime import CommandSpec, runtime_of
from display import broadcasts as display
from display import callbacks as cb
from handlers.common import (
    CANCEL_LABEL,
    PRIVATE,
    TEXT_INPUT,
    ask_for_text,
    cancel_handlers,
    cancel_keyboard,
    reply,
)
from handlers.menu import button_filter, main_menu
from handlers.scope import Context, Scope, admin_only
from jobs import broadcasts as jobs
from jobs.delivery import wake_after_commit
from storage import audiences, broadcasts
from storage.audiences import SOURCES, Audience
from storage.broadcast_rules import (
    ContentError,
    InvalidTime,
    MarkupError,
    check_content,
    parse_send_time,
    visible_text,
)
from storage.broadcasts import Content, StateError
from storage.members import NotFound
from storage.models import Broadcast, BroadcastStatus

COMPOSE, AUDIENCE, PREVIEW, WHEN = range(4)
DRAFT = "draft_broadcast"
CONVERSATION_TIMEOUT = 30 * 60
MEDIA_INPUT = (filters.PHOTO | filters.Document.ALL) & PRIVATE & filters.UpdateType.MESSAGE
OTHER_MEDIA = ~filters.TEXT & ~filters.COMMAND & ~MEDIA_INPUT & PRIVATE & filters.UpdateType.MESSAGE

STALE = N_("This button is no longer valid.")


# The draft -----------------------------------------------------------------------


def _draft(context: Context, nonce: int | None = None) -> dict[str, Any] | None:
    """The current draft; None if there is none or the button belongs to another one."""
    draft = (context.user_data or {}).get(DRAFT)
    if not isinstance(draft, dict) or (nonce is not None and draft.get("nonce") != nonce):
        return None
    return draft


def _content(draft: dict[str, Any]) -> Content:
    media = draft.get("media")
    return Content(
        text=draft["source"] if draft["formatted"] else draft["plain"],
        formatted=bool(draft["formatted"]),
        media_kind=media[0] if media else None,
        media_file_id=media[1] if media else None,
    )


async def _stale(update: Update, scope: Scope) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(scope._(STALE), show_alert=True)


def _query_args(update: Update, action: cb.CallbackAction) -> tuple[Any, ...]:
    assert update.callback_query is not None
    return action.unpack(update.callback_query.data)


async def _drop_buttons(update: Update) -> None:
    """Take the buttons off the message that was pressed, so it cannot be pressed again."""
    query = update.callback_query
    if query is not None and query.message is not None:
        with contextlib.suppress(BadRequest):  # already without buttons
            await query.edit_message_reply_markup(None)


# Composing -----------------------------------------------------------------------


@admin_only
async def start(update: Update, context: Context, scope: Scope) -> int:
    if update.callback_query is not None:
        await update.callback_query.answer()
    assert context.user_data is not None
    context.user_data[DRAFT] = {"nonce": secrets.randbelow(10**9) + 1}
    await reply(update, display.compose_prompt(scope.t), reply_markup=cancel_keyboard(scope))
    return COMPOSE


@admin_only
async def receive_text(update: Update, context: Context, scope: Scope) -> int:
    message = update.effective_message
    assert message is not None
    return await _take(update, context, scope, message.text or "", message.text_html or "", None)


@admin_only
async def receive_media(update: Update, context: Context, scope: Scope) -> int:
    message = update.effective_message
    assert message is not None
    if message.photo:
        media = ["photo", message.photo[-1].file_id]
    else:
        assert message.document is not None
        media = ["document", message.document.file_id]
    return await _take(
        update, context, scope, message.caption or "", message.caption_html or "", media
    )


async def _take(
    update: Update,
    context: Context,
    scope: Scope,
    source: str,
    plain: str,
    media: list[str] | None,
) -> int:
    draft = _draft(context)
    if draft is None:  # lost (a restart): begin again rather than guess
        return await start(update, context)  # type: ignore[no-any-return]
    try:
        check_content(source, has_media=media is not None)
    except ContentError as error:
        await reply(update, display.content_error(scope.t, error))
        return COMPOSE
    draft.update(
        source=source,
        plain=plain,
        media=media,
        formatted=False,
        audience=Audience().to_json(),
    )
    await _show_picker(update, scope, draft, edit=False)
    return AUDIENCE


@admin_only
async def wrong_kind(update: Update, context: Context, scope: Scope) -> None:
    await reply(update, scope._("Please send a text, a photo or a document, or tap ✖️ Cancel."))


@admin_only
async def use_buttons(update: Update, context: Context, scope: Scope) -> None:
    await reply(update, scope._("Please use the buttons above, or tap ✖️ Cancel."))


# The audience ----------------------------------------------------------------------


async def _show_picker(update: Update, scope: Scope, draft: dict[str, Any], *, edit: bool) -> None:
    session = scope.session
    sources = [(source, await source.choices(session)) for source in SOURCES.ordered()]
    tags = await audiences.tags_in_use(session)
    draft["tags"] = tags
    audience = Audience.from_json(draft["audience"])
    count = await audiences.count(session, audience)
    described = await audiences.describe(session, audience)
    text = display.audience_text(scope.t, described, count)
    markup = display.audience_keyboard(
        scope.t,
        draft["nonce"],
        display.picker_items(scope.t, audience, sources, tags),
        int(draft.get("page", 0)),
    )
    query = update.callback_query
    if edit and query is not None and query.message is not None:
        await query.answer()
        await _edit(query.message, text, markup)
    else:
        await reply(update, text, reply_markup=markup)


async def _toggled(scope: Scope, draft: dict[str, Any], source: str, item: int) -> Audience | None:
    """The audience with one choice flipped, or None if the button could not be real."""
    audience = Audience.from_json(draft["audience"])
    if source == display.EVERYONE:
        return audience.toggle_everyone()
    if source == display.TAG:
        tags = draft.get("tags") or []
        return audience.toggle_tag(tags[item]) if 0 <= item < len(tags) else None
    if source not in SOURCES:
        return None
    known = {i for i, _name in await SOURCES.get(source).choices(scope.session)}
    if item not in known and item not in audience.chosen(source):
        return None
    return audience.toggle_item(source, item)


@admin_only
async def toggle(update: Update, context: Context, scope: Scope) -> int | None:
    nonce, source, item = _query_args(update, cb.BROADCAST_AUDIENCE)
    draft = _draft(context, int(nonce))
    if draft is not None and source == display.PAGE:
        draft["page"] = max(0, int(item))
        await _show_picker(update, scope, draft, edit=True)
        return AUDIENCE
    changed = None if draft is None else await _toggled(scope, draft, str(source), int(item))
    if draft is None or changed is None:
        await _stale(update, scope)
        return None
    draft["audience"] = changed.to_json()
    await _show_picker(update, scope, draft, edit=True)
    return AUDIENCE


@admin_only
async def to_preview(update: Update, context: Context, scope: Scope) -> int | None:
    query = update.callback_query
    assert query is not None
    (nonce,) = _query_args(update, cb.BROADCAST_NEXT)
    draft = _draft(context, int(nonce))
    if draft is None:
        await _stale(update, scope)
        return None
    audience = Audience.from_json(draft["audience"])
    if audience.empty:
        await query.answer(scope._("Please choose who should receive it."), show_alert=True)
        return None
    if not await audiences.count(scope.session, audience):
        await query.answer(
            scope._("Nobody is in that audience yet. Please choose others."), show_alert=True
        )
        return None
    await query.answer()
    await _drop_buttons(update)
    return await _send_preview(update, context, scope, draft)


async def _send_preview(
    update: Update, context: Context, scope: Scope, draft: dict[str, Any]
) -> int:
    chat = update.effective_chat
    assert chat is not None
    content = _content(draft)
    try:
        await send_like_members(context.bot, chat.id, content)
    except BadRequest as error:
        await reply(
            update,
            scope._(
                "Telegram refused the preview ({reason}). Please send the announcement again."
            ).format(reason=error.message),
            reply_markup=cancel_keyboard(scope),
        )
        return COMPOSE
    audience = Audience.from_json(draft["audience"])
    described = await audiences.describe(scope.session, audience)
    await reply(
        update,
        display.preview_text(
            scope.t,
            described,
            await audiences.count(scope.session, audience),
            await audiences.count_blocked(scope.session, audience),
            content.formatted,
        ),
        reply_markup=display.preview_keyboard(
            scope.t, draft["nonce"], content.formatted, can_format=bool(draft["source"])
        ),
    )
    return PREVIEW


async def send_like_members(bot: Bot, chat_id: int, content: Content) -> Message:
    """Send the broadcast's own Bot API call to one chat: the preview is the real thing."""
    body = broadcasts.message_payload(content)
    params = dict(body["params"])
    if body["method"] == "sendPhoto":
        return await bot.send_photo(chat_id, params.pop("photo"), **params)
    if body["method"] == "sendDocument":
        return await bot.send_document(chat_id, params.pop("document"), **params)
    return await bot.send_message(chat_id, params.pop("text"), **params)


# The preview's buttons ---------------------------------------------------------------


async def _preview_draft(
    update: Update, context: Context, scope: Scope, action: cb.CallbackAction
) -> dict[str, Any] | None:
    (nonce,) = _query_args(update, action)
    draft = _draft(context, int(nonce))
    if draft is None or "source" not in draft:
        await _stale(update, scope)
        return None
    return draft


@admin_only
async def toggle_format(update: Update, context: Context, scope: Scope) -> int | None:
    draft = await _preview_draft(update, context, scope, cb.BROADCAST_FORMAT)
    if draft is None:
        return None
    query = update.callback_query
    assert query is not None
    if not draft["formatted"]:
        try:
            visible = visible_text(draft["source"])
            check_content(visible, has_media=bool(draft.get("media")))
        except MarkupError as error:
            await query.answer()
            await reply(update, display.markup_error(scope.t, error, draft["source"]))
            return PREVIEW
        except ContentError as error:
            await query.answer()
            await reply(update, display.content_error(scope.t, error))
            return PREVIEW
    draft["formatted"] = not draft["formatted"]
    await query.answer()
    await _drop_buttons(update)
    return await _send_preview(update, context, scope, draft)


@admin_only
async def back_to_audience(update: Update, context: Context, scope: Scope) -> int | None:
    draft = await _preview_draft(update, context, scope, cb.BROADCAST_BACK)
    if draft is None:
        return None
    assert update.callback_query is not None
    await update.callback_query.answer()
    await _drop_buttons(update)
    await _show_picker(update, scope, draft, edit=False)
    return AUDIENCE


@admin_only
async def send_now(update: Update, context: Context, scope: Scope) -> int | None:
    draft = await _preview_draft(update, context, scope, cb.BROADCAST_SEND)
    if draft is None:
        return None
    query = update.callback_query
    assert query is not None
    audience = Audience.from_json(draft["audience"])
    if not await audiences.count(scope.session, audience):
        await query.answer(
            scope._("Nobody is in that audience any more. Please choose others."),
            show_alert=True,
        )
        return None
    await query.answer()
    return await _create(update, context, scope, draft, audience, None)


@admin_only
async def ask_time(update: Update, context: Context, scope: Scope) -> int | None:
    draft = await _preview_draft(update, context, scope, cb.BROADCAST_SCHEDULE)
    if draft is None:
        return None
    assert update.callback_query is not None
    await update.callback_query.answer()
    await reply(
        update,
        display.schedule_prompt(
            scope.t, scope.runtime.now(), scope.settings.tz, scope.settings.timezone
        ),
        reply_markup=cancel_keyboard(scope),
    )
    return WHEN


@admin_only
async def receive_time(update: Update, context: Context, scope: Scope) -> int:
    draft = _draft(context)
    if draft is None or "source" not in draft:
        return await start(update, context)  # type: ignore[no-any-return]
    text = update.effective_message.text or ""  # type: ignore[union-attr]
    now = scope.runtime.now()
    try:
        when = parse_send_time(text, scope.settings.tz, now)
    except InvalidTime as error:
        await reply(update, display.time_error(scope.t, error, now, scope.settings.tz))
        return WHEN
    audience = Audience.from_json(draft["audience"])
    return await _create(update, context, scope, draft, audience, when)


async def _create(
    update: Update,
    context: Context,
    scope: Scope,
    draft: dict[str, Any],
    audience: Audience,
    when: datetime | None,
) -> int:
    """Store the broadcast (and its messages, unless scheduled), then show its status message."""
    chat = update.effective_chat
    assert chat is not None and context.user_data is not None
    now = scope.runtime.now()
    broadcast = await broadcasts.create(
        scope.session,
        content=_content(draft),
        audience=audience,
        admin_chat_id=chat.id,
        now=now,
        scheduled_for=when,
    )
    wake_after_commit(scope.session, context)
    # The first reply commits the broadcast (bot.request): mark its status message as
    # being sent first, so the progress job does not send a second one meanwhile.
    broadcast.progress_message_id = 0
    broadcast.progress_at = now
    context.user_data.pop(DRAFT, None)
    await _drop_buttons(update)
    await reply(
        update,
        display.confirmed_text(scope.t, broadcast, scope.settings.tz),
        reply_markup=main_menu(scope),
    )
    text, markup = await jobs.render_status(scope.session, scope.runtime, scope.t, broadcast, now)
    status = await reply(update, text, reply_markup=markup)
    # This is the ONE message the progress job edits from now on.
    broadcast.progress_message_id = status.message_id
    broadcast.progress_at = now
    return ConversationHandler.END


@admin_only
async def quit_draft(update: Update, context: Context, scope: Scope) -> int | None:
    (nonce,) = _query_args(update, cb.BROADCAST_QUIT)
    if _draft(context, int(nonce)) is None:
        await _stale(update, scope)
        return None
    assert update.callback_query is not None and context.user_data is not None
    await update.callback_query.answer()
    await _drop_buttons(update)
    context.user_data.pop(DRAFT, None)
    await reply(update, scope._("Cancelled. Nothing was sent."), reply_markup=main_menu(scope))
    return ConversationHandler.END


async def timed_out(update: Update, context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)


# Controls: pause, resume, stop -------------------------------------------------------


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
    assert query is not None and query.message is not None
    is_progress = query.message.message_id == broadcast.progress_message_id
    if back_page is None and not is_progress:
        back_page = 0  # pressed in /broadcasts: keep the way back
    text, markup = await jobs.render_status(
        scope.session,
        scope.runtime,
        scope.t,
        broadcast,
        scope.runtime.now(),
        back_page=back_page,
        confirm_stop=confirm_stop,
        excerpt=excerpt or not is_progress,
    )
    await _edit(query.message, text, markup)


async def _edit(message: Any, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


async def _load(update: Update, scope: Scope, action: cb.CallbackAction) -> Broadcast | None:
    (broadcast_id,) = _query_args(update, action)
    try:
        return await broadcasts.get(scope.session, int(broadcast_id))
    except NotFound:
        await _stale(update, scope)
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
    broadcast = await _load(update, scope, cb.BROADCAST_PAUSE)
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
    broadcast = await _load(update, scope, cb.BROADCAST_RESUME)
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
    broadcast = await _load(update, scope, cb.BROADCAST_STOP)
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
    broadcast = await _load(update, scope, cb.BROADCAST_STOP_BACK)
    if broadcast is None:
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await _show_status(update, scope, broadcast)


@admin_only
async def stop(update: Update, context: Context, scope: Scope) -> None:
    broadcast = await _load(update, scope, cb.BROADCAST_STOP_CONFIRM)
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
        scope.session, broadcast.id, now=now, rate=scope.settings.delivery_rate
    )
    if finished is not None:
        await jobs.enqueue_report(scope.session, scope.runtime, finished, now)
        wake_after_commit(scope.session, context)
        broadcast = finished
    assert update.callback_query is not None
    await update.callback_query.answer(scope._("Stopped. Nothing more goes out."))
    await _show_status(update, scope, broadcast)


# /broadcasts ------------------------------------------------------------------------


@admin_only
async def list_broadcasts(update: Update, context: Context, scope: Scope) -> None:
    page_number = 0
    query = update.callback_query
    if query is not None:
        (page_number,) = _query_args(update, cb.BROADCAST_LIST)
    page = await broadcasts.list_page(scope.session, int(page_number))
    text = display.list_text(scope.t, page, scope.settings.tz)
    markup = display.list_keyboard(scope.t, page)
    if query is not None and query.message is not None:
        await query.answer()
        await _edit(query.message, text, markup)
    else:
        await reply(update, text, reply_markup=markup)


@admin_only
async def view(update: Update, context: Context, scope: Scope) -> None:
    broadcast_id, page = _query_args(update, cb.BROADCAST_VIEW)
    try:
        broadcast = await broadcasts.get(scope.session, int(broadcast_id))
    except NotFound:
        await _stale(update, scope)
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await _show_status(update, scope, broadcast, back_page=int(page), excerpt=True)


def register(application: Application) -> None:
    runtime = runtime_of(application)
    runtime.add_command(
        CommandSpec("broadcast", N_("Send an announcement to members"), frozenset({"admin"}), 110)
    )
    runtime.add_command(
        CommandSpec("broadcasts", N_("Past and scheduled announcements"), frozenset({"admin"}), 111)
    )
    text_step = TEXT_INPUT & ~button_filter(CANCEL_LABEL)
    preview_buttons = [
        CallbackQueryHandler(send_now, pattern=cb.BROADCAST_SEND.pattern),
        CallbackQueryHandler(ask_time, pattern=cb.BROADCAST_SCHEDULE.pattern),
        CallbackQueryHandler(toggle_format, pattern=cb.BROADCAST_FORMAT.pattern),
        CallbackQueryHandler(back_to_audience, pattern=cb.BROADCAST_BACK.pattern),
    ]
    application.add_handler(
        ConversationHandler(
            entry_points=[
                CommandHandler("broadcast", start, filters=PRIVATE),
                CallbackQueryHandler(start, pattern=cb.BROADCAST_NEW.pattern),
            ],
            states={
                COMPOSE: [
                    MessageHandler(text_step, receive_text),
                    MessageHandler(MEDIA_INPUT, receive_media),
                    MessageHandler(OTHER_MEDIA, wrong_kind),
                ],
                AUDIENCE: [
                    CallbackQueryHandler(toggle, pattern=cb.BROADCAST_AUDIENCE.pattern),
                    CallbackQueryHandler(to_preview, pattern=cb.BROADCAST_NEXT.pattern),
                    MessageHandler(text_step | OTHER_MEDIA | MEDIA_INPUT, use_buttons),
                ],
                PREVIEW: [
                    *preview_buttons,
                    MessageHandler(text_step | OTHER_MEDIA | MEDIA_INPUT, use_buttons),
                ],
                # The preview's buttons still work while the time is asked for.
                WHEN: [
                    MessageHandler(text_step, receive_time),
                    MessageHandler(OTHER_MEDIA | MEDIA_INPUT, ask_for_text),
                    *preview_buttons,
                ],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out)],
            },
            fallbacks=[
                *cancel_handlers(),
                CallbackQueryHandler(quit_draft, pattern=cb.BROADCAST_QUIT.pattern),
                CommandHandler("broadcast", start, filters=PRIVATE),
            ],
            name="broadcast",
            persistent=True,
            conversation_timeout=CONVERSATION_TIMEOUT,
            allow_reentry=True,
        )
    )
    application.add_handler(CommandHandler("broadcasts", list_broadcasts, filters=PRIVATE))
    for action, callback in (
        (cb.BROADCAST_LIST, list_broadcasts),
        (cb.BROADCAST_VIEW, view),
        (cb.BROADCAST_PAUSE, pause),
        (cb.BROADCAST_RESUME, resume),
        (cb.BROADCAST_STOP, ask_stop),
        (cb.BROADCAST_STOP_CONFIRM, stop),
        (cb.BROADCAST_STOP_BACK, keep_going),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=action.pattern))

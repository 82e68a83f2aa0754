"""/broadcast: compose (in Chinese, and optionally in English), target, preview, then send.

The English version is offered right after the Chinese text, and again on the
preview (add, replace or remove it), which the conversation returns to.

States and moves: `handlers/broadcasts/composer.mmd`, beside this file. Each
state has one function ("stores X, asks Y"); the draft
(`storage.broadcast_drafts.NewBroadcast`, nothing is stored until the admin
confirms) decides what it accepts, and this module words its refusals. Its
buttons carry the draft's nonce, so a button from an older draft cannot send
the current one. Confirming creates the broadcast and its outbox rows in the
update's one transaction (`storage.broadcasts`); the delivery worker sends
them and `jobs.broadcasts` keeps the progress message current.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from telegram import Bot, Message, Update
from telegram.error import BadRequest
from telegram.ext import ConversationHandler, filters

from core.settings import SUPPORTED_LANGUAGES
from display import broadcasts as display
from display import callbacks as cb
from display import versions
from handlers import time_input
from handlers.broadcasts.base import edit, stale
from handlers.common import PRIVATE, cancel_keyboard, drop_buttons, pressed_args, reply
from handlers.menu import main_menu
from handlers.scope import Context, Scope, admin_only
from jobs.delivery import wake_after_commit
from notices import broadcasts as notices
from storage import audience_picks, audiences, broadcasts
from storage.audience_picks import NoRecipients, PickRefused
from storage.audiences import SOURCES
from storage.broadcast_drafts import NewBroadcast
from storage.broadcast_rules import ContentError, InvalidTime, MarkupError, parse_send_time
from storage.broadcasts import Content

COMPOSE, AUDIENCE, PREVIEW, WHEN, ENGLISH, ENGLISH_TEXT = range(6)
DRAFT = "draft_broadcast"
CONVERSATION_TIMEOUT = 30 * 60
MEDIA_INPUT = (filters.PHOTO | filters.Document.ALL) & PRIVATE & filters.UpdateType.MESSAGE
OTHER_MEDIA = ~filters.TEXT & ~filters.COMMAND & ~MEDIA_INPUT & PRIVATE & filters.UpdateType.MESSAGE


def _draft(context: Context, nonce: int | None = None) -> NewBroadcast | None:
    """The current draft; None if there is none or the button belongs to another one."""
    draft = (context.user_data or {}).get(DRAFT)
    if not isinstance(draft, NewBroadcast) or (nonce is not None and draft.nonce != nonce):
        return None
    return draft


def _message(update: Update) -> Message:
    message = update.effective_message
    assert message is not None
    return message


# COMPOSE -----------------------------------------------------------------------------


@admin_only
async def start(update: Update, context: Context, scope: Scope) -> int:
    """Starts an empty draft, asks for the announcement."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    assert context.user_data is not None
    context.user_data[DRAFT] = NewBroadcast(nonce=secrets.randbelow(10**9) + 1)
    await reply(update, display.compose_prompt(scope.t), reply_markup=cancel_keyboard(scope))
    return COMPOSE


@admin_only
async def receive_text(update: Update, context: Context, scope: Scope) -> int:
    """Stores a text announcement, asks who should receive it."""
    message = _message(update)
    return await _take(update, context, scope, message.text or "", message.text_html or "", None)


@admin_only
async def receive_media(update: Update, context: Context, scope: Scope) -> int:
    """Stores a photo or document with its caption, asks who should receive it."""
    message = _message(update)
    if message.photo:
        media = ("photo", message.photo[-1].file_id)
    else:
        assert message.document is not None
        media = ("document", message.document.file_id)
    return await _take(
        update, context, scope, message.caption or "", message.caption_html or "", media
    )


async def _take(
    update: Update,
    context: Context,
    scope: Scope,
    source: str,
    plain: str,
    media: tuple[str, str] | None,
) -> int:
    draft = _draft(context)
    if draft is None:  # lost (a restart): begin again rather than guess
        return await start(update, context)
    try:
        draft.take(source, plain, media)
    except ContentError as error:
        await reply(update, display.content_error(scope.t, error))
        return COMPOSE
    has_media = draft.media is not None
    await reply(
        update,
        display.english_offer(scope.t, has_media),
        reply_markup=display.english_keyboard(scope.t, draft.nonce),
    )
    return ENGLISH


# ENGLISH -----------------------------------------------------------------------------


async def _pressed_draft(
    update: Update, context: Context, scope: Scope, nonce: int
) -> NewBroadcast | None:
    """The draft a button belongs to, or None after saying the button is stale."""
    draft = _draft(context, nonce)
    if draft is None or not draft.has_content:
        await stale(update, scope)
        return None
    return draft


@admin_only
async def add_english(update: Update, context: Context, scope: Scope) -> int | None:
    """➕ English version: asks for the English text (or caption)."""
    draft = await _pressed_draft(
        update, context, scope, pressed_args(update, cb.BROADCAST_ENGLISH).nonce
    )
    if draft is None:
        return None
    assert update.callback_query is not None
    await update.callback_query.answer()
    await drop_buttons(update)
    await reply(
        update,
        display.english_prompt(scope.t, draft.media is not None),
        reply_markup=cancel_keyboard(scope),
    )
    return ENGLISH_TEXT


@admin_only
async def skip_english(update: Update, context: Context, scope: Scope) -> int | None:
    """⏭ Skip: no English version; asks who should receive it."""
    nonce = pressed_args(update, cb.BROADCAST_NO_ENGLISH).nonce
    draft = await _pressed_draft(update, context, scope, nonce)
    if draft is None:
        return None
    assert update.callback_query is not None
    await update.callback_query.answer()
    await drop_buttons(update)
    await _show_picker(update, scope, draft, edit_picker=False)
    return AUDIENCE


@admin_only
async def receive_english(update: Update, context: Context, scope: Scope) -> int:
    """Stores the English version, asks who should receive it (or says why not, stays)."""
    draft = _draft(context)
    if draft is None or not draft.has_content:  # lost (a restart): begin again
        return await start(update, context)
    message = _message(update)
    try:
        draft.take_english(message.text or "", message.text_html or "")
    except ContentError as error:
        await reply(update, display.content_error(scope.t, error))
        return ENGLISH_TEXT
    if draft.previewed:  # added or replaced from the preview: back to it
        return await _send_preview(update, context, scope, draft)
    await _show_picker(update, scope, draft, edit_picker=False)
    return AUDIENCE


@admin_only
async def english_not_text(update: Update, context: Context, scope: Scope) -> None:
    """A photo or file where the English text is expected: says what it takes, stays."""
    await reply(
        update,
        scope._(
            "Please send the English version as a text message, or tap ✖️ Cancel. "
            "A photo or document is sent with both versions."
        ),
    )


@admin_only
async def wrong_kind(update: Update, context: Context, scope: Scope) -> None:
    """Neither text nor a photo or document: says what it takes, stays."""
    await reply(update, scope._("Please send a text, a photo or a document, or tap ✖️ Cancel."))


@admin_only
async def use_buttons(update: Update, context: Context, scope: Scope) -> None:
    """A message where buttons are expected: points to them, stays."""
    await reply(update, scope._("Please use the buttons above, or tap ✖️ Cancel."))


# AUDIENCE ----------------------------------------------------------------------------


async def _show_picker(
    update: Update, scope: Scope, draft: NewBroadcast, *, edit_picker: bool
) -> None:
    session = scope.session
    sources = [
        (source, await source.choices(session, scope.settings.tz)) for source in SOURCES.ordered()
    ]
    # The tag buttons carry an index into this list: keep it for the next tap.
    draft.tags = await audiences.tags_in_use(session)
    audience = draft.audience
    count = await audiences.count(session, audience)
    described = await audiences.describe(session, audience, scope.settings.tz)
    text = display.audience_text(scope.t, described, count)
    markup = display.audience_keyboard(
        scope.t,
        draft.nonce,
        display.picker_items(scope.t, audience, sources, draft.tags),
        draft.page,
    )
    query = update.callback_query
    if edit_picker and query is not None and isinstance(query.message, Message):
        await query.answer()
        await edit(query.message, text, markup)
    else:
        await reply(update, text, reply_markup=markup)


@admin_only
async def toggle(update: Update, context: Context, scope: Scope) -> int | None:
    """Stores one pick (or turns the picker's page), asks again."""
    pressed = pressed_args(update, cb.BROADCAST_AUDIENCE)
    draft = await _pressed_draft(update, context, scope, pressed.nonce)
    if draft is None:
        return None
    if pressed.source == display.PAGE:
        draft.turn_page(pressed.item)
    else:
        try:
            changed = await audience_picks.toggled(
                scope.session, draft.audience, pressed.source, pressed.item, draft.tags
            )
        except PickRefused:
            await stale(update, scope)
            return None
        draft.choose(changed)
    await _show_picker(update, scope, draft, edit_picker=True)
    return AUDIENCE


@admin_only
async def to_preview(update: Update, context: Context, scope: Scope) -> int | None:
    """Checks the audience reaches someone, sends the preview, asks: now or later?"""
    query = update.callback_query
    assert query is not None
    draft = await _pressed_draft(
        update, context, scope, pressed_args(update, cb.BROADCAST_NEXT).nonce
    )
    if draft is None:
        return None
    try:
        await audience_picks.recipients(scope.session, draft.audience)
    except NoRecipients as nobody:
        await query.answer(
            scope._("Nobody is in that audience yet. Please choose others.")
            if nobody.chosen
            else scope._("Please choose who should receive it."),
            show_alert=True,
        )
        return None
    await query.answer()
    await drop_buttons(update)
    return await _send_preview(update, context, scope, draft)


async def _send_preview(update: Update, context: Context, scope: Scope, draft: NewBroadcast) -> int:
    chat = update.effective_chat
    assert chat is not None
    content = draft.content()
    try:
        if content.bilingual:
            # Each version under its label: a member gets one, in their language.
            for language in SUPPORTED_LANGUAGES:
                await reply(update, versions.receives(scope.t, language))
                await send_like_members(context.bot, chat.id, content.for_language(language))
        else:
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
    audience = draft.audience
    described = await audiences.describe(scope.session, audience, scope.settings.tz)
    await reply(
        update,
        display.preview_text(
            scope.t,
            described,
            await audiences.count(scope.session, audience),
            await audiences.count_blocked(scope.session, audience),
            content.formatted,
            bilingual=content.bilingual,
        ),
        reply_markup=display.preview_keyboard(
            scope.t,
            draft.nonce,
            content.formatted,
            can_format=draft.can_format,
            has_english=draft.has_english,
        ),
    )
    draft.previewed = True
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


# PREVIEW -----------------------------------------------------------------------------


@admin_only
async def toggle_format(update: Update, context: Context, scope: Scope) -> int | None:
    """Stores plain or formatted, sends the preview again (or says why not)."""
    draft = await _pressed_draft(
        update, context, scope, pressed_args(update, cb.BROADCAST_FORMAT).nonce
    )
    if draft is None:
        return None
    query = update.callback_query
    assert query is not None
    try:
        draft.toggle_format()
    except MarkupError as error:
        await query.answer()
        source = draft.source_en if error.english else draft.source
        await reply(update, display.markup_error(scope.t, error, source or ""))
        return PREVIEW
    except ContentError as error:
        await query.answer()
        await reply(update, display.content_error(scope.t, error))
        return PREVIEW
    await query.answer()
    await drop_buttons(update)
    return await _send_preview(update, context, scope, draft)


@admin_only
async def edit_english(update: Update, context: Context, scope: Scope) -> int | None:
    """➕ Add / ✏️ Replace the English version (from the preview): asks for its text."""
    draft = await _pressed_draft(
        update, context, scope, pressed_args(update, cb.BROADCAST_ENGLISH_EDIT).nonce
    )
    if draft is None:
        return None
    assert update.callback_query is not None
    await update.callback_query.answer()
    await drop_buttons(update)
    await reply(
        update,
        display.english_prompt(scope.t, draft.media is not None),
        reply_markup=display.english_back_keyboard(scope.t, draft.nonce),
    )
    return ENGLISH_TEXT


@admin_only
async def drop_english(update: Update, context: Context, scope: Scope) -> int | None:
    """🗑 Remove the English version: every member gets the Chinese; the preview again."""
    draft = await _pressed_draft(
        update, context, scope, pressed_args(update, cb.BROADCAST_ENGLISH_DROP).nonce
    )
    if draft is None:
        return None
    if not draft.has_english:  # an older preview's button, after it was removed
        await stale(update, scope)
        return None
    assert update.callback_query is not None
    draft.drop_english()
    await update.callback_query.answer()
    await drop_buttons(update)
    return await _send_preview(update, context, scope, draft)


@admin_only
async def back_to_preview(update: Update, context: Context, scope: Scope) -> int | None:
    """« Back to the preview, instead of typing the English text: nothing changes."""
    draft = await _pressed_draft(
        update, context, scope, pressed_args(update, cb.BROADCAST_ENGLISH_BACK).nonce
    )
    if draft is None or not draft.previewed:
        if draft is not None:
            await stale(update, scope)
        return None
    assert update.callback_query is not None
    await update.callback_query.answer()
    await drop_buttons(update)
    return await _send_preview(update, context, scope, draft)


@admin_only
async def back_to_audience(update: Update, context: Context, scope: Scope) -> int | None:
    """Asks who should receive it, again."""
    draft = await _pressed_draft(
        update, context, scope, pressed_args(update, cb.BROADCAST_BACK).nonce
    )
    if draft is None:
        return None
    assert update.callback_query is not None
    await update.callback_query.answer()
    await drop_buttons(update)
    await _show_picker(update, scope, draft, edit_picker=False)
    return AUDIENCE


@admin_only
async def send_now(update: Update, context: Context, scope: Scope) -> int | None:
    """Sends it to whoever the audience reaches now; ends."""
    draft = await _pressed_draft(
        update, context, scope, pressed_args(update, cb.BROADCAST_SEND).nonce
    )
    if draft is None:
        return None
    query = update.callback_query
    assert query is not None
    try:
        await audience_picks.recipients(scope.session, draft.audience)
    except NoRecipients:
        await query.answer(
            scope._("Nobody is in that audience any more. Please choose others."),
            show_alert=True,
        )
        return None
    await query.answer()
    return await _create(update, context, scope, draft, None)


@admin_only
async def ask_time(update: Update, context: Context, scope: Scope) -> int | None:
    """Asks when it should go out."""
    draft = await _pressed_draft(
        update, context, scope, pressed_args(update, cb.BROADCAST_SCHEDULE).nonce
    )
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


# WHEN --------------------------------------------------------------------------------


@admin_only
async def receive_time(update: Update, context: Context, scope: Scope) -> int:
    """Stores the send time and schedules it; ends (or asks again for a time it refuses)."""
    draft = _draft(context)
    if draft is None or not draft.has_content:
        return await start(update, context)
    now = scope.runtime.now()
    try:
        when = await time_input.read(
            update,
            context,
            scope,
            lambda text: parse_send_time(text, scope.settings.tz, now),
            step="broadcast-time",
            unreadable=lambda error: isinstance(error, InvalidTime) and error.code == "format",
        )
    except InvalidTime as error:
        await reply(update, display.time_error(scope.t, error, now, scope.settings.tz))
        return WHEN
    if when is None:
        return WHEN
    return await _create(update, context, scope, draft, when)


async def _create(
    update: Update,
    context: Context,
    scope: Scope,
    draft: NewBroadcast,
    when: datetime | None,
) -> int:
    """Store the broadcast (and its messages, unless scheduled), then show its status message."""
    chat = update.effective_chat
    assert chat is not None and context.user_data is not None
    now = scope.runtime.now()
    broadcast = await broadcasts.create(
        scope.session,
        content=draft.content(),
        audience=draft.audience,
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
    await drop_buttons(update)
    await reply(
        update,
        display.confirmed_text(scope.t, broadcast, scope.settings.tz),
        reply_markup=main_menu(scope),
    )
    text, markup = await notices.render_status(
        scope.session, scope.runtime, scope.t, broadcast, now
    )
    status = await reply(update, text, reply_markup=markup)
    # This is the ONE message the progress job edits from now on — unless the job
    # finished the broadcast while it was on its way: then it shows the end here.
    if await broadcasts.set_progress_message(
        scope.session, broadcast.id, status.message_id, now=now
    ):
        await scope.session.refresh(broadcast)
        text, markup = await notices.render_status(
            scope.session, scope.runtime, scope.t, broadcast, scope.runtime.now()
        )
        await edit(status, text, markup)
    return ConversationHandler.END


# Any state ---------------------------------------------------------------------------


@admin_only
async def quit_draft(update: Update, context: Context, scope: Scope) -> int | None:
    """✖️ Cancel on a button: drops the draft; ends."""
    if _draft(context, pressed_args(update, cb.BROADCAST_QUIT).nonce) is None:
        await stale(update, scope)
        return None
    assert update.callback_query is not None and context.user_data is not None
    await update.callback_query.answer()
    await drop_buttons(update)
    context.user_data.pop(DRAFT, None)
    await reply(update, scope._("Cancelled. Nothing was sent."), reply_markup=main_menu(scope))
    return ConversationHandler.END


async def timed_out(update: Update, context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)

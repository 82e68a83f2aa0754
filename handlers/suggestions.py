"""Suggestions (意见建议): members send named suggestions; cadres answer in the cadre group.

The member writes, confirms, and the card goes to the cadre group through the
outbox. Cadres mark it under consideration / adopted / declined, or reply; the
member is told each time, through the outbox too. Anonymity is what
grievances are for, and the member's menu says so.
"""

from __future__ import annotations

from telegram import ForceReply, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import callbacks as cb
from bot.i18n import N_, translator
from bot.menu import button_filter, main_menu
from bot.runtime import CommandSpec, MenuItem, runtime_of
from bot.scope import Context, Scope, cadre_only, registered
from handlers.common import (
    CANCEL_LABEL,
    OTHER_INPUT,
    PRIVATE,
    TEXT_INPUT,
    ask_for_text,
    cancel_handlers,
    choice_keyboard,
    explain,
    is_label,
    reply,
)
from handlers.display import suggestions as display
from jobs.delivery import wake_after_commit
from storage import outbox, suggestions
from storage.models import SuggestionStatus
from storage.profile_rules import InvalidInput
from storage.suggestions import REPLY_MAX, TEXT_MAX, SuggestionNotFound

SUGGESTIONS_ITEM = MenuItem("suggestions", N_("💡 Suggestions"), order=45)
WRITE, CONFIRM = range(2)
REPLY = 0
DRAFT = "draft_suggestion"
REPLY_DRAFT = "draft_suggestion_reply"
CONVERSATION_TIMEOUT = 30 * 60
REPLY_TIMEOUT = 15 * 60


# Members -----------------------------------------------------------------------------


@registered
async def home(update: Update, context: Context, scope: Scope) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer()
    await reply(update, display.home_text(scope.t), reply_markup=display.home_keyboard(scope.t))


@registered
async def mine(update: Update, context: Context, scope: Scope) -> None:
    assert scope.member is not None and update.callback_query is not None
    await update.callback_query.answer()
    found = await suggestions.for_member(scope.session, scope.member.id)
    await reply(update, display.mine_text(scope.t, found, scope.settings.tz))


@registered
async def start_writing(update: Update, context: Context, scope: Scope) -> int:
    if update.callback_query is not None:
        await update.callback_query.answer()
    context.user_data.pop(DRAFT, None)  # type: ignore[union-attr]
    await reply(
        update,
        display.write_prompt(scope.t, TEXT_MAX),
        reply_markup=choice_keyboard(scope, []),
    )
    return WRITE


@registered
async def receive_text(update: Update, context: Context, scope: Scope) -> int:
    try:
        text = suggestions.clean_text(update.effective_message.text or "")  # type: ignore[union-attr]
    except InvalidInput as error:
        await reply(update, explain(scope, error, TEXT_MAX))
        return WRITE
    context.user_data[DRAFT] = text  # type: ignore[index]
    await reply(
        update,
        display.confirm_text(scope.t, text),
        reply_markup=choice_keyboard(scope, [scope._(display.SEND_LABEL)]),
    )
    return CONFIRM


@registered
async def confirm(update: Update, context: Context, scope: Scope) -> int:
    assert scope.member is not None
    text = update.effective_message.text or ""  # type: ignore[union-attr]
    draft = (context.user_data or {}).get(DRAFT)
    if not is_label(text, display.SEND_LABEL):
        await reply(update, scope._("Please tap 📨 Send, or ✖️ Cancel to drop it."))
        return CONFIRM
    if not draft:
        await reply(update, scope._("Sorry, I lost your text. Please write it again."))
        return WRITE
    now = scope.runtime.now()
    suggestion = await suggestions.create(scope.session, scope.member, draft, now=now)
    cadre_chat = scope.settings.cadre_chat_id
    if cadre_chat is not None:
        card = await suggestions.card(scope.session, suggestion.id)
        t = translator(scope.settings.default_language)
        await outbox.enqueue(
            scope.session,
            key=f"suggestion:{suggestion.id}:card",
            kind="suggestion",
            chat_id=cadre_chat,
            payload=outbox.payload(
                "sendMessage",
                text=display.card_text(t, card, scope.settings.tz),
                reply_markup=display.card_keyboard(t, card).to_dict(),
            ),
            now=now,
            priority=outbox.PRIORITY_NOTICE,
        )
        wake_after_commit(scope.session, context)
    context.user_data.pop(DRAFT, None)  # type: ignore[union-attr]
    await reply(update, display.sent_text(scope.t, suggestion), reply_markup=main_menu(scope))
    return ConversationHandler.END


async def writing_timeout(update: Update, context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)


# Cadres ------------------------------------------------------------------------------


async def _tell_member(
    scope: Scope, context: Context, card: suggestions.SuggestionCard, key: str, text: str
) -> None:
    if card.author_chat is None:
        return
    await outbox.enqueue(
        scope.session,
        key=key,
        kind="suggestion-notice",
        chat_id=card.author_chat,
        member_id=card.suggestion.member_id,
        payload=outbox.payload("sendMessage", text=text),
        now=scope.runtime.now(),
        priority=outbox.PRIORITY_NOTICE,
    )
    wake_after_commit(scope.session, context)


@cadre_only
async def decide(update: Update, context: Context, scope: Scope) -> None:
    query = update.callback_query
    assert query is not None
    suggestion_id, status_value = cb.SUGGEST_STATUS.unpack(query.data)
    try:
        status = SuggestionStatus(str(status_value))
        if status is SuggestionStatus.NEW:
            raise ValueError(status)
        now = scope.runtime.now()
        changed = await suggestions.set_status(
            scope.session,
            int(suggestion_id),
            status,
            cadre_id=scope.member.id if scope.member is not None else None,
            now=now,
        )
    except (ValueError, SuggestionNotFound):
        await query.answer(scope._("This button is no longer valid."), show_alert=True)
        return
    card = await suggestions.card(scope.session, int(suggestion_id))
    if changed and card.author_language is not None:
        t = translator(card.author_language)
        await _tell_member(
            scope,
            context,
            card,
            f"suggestion:{card.suggestion.id}:status:{status.value}:{int(now.timestamp())}",
            display.status_notice(t, card.suggestion),
        )
    await query.answer(
        scope._("Marked as {status}; the member is told.").format(
            status=display.status_name(scope.t, status.value)
        )
        if changed
        else scope._("It already has that status.")
    )
    if changed:
        await query.edit_message_text(
            display.card_text(scope.t, card, scope.settings.tz),
            reply_markup=display.card_keyboard(scope.t, card),
        )


@cadre_only
async def ask_reply(update: Update, context: Context, scope: Scope) -> int:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    (suggestion_id,) = cb.SUGGEST_REPLY.unpack(query.data)
    try:
        card = await suggestions.card(scope.session, int(suggestion_id))
    except SuggestionNotFound:
        await query.answer(scope._("This button is no longer valid."), show_alert=True)
        return ConversationHandler.END
    if card.author_chat is None:
        await query.answer(
            scope._("The member has deleted their data; a reply cannot reach them."),
            show_alert=True,
        )
        return ConversationHandler.END
    await query.answer()
    message_id = query.message.message_id if query.message is not None else None
    context.user_data[REPLY_DRAFT] = (card.suggestion.id, message_id)  # type: ignore[index]
    await reply(
        update,
        display.reply_prompt(scope.t, card.suggestion, update.effective_user.full_name),
        reply_markup=ForceReply(selective=True),
    )
    return REPLY


@cadre_only
async def receive_reply(update: Update, context: Context, scope: Scope) -> int:
    draft: tuple[int, int | None] | None = (context.user_data or {}).get(REPLY_DRAFT)
    if draft is None:
        return ConversationHandler.END
    suggestion_id, card_message_id = draft
    now = scope.runtime.now()
    try:
        answer = await suggestions.add_reply(
            scope.session,
            suggestion_id,
            cadre_id=scope.member.id if scope.member is not None else None,
            text=update.effective_message.text or "",  # type: ignore[union-attr]
            now=now,
        )
    except InvalidInput as error:
        await reply(update, explain(scope, error, REPLY_MAX))
        return REPLY
    except SuggestionNotFound:
        await reply(update, scope._("That suggestion no longer exists."))
        return ConversationHandler.END
    card = await suggestions.card(scope.session, suggestion_id)
    if card.author_language is not None:
        await _tell_member(
            scope,
            context,
            card,
            f"suggestion:{suggestion_id}:reply:{answer.id}",
            display.reply_notice(translator(card.author_language), card.suggestion, answer.text),
        )
    context.user_data.pop(REPLY_DRAFT, None)  # type: ignore[union-attr]
    await reply(
        update,
        scope._("✅ Your reply to {code} is on its way to the member.").format(
            code=suggestions.code(suggestion_id)
        ),
    )
    chat = update.effective_chat
    if card_message_id is not None and chat is not None:
        await context.bot.edit_message_text(
            display.card_text(scope.t, card, scope.settings.tz),
            chat_id=chat.id,
            message_id=card_message_id,
            reply_markup=display.card_keyboard(scope.t, card),
        )
    return ConversationHandler.END


@cadre_only
async def cancel_reply(update: Update, context: Context, scope: Scope) -> int:
    context.user_data.pop(REPLY_DRAFT, None)  # type: ignore[union-attr]
    await reply(update, scope._("Cancelled. No reply was sent."))
    return ConversationHandler.END


async def reply_timeout(update: Update, context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(REPLY_DRAFT, None)


def register(application: Application) -> None:
    runtime = runtime_of(application)
    runtime.add_menu(SUGGESTIONS_ITEM)
    runtime.add_command(
        CommandSpec("suggest", N_("Send a suggestion to the union"), frozenset({"private"}), 45)
    )
    text_step = TEXT_INPUT & ~button_filter(CANCEL_LABEL)
    application.add_handler(
        ConversationHandler(
            entry_points=[CallbackQueryHandler(start_writing, pattern=cb.SUGGEST_NEW.pattern)],
            states={
                WRITE: [MessageHandler(text_step, receive_text)],
                CONFIRM: [MessageHandler(text_step, confirm)],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, writing_timeout)],
            },
            fallbacks=[*cancel_handlers(), MessageHandler(OTHER_INPUT, ask_for_text)],
            name="suggestion",
            persistent=True,
            conversation_timeout=CONVERSATION_TIMEOUT,
            allow_reentry=True,
        )
    )
    group_text = (
        filters.TEXT & ~filters.COMMAND & filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
    )
    application.add_handler(
        ConversationHandler(
            entry_points=[CallbackQueryHandler(ask_reply, pattern=cb.SUGGEST_REPLY.pattern)],
            states={
                REPLY: [MessageHandler(group_text, receive_reply)],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, reply_timeout)],
            },
            fallbacks=[CommandHandler("cancel", cancel_reply)],
            name="suggestion_reply",
            persistent=True,
            conversation_timeout=REPLY_TIMEOUT,
            allow_reentry=True,
        )
    )
    application.add_handler(CommandHandler("suggest", home, filters=PRIVATE))
    application.add_handler(MessageHandler(button_filter(SUGGESTIONS_ITEM.label) & PRIVATE, home))
    application.add_handler(CallbackQueryHandler(mine, pattern=cb.SUGGEST_MINE.pattern))
    application.add_handler(CallbackQueryHandler(decide, pattern=cb.SUGGEST_STATUS.pattern))

"""Suggestions (意见建议): members send named suggestions; cadres answer in the cadre group.

The member writes, confirms, and the card goes to the cadre group through the
outbox. Cadres mark it under consideration / adopted / declined, or reply (to
the card, or to the prompt 💬 Reply posts for the presser alone); the member is
told each time, through the outbox too. Anonymity is what
grievances are for, and the member's menu says so.

The writing conversation's states are drawn in `suggestion.mmd` beside this module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import ForceReply, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core import drafts
from core.i18n import N_
from core.runtime import CommandSpec, MenuItem, runtime_of
from display import callbacks as cb
from display import suggestions as display
from handlers.common import (
    CANCEL_LABEL,
    OTHER_INPUT,
    PRIVATE,
    TEXT_INPUT,
    ask_for_text,
    cancel_handlers,
    choice_keyboard,
    draft_of,
    drop_draft,
    explain,
    is_label,
    keep_draft,
    pressed_args,
    reply,
    text_of,
)
from handlers.menu import button_filter, main_menu
from handlers.replies import REPLIES_TO_SUGGESTION, suggestion_of
from handlers.scope import Context, Scope, cadre_only, registered, scoped
from jobs.delivery import wake_after_commit
from notices import suggestions as notices
from storage import suggestions
from storage.profile_rules import InvalidInput
from storage.suggestions import REPLY_MAX, TEXT_MAX, NotADecision, SuggestionNotFound

SUGGESTIONS_ITEM = MenuItem("suggestions", N_("💡 Suggestions"), order=45)
WRITE, CONFIRM = range(2)
DRAFT = "draft_suggestion"
CONVERSATION_TIMEOUT = 30 * 60
PROMPTS_KEPT = 50  # per chat, in `Runtime.prompt_cards`
log = logging.getLogger(__name__)


@drafts.draft("suggestion")
@dataclass
class SuggestionDraft:
    """The text written, kept until the member confirms it."""

    text: str


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
    drop_draft(context, DRAFT)
    await reply(
        update,
        display.write_prompt(scope.t, TEXT_MAX),
        reply_markup=choice_keyboard(scope, []),
    )
    return WRITE


@registered
async def receive_text(update: Update, context: Context, scope: Scope) -> int:
    try:
        text = suggestions.clean_text(text_of(update))
    except InvalidInput as error:
        await reply(update, explain(scope, error, TEXT_MAX))
        return WRITE
    keep_draft(context, DRAFT, SuggestionDraft(text))
    await reply(
        update,
        display.confirm_text(scope.t, text),
        reply_markup=choice_keyboard(scope, [scope._(display.SEND_LABEL)]),
    )
    return CONFIRM


@registered
async def confirm(update: Update, context: Context, scope: Scope) -> int:
    assert scope.member is not None
    text = text_of(update)
    draft = draft_of(context, DRAFT, SuggestionDraft)
    if not is_label(text, display.SEND_LABEL):
        await reply(update, scope._("Please tap 📨 Send, or ✖️ Cancel to drop it."))
        return CONFIRM
    if draft is None:
        await reply(update, scope._("Sorry, I lost your text. Please write it again."))
        return WRITE
    now = scope.runtime.now()
    suggestion = await suggestions.create(scope.session, scope.member, draft.text, now=now)
    if await notices.post_card(scope.session, scope.runtime, suggestion.id, now=now):
        wake_after_commit(scope.session, context)
    drop_draft(context, DRAFT)
    await reply(update, display.sent_text(scope.t, suggestion), reply_markup=main_menu(scope))
    return ConversationHandler.END


async def writing_timeout(update: Update, context: Context) -> None:
    drop_draft(context, DRAFT)


# Cadres ------------------------------------------------------------------------------


@cadre_only
async def decide(update: Update, context: Context, scope: Scope) -> None:
    query = update.callback_query
    assert query is not None
    pressed = pressed_args(update, cb.SUGGEST_STATUS)
    try:
        status = suggestions.decision(pressed.status)
        now = scope.runtime.now()
        changed = await suggestions.set_status(
            scope.session,
            pressed.suggestion,
            status,
            cadre_id=scope.member.id if scope.member is not None else None,
            now=now,
        )
    except (NotADecision, SuggestionNotFound):
        await query.answer(scope._("This button is no longer valid."), show_alert=True)
        return
    card = await suggestions.card(scope.session, pressed.suggestion)
    if changed and await notices.status_changed(scope.session, card, now=now):
        wake_after_commit(scope.session, context)
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
async def ask_reply(update: Update, context: Context, scope: Scope) -> None:
    """💬 Reply: a prompt for the presser alone (selective, mentioning them) under the card."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    try:
        card = await suggestions.card(
            scope.session, pressed_args(update, cb.SUGGEST_REPLY).suggestion
        )
    except SuggestionNotFound:
        await query.answer(scope._("This button is no longer valid."), show_alert=True)
        return
    if card.author_chat is None:
        await query.answer(
            scope._("The member has deleted their data; a reply cannot reach them."),
            show_alert=True,
        )
        return
    await query.answer()
    name = scope.member.name if scope.member is not None else user.full_name
    prompt = await reply(
        update,
        display.reply_prompt(scope.t, card.suggestion, user.id, name),
        reply_markup=ForceReply(selective=True, input_field_placeholder=card_code(card)),
    )
    if isinstance(query.message, Message):
        _remember_card(scope, query.message.chat_id, prompt.message_id, query.message.message_id)


def card_code(card: suggestions.SuggestionCard) -> str:
    return suggestions.code(card.suggestion.id)


def _remember_card(scope: Scope, chat_id: int, prompt_id: int, card_id: int) -> None:
    """Which card a prompt belongs to, so answering the prompt refreshes the card.

    Telegram does not nest replies: a reply to the prompt does not show the card.
    """
    prompts = scope.runtime.prompt_cards.setdefault(chat_id, {})
    prompts[prompt_id] = card_id
    for old in sorted(prompts)[:-PROMPTS_KEPT]:
        del prompts[old]


@scoped
async def cadre_reply(update: Update, context: Context, scope: Scope) -> None:
    """A cadre replied to a suggestion's card or prompt in the cadre group: pass it on."""
    message = update.effective_message
    chat = update.effective_chat
    assert message is not None and chat is not None and message.reply_to_message is not None
    if chat.id != scope.settings.cadre_chat_id:
        return  # another group: nothing of the cadres' business
    if not scope.is_cadre:
        await reply(
            update,
            scope._(
                "Only union cadres can answer suggestions. If you think you should be one, please ask a union admin."
            ),
        )
        return
    replied = message.reply_to_message
    suggestion_id = suggestion_of(replied.text or "")
    assert suggestion_id is not None
    now = scope.runtime.now()
    try:
        answer = await suggestions.add_reply(
            scope.session,
            suggestion_id,
            cadre_id=scope.member.id if scope.member is not None else None,
            text=message.text or "",
            now=now,
        )
        card = await suggestions.card(scope.session, suggestion_id)
    except InvalidInput as error:
        await reply(update, explain(scope, error, REPLY_MAX))
        return
    except SuggestionNotFound:
        await reply(update, scope._("That suggestion no longer exists."))
        return
    code = suggestions.code(suggestion_id)
    if card.author_chat is None or card.author_language is None:
        await reply(
            update,
            scope._(
                "The member who sent {code} has deleted their data; your reply is kept "
                "with the suggestion but cannot reach them."
            ).format(code=code),
        )
        return
    if await notices.replied(scope.session, card, answer, now=now):
        wake_after_commit(scope.session, context)
    await reply(
        update, scope._("✅ Your reply to {code} is on its way to the member.").format(code=code)
    )
    prompts = scope.runtime.prompt_cards.get(chat.id, {})
    card_id = replied.message_id if replied.reply_markup is not None else None  # the card
    card_id = prompts.get(replied.message_id, card_id)  # or the card of a prompt
    if card_id is not None:
        try:
            await context.bot.edit_message_text(
                display.card_text(scope.t, card, scope.settings.tz),
                chat_id=chat.id,
                message_id=card_id,
                reply_markup=display.card_keyboard(scope.t, card),
            )
        except TelegramError as error:
            log.info("suggestion card not refreshed: %s", type(error).__name__)


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
    application.add_handler(CallbackQueryHandler(ask_reply, pattern=cb.SUGGEST_REPLY.pattern))
    application.add_handler(
        MessageHandler(
            filters.TEXT
            & ~filters.COMMAND
            & filters.ChatType.GROUPS
            & filters.UpdateType.MESSAGE
            & REPLIES_TO_SUGGESTION,
            cadre_reply,
        )
    )
    application.add_handler(CommandHandler("suggest", home, filters=PRIVATE))
    application.add_handler(MessageHandler(button_filter(SUGGESTIONS_ITEM.label) & PRIVATE, home))
    application.add_handler(CallbackQueryHandler(mine, pattern=cb.SUGGEST_MINE.pattern))
    application.add_handler(CallbackQueryHandler(decide, pattern=cb.SUGGEST_STATUS.pattern))

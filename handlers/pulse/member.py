"""A member answers the pulse: the stars, then a comment or Skip.

The `pulse_answer` conversation; its states are drawn in ``pulse_answer.mmd``
beside this module. It starts from a star button of the monthly question and
waits for one text. The draft holds only the month: the answer is found again
by its keyed hash (`storage.pulse`), so nothing kept for the member points at it.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core import drafts
from display import callbacks as cb
from display import pulse as show
from handlers.common import (
    SKIP_LABEL,
    choice_keyboard,
    draft_of,
    drop_buttons,
    drop_draft,
    explain,
    is_label,
    keep_draft,
    pressed_args,
    reply,
    show_panel,
    text_of,
)
from handlers.menu import main_menu
from handlers.scope import Context, Scope, registered, scoped
from storage import pulse
from storage.profile_rules import InvalidInput
from storage.pulse import PulseKeys, PulseRefused, Refusal

NAME = "pulse_answer"
COMMENT = 1  # never renumbered: persisted conversations hold it
DRAFT = "draft_pulse"
TIMEOUT = 30 * 60


@drafts.draft("pulse-comment")
@dataclass
class PulseComment:
    """The month the member just answered, awaiting their comment."""

    month: int


def _on_a_question(update: Update) -> bool:
    """Was the press on a pulse question (not forged onto another of the bot's messages)?"""
    message = update.callback_query.message if update.callback_query is not None else None
    markup = getattr(message, "reply_markup", None)
    return markup is not None and any(
        cb.PULSE_STARS.pattern.match(button.callback_data)
        for row in markup.inline_keyboard
        for button in row
    )


def _keys(scope: Scope) -> PulseKeys:
    return PulseKeys.from_secret(scope.settings.secret_key)


@registered
async def rate(update: Update, context: Context, scope: Scope) -> int:
    """Stores the stars (once a month), asks for a comment (or Skip)."""
    pressed = pressed_args(update, cb.PULSE_STARS)
    assert scope.member is not None and update.callback_query is not None
    try:
        await pulse.answer(
            scope.session,
            pressed.month,
            scope.member.id,
            pressed.stars,
            now=scope.runtime.now(),
            keys=_keys(scope),
        )
    except PulseRefused as refused:
        await update.callback_query.answer(show.refusal(scope.t, refused.reason), show_alert=True)
        if refused.reason is not Refusal.GONE and _on_a_question(update):
            await drop_buttons(update)  # no more stars
        return ConversationHandler.END
    await update.callback_query.answer()
    keep_draft(context, DRAFT, PulseComment(pressed.month))
    await show_panel(update, show.thanks(scope.t, pressed.stars), None)
    await reply(
        update,
        scope._("Would you like to add a comment? Type it, or tap Skip. It stays anonymous."),
        reply_markup=choice_keyboard(scope, [], skip=True),
    )
    return COMMENT


@registered
async def receive_comment(update: Update, context: Context, scope: Scope) -> int:
    """Stores the comment (Skip: none), thanks the member."""
    assert scope.member is not None
    draft = draft_of(context, DRAFT, PulseComment)
    if draft is None:
        return ConversationHandler.END
    text = text_of(update)
    if not is_label(text, SKIP_LABEL):
        try:
            await pulse.comment(
                scope.session,
                draft.month,
                scope.member.id,
                text,
                now=scope.runtime.now(),
                keys=_keys(scope),
            )
        except InvalidInput as error:
            await reply(update, explain(scope, error, pulse.COMMENT_MAX))
            return COMMENT
        except PulseRefused as refused:
            drop_draft(context, DRAFT)
            await reply(
                update, show.refusal(scope.t, refused.reason), reply_markup=main_menu(scope)
            )
            return ConversationHandler.END
    drop_draft(context, DRAFT)
    await reply(
        update,
        scope._("Thank you for your answer! It helps the union do better."),
        reply_markup=main_menu(scope),
    )
    return ConversationHandler.END


@scoped
async def timed_out(update: Update, context: Context, scope: Scope) -> None:
    drop_draft(context, DRAFT)


def conversation(
    text_step: filters.BaseFilter, fallbacks: list[BaseHandler[Update, Context, object]]
) -> ConversationHandler[Context]:
    """The stars and the comment, as one persistent conversation."""
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(rate, pattern=cb.PULSE_STARS.pattern)],
        states={
            COMMENT: [MessageHandler(text_step, receive_comment)],
            ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out)],
        },
        fallbacks=fallbacks,
        name=NAME,
        persistent=True,
        conversation_timeout=TIMEOUT,
        allow_reentry=True,
    )

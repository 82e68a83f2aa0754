"""A member rates a finished case (1 to 5 stars) and may add a comment for the union;
a low rating offers to reopen the case (`handlers.grievances.reopen`, in this conversation).

The conversation ``grievance_rating`` (diagram: grievance_rating.mmd beside
this module). The stars come with the press; `storage.grievances.rate`
decides whether the case takes them (finished, not rated yet) and raises
`RatingRefused` otherwise.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
)

from display import callbacks as cb
from display import grievances as display
from handlers.common import (
    SKIP_LABEL,
    cancel_handlers,
    choice_keyboard,
    explain,
    is_label,
    pressed_args,
    reply,
)
from handlers.grievances.cases import owned
from handlers.grievances.reopen import REASON, ask_reopen, reopen_reason
from handlers.grievances.shared import COMMENT_KEY, TIMEOUT, message_of, text_step, timeout_handlers
from handlers.menu import main_menu
from handlers.scope import Context, Scope, registered
from jobs.delivery import wake_after_commit
from notices import grievances as relay
from storage import grievance_rules as rules
from storage import grievances as service
from storage.grievance_rules import RatingRefused
from storage.grievances import CaseError
from storage.profile_rules import InvalidInput

COMMENT = 20


@registered
async def rate(update: Update, context: Context, scope: Scope) -> int:
    """Entry (a star button): stores the rating, asks for a comment (or ⏭ Skip)."""
    args = pressed_args(update, cb.GRIEVANCE_RATE)
    case = await owned(update, scope, args.case, lock=True)
    if case is None:
        return ConversationHandler.END
    query = update.callback_query
    assert query is not None and context.user_data is not None
    runtime = scope.runtime
    now = runtime.now()
    try:
        service.rate(relay.sealer(runtime), case, args.stars, now)
    except RatingRefused as refused:
        await query.answer(
            display.rating_refusal(scope.t, already_rated=refused.already_rated), show_alert=True
        )
        return ConversationHandler.END
    await service.record(scope.session, case, "rated", now, detail=f"{args.stars}/5")
    await relay.refresh_cards(context.bot, scope.session, runtime, case, now)
    await query.answer()
    thanks = scope._("Thank you! You rated {code} {stars}/5.").format(
        code=case.code, stars=args.stars
    )
    offer = None
    retention = scope.settings.grievance_link_retention_days
    if (
        args.stars <= rules.LOW_STARS
        and await service.reopen_refusal(scope.session, case, now, retention) is None
    ):
        thanks += "\n\n" + scope._(
            "If the problem is not solved, you can reopen the case: tap 🔄 Reopen the case."
        )
        offer = display.reopen_offer_keyboard(scope.t, case.id)
    await query.edit_message_text(thanks, reply_markup=offer)
    context.user_data[COMMENT_KEY] = case.id
    await reply(
        update,
        scope._("Would you like to add a comment for the union? Send it now, or tap ⏭ Skip."),
        reply_markup=choice_keyboard(scope, [], skip=True),
    )
    return COMMENT


@registered
async def rating_comment(update: Update, context: Context, scope: Scope) -> int:
    """COMMENT: stores the comment and puts it under the card; asks nothing more."""
    assert scope.member is not None and context.user_data is not None
    text = message_of(update).text or ""
    case_id = int(context.user_data.pop(COMMENT_KEY, 0) or 0)
    if is_label(text, SKIP_LABEL) or not case_id:
        await reply(update, scope._("Thank you for your feedback."), reply_markup=main_menu(scope))
        return ConversationHandler.END
    try:
        body = rules.clean_text(text, rules.COMMENT_MAX)
        case = await service.owned_case(
            scope.session, relay.sealer(scope.runtime), scope.member.id, case_id, lock=True
        )
    except InvalidInput as error:
        context.user_data[COMMENT_KEY] = case_id
        await reply(update, explain(scope, error, rules.COMMENT_MAX))
        return COMMENT
    except CaseError:
        await reply(update, scope._("This case is not among yours."), reply_markup=main_menu(scope))
        return ConversationHandler.END
    runtime = scope.runtime
    now = runtime.now()
    service.comment(relay.sealer(runtime), case, body)
    await relay.member_commented(scope.session, runtime, case, body, now)
    wake_after_commit(scope.session, context)
    await reply(update, scope._("Thank you for your feedback."), reply_markup=main_menu(scope))
    return ConversationHandler.END


def conversation() -> ConversationHandler[Context]:
    step = text_step()
    return ConversationHandler(
        entry_points=[
            CallbackQueryHandler(rate, pattern=cb.GRIEVANCE_RATE.pattern),
            CallbackQueryHandler(ask_reopen, pattern=cb.GRIEVANCE_REOPEN.pattern),
        ],
        states={
            COMMENT: [MessageHandler(step, rating_comment)],
            REASON: [MessageHandler(step, reopen_reason)],
            ConversationHandler.TIMEOUT: timeout_handlers(),
        },
        fallbacks=cancel_handlers(),
        name="grievance_rating",
        persistent=True,
        conversation_timeout=TIMEOUT,
        allow_reentry=True,
    )

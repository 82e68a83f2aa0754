"""A member adds to a case: ➕ then any number of messages, a reply to the bot, or an offer.

Three ways in, one way to store: `accept_member_message` checks the case is
open and not paused, the hourly limit, the text or file, then stores it and
relays it under the case's cards.

- The conversation ``grievance_add`` (diagram: grievance_add.mmd beside this
  module): ➕ Add under a case, then messages until ✅ Done.
- Replying to any message of the bot that carries a case code adds the reply.
- Plain text or a file no handler took, while a case has a fresh union
  answer, is offered to be added (`offer_addition`, tried by
  `handlers.fallback`). The offer replies to the member's message and its
  buttons act on that message, so nothing is kept in between.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from display import callbacks as cb
from display import grievances as display
from handlers.common import (
    cancel_handlers,
    choice_keyboard,
    explain,
    is_label,
    pressed_args,
    reply,
)
from handlers.grievances.cases import owned, refuse_text
from handlers.grievances.files import FILES, check_file, file_of
from handlers.grievances.recognise import REPLIES_TO_CASE
from handlers.grievances.shared import (
    ADDING_KEY,
    MESSAGE_IN_PRIVATE,
    NOT_TEXT,
    TIMEOUT,
    message_of,
    text_step,
    timeout_handlers,
)
from handlers.menu import main_menu
from handlers.scope import Context, Scope, registered
from jobs.delivery import wake_after_commit
from notices import grievances as relay
from storage import grievance_rules as rules
from storage import grievances as service
from storage.grievance_rules import MemberAction
from storage.grievances import CaseError
from storage.models import Grievance
from storage.models import GrievanceStatus as Status
from storage.profile_rules import InvalidInput

log = logging.getLogger(__name__)

ADDING = 10


async def accept_member_message(
    update: Update,
    context: Context,
    scope: Scope,
    case: Grievance,
    message: Message | None = None,
) -> bool:
    """Store a member's message on their case and pass it on; False after explaining why not.

    ``message`` is the member's message when it is not the update's own (an offer
    the member accepted with a button names the text it replies to).
    """
    message = message or message_of(update)
    runtime = scope.runtime
    now = runtime.now()
    if Status(case.status) not in rules.OPEN:
        await reply(update, refuse_text(scope, case))
        return False
    if case.muted_until is not None and case.muted_until > now:
        await reply(
            update,
            scope._(
                "The union has paused this case until {time}; your message was not passed on."
            ).format(time=display.when(case.muted_until, scope.settings.tz)),
        )
        return False
    per_hour = scope.settings.grievance_additions_per_hour
    earlier = await service.additions_since(scope.session, case, now - rules.ADDITION_WINDOW)
    allowed_at = rules.next_addition_at(earlier, now, per_hour)
    if allowed_at is not None:
        log.info("grievance %s: a member addition over the hourly limit", case.code)
        await reply(
            update,
            scope._(
                "You have added {limit} messages to {code} within an hour. So that the "
                "cadres' group stays readable, please wait until {time}, or put more into "
                "one message. This one was not passed on."
            ).format(
                limit=per_hour, code=case.code, time=display.when(allowed_at, scope.settings.tz)
            ),
        )
        return False
    keys = relay.sealer(runtime)
    ref = keys.message_ref(message.chat_id, message.message_id)
    if message.text is not None:
        try:
            body = rules.clean_text(message.text, rules.TEXT_MAX)
        except InvalidInput as error:
            await reply(update, explain(scope, error, rules.TEXT_MAX))
            return False
        stored = await service.add_message(
            scope.session, keys, case, author="member", kind="text", body=body, ref=ref, now=now
        )
    else:
        number = await service.member_file_count(scope.session, case.id) + 1
        attachment = await check_file(update, scope, message, number)
        if attachment is None:
            return False
        stored = await service.add_message(
            scope.session,
            keys,
            case,
            author="member",
            kind=attachment.kind,
            body=attachment.caption,
            file_id=attachment.file_id,
            ref=ref,
            origin=attachment.origin,
            now=now,
        )
    await relay.relay_member_message(scope.session, runtime, case, stored, now)
    wake_after_commit(scope.session, context)
    return True


# The conversation ------------------------------------------------------------------------


@registered
async def start_adding(update: Update, context: Context, scope: Scope) -> int:
    """Entry (➕ Add): stores which case, asks for what to add."""
    case = await owned(update, scope, pressed_args(update, cb.GRIEVANCE_ADD).case)
    if case is None:
        return ConversationHandler.END
    query = update.callback_query
    assert query is not None and context.user_data is not None
    if not rules.member_may(MemberAction.ADD, Status(case.status), rated=False, signed=False):
        await query.answer(refuse_text(scope, case), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    context.user_data[ADDING_KEY] = case.id
    await reply(
        update,
        scope._(
            "Send what you want to add to {code}: text, photos, documents or voice notes. "
            "Each is passed on anonymously. Tap ✅ Done when finished."
        ).format(code=case.code),
        reply_markup=choice_keyboard(scope, [scope._(display.FINISHED_LABEL)]),
    )
    return ADDING


@registered
async def adding(update: Update, context: Context, scope: Scope) -> int:
    """ADDING: stores the message on the case and relays it, asks for more or ✅ Done."""
    assert scope.member is not None and context.user_data is not None
    text = message_of(update).text or ""
    if is_label(text, display.FINISHED_LABEL):
        context.user_data.pop(ADDING_KEY, None)
        await reply(update, scope._("Done."), reply_markup=main_menu(scope))
        return ConversationHandler.END
    try:
        case = await service.owned_case(
            scope.session,
            relay.sealer(scope.runtime),
            scope.member.id,
            int(context.user_data.get(ADDING_KEY, 0)),
            lock=True,
        )
    except CaseError:
        await reply(update, scope._("This case is not among yours."), reply_markup=main_menu(scope))
        return ConversationHandler.END
    if await accept_member_message(update, context, scope, case):
        await reply(
            update,
            scope._("✉️ Passed on under {code}. Send more, or tap ✅ Done.").format(code=case.code),
        )
        return ADDING
    return ADDING if Status(case.status) in rules.OPEN else ConversationHandler.END


@registered
async def not_a_file_adding(update: Update, context: Context, scope: Scope) -> int:
    """ADDING, a sticker or the like: stores nothing, asks for something it can pass on."""
    await reply(
        update,
        scope._("I can pass on text, photos, documents and voice notes. Please send one of those."),
    )
    return ADDING


def conversation() -> ConversationHandler[Context]:
    step = text_step()
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(start_adding, pattern=cb.GRIEVANCE_ADD.pattern)],
        states={
            ADDING: [
                MessageHandler(step, adding),
                MessageHandler(MESSAGE_IN_PRIVATE & FILES, adding),
                MessageHandler(NOT_TEXT, not_a_file_adding),
            ],
            ConversationHandler.TIMEOUT: timeout_handlers(),
        },
        fallbacks=cancel_handlers(),
        name="grievance_add",
        persistent=True,
        conversation_timeout=TIMEOUT,
        allow_reentry=True,
    )


# Replies and offers -----------------------------------------------------------------------


@registered
async def quick_reply(update: Update, context: Context, scope: Scope) -> None:
    """A member replied to the bot's message about a case: add the reply to that case."""
    assert scope.member is not None
    replied = message_of(update).reply_to_message
    assert replied is not None
    code = rules.find_code(replied.text or replied.caption)
    case = await service.case_by_code(scope.session, code or "")
    keys = relay.sealer(scope.runtime)
    if case is None or keys.open_link(case) != scope.member.id:
        await reply(update, scope._("This case is not among yours."))
        return
    case = await service.get_case(scope.session, case.id, lock=True)
    assert case is not None
    if await accept_member_message(update, context, scope, case):
        await reply(
            update, scope._("✉️ Passed on to the union under {code}.").format(code=case.code)
        )


async def offer_addition(update: Update, context: Context, scope: Scope) -> bool:
    """Plain text (or a file) no handler took, while a case has a fresh answer: offer to add it.

    Called by `handlers.fallback` (see `Runtime.add_free_text`) in the update's scope.
    The offer replies to the member's message, and its buttons add exactly that
    message, so nothing needs keeping meanwhile and a restart loses nothing.
    """
    message = update.effective_message
    if scope.member is None or message is None:
        return False
    if message.text is None and file_of(message) is None:
        return False
    runtime = scope.runtime
    since = runtime.now() - timedelta(hours=scope.settings.grievance_offer_hours)
    found = await service.freshly_answered(
        scope.session, relay.sealer(runtime), scope.member.id, since
    )
    if not found:
        return False
    await message.reply_text(
        display.offer_text(scope.t, found[: display.OFFER_MAX]),
        reply_markup=display.offer_keyboard(scope.t, found[: display.OFFER_MAX]),
        do_quote=True,
    )
    return True


@registered
async def offer_answer(update: Update, context: Context, scope: Scope) -> None:
    """The member accepted (or declined) adding the text the offer replies to."""
    query = update.callback_query
    assert query is not None and scope.member is not None
    offer = query.message if isinstance(query.message, Message) else None
    case_id = pressed_args(update, cb.GRIEVANCE_OFFER).case
    if not case_id:
        await query.answer()
        if offer is not None and offer.reply_markup is not None:
            await offer.edit_text(scope._("All right, it was not added to any case."))
        return
    try:
        case = await service.owned_case(
            scope.session, relay.sealer(scope.runtime), scope.member.id, case_id, lock=True
        )
    except CaseError:
        await query.answer(scope._("This case is not among yours."), show_alert=True)
        return
    original = offer.reply_to_message if offer is not None else None
    user = update.effective_user
    if (
        offer is None
        or original is None
        or (original.text is None and file_of(original) is None)
        or user is None
        or original.from_user is None
        or original.from_user.id != user.id
    ):
        await query.answer(
            scope._("That message is no longer there; nothing was added."), show_alert=True
        )
        return
    keys = relay.sealer(scope.runtime)
    ref = keys.message_ref(original.chat_id, original.message_id)
    if await service.message_by_ref(scope.session, ref) is not None:
        await query.answer(scope._("That was already done."), show_alert=True)
        return
    await query.answer()
    if await accept_member_message(update, context, scope, case, original):
        await offer.edit_text(
            scope._("✉️ Passed on to the union under {code}.").format(code=case.code)
        )
    elif offer.reply_markup is not None:
        await offer.edit_reply_markup(None)


def handlers() -> list[BaseHandler[Update, Context, object]]:
    return [
        MessageHandler(MESSAGE_IN_PRIVATE & REPLIES_TO_CASE & (filters.TEXT | FILES), quick_reply),
        CallbackQueryHandler(offer_answer, pattern=cb.GRIEVANCE_OFFER.pattern),
    ]

"""Cadres answer a case: a reply in a union group to a bot message naming it is passed on.

The member receives the answer from "the union", never a cadre's name. 💬
Reply (`handlers.grievances.cadre`) posts a prompt that mentions the presser
with a selective ForceReply, so only their client opens the reply; if they
write without replying anyway, the bot says once that it went nowhere and
offers a button that passes it on (`unreplied_answer`, group 2).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram import Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from core import drafts
from display import callbacks as cb
from display import grievances as display
from handlers.common import explain, pressed_args, reply
from handlers.grievances.recognise import REPLIES_TO_BOT, REPLIES_TO_CASE
from handlers.grievances.shared import NOT_CADRE, WRONG_GROUP, in_case_group, query_message
from handlers.replies import REPLIES_TO_SUGGESTION
from handlers.scope import Context, Scope, scoped
from jobs.delivery import wake_after_commit
from notices import grievances as relay
from storage import grievance_rules as rules
from storage import grievances as service
from storage.models import GrievanceStatus as Status
from storage.profile_rules import InvalidInput

log = logging.getLogger(__name__)

GROUPS = filters.ChatType.GROUPS
UNREPLIED_GROUP = 2  # after the features (group 0) had their say, never instead of them

PROMPT_KEY = "grievance_reply_prompt"  # user_data: the case a cadre was asked to answer
PROMPT_MINUTES = 30


@drafts.draft("grievance-reply-prompt")
@dataclass(frozen=True)
class ReplyPrompt:
    """A cadre pressed 💬 Reply on this case in this group at this time."""

    case: int
    chat: int
    at: datetime


def remember_prompt(context: Context, case_id: int, chat_id: int, now: datetime) -> None:
    if context.user_data is not None:
        context.user_data[PROMPT_KEY] = ReplyPrompt(case_id, chat_id, now)


def _forget_prompt(context: Context) -> ReplyPrompt | None:
    """The prompt the cadre had, dropped (a value from older code counts as none)."""
    found = context.user_data.pop(PROMPT_KEY, None) if context.user_data is not None else None
    return found if isinstance(found, ReplyPrompt) else None


def _union_file(message: Message) -> tuple[str, str | None] | None:
    if message.text is not None:
        return "text", None
    if message.photo:
        return "photo", message.photo[-1].file_id
    if message.document is not None:
        return "document", message.document.file_id
    if message.voice is not None:
        return "voice", message.voice.file_id
    return None


@scoped
async def cadre_reply(update: Update, context: Context, scope: Scope) -> None:
    """A reply in a union group to a bot message naming a case: pass it on as the union."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None and message.reply_to_message is not None
    replied = message.reply_to_message
    if replied.from_user is None or replied.from_user.id != context.bot.id:
        return
    if not scope.is_cadre:
        await reply(
            update,
            scope._(
                "Only union cadres can answer cases. If you think you should be one, please ask a union admin."
            ),
        )
        return
    code = rules.find_code(replied.text or replied.caption)
    case = await service.case_by_code(scope.session, code or "")
    if case is None:
        await reply(update, scope._("I don't know that case."))
        return
    _forget_prompt(context)
    await _pass_on(update, context, scope, case.id, message)


async def _pass_on(
    update: Update, context: Context, scope: Scope, case_id: int, message: Message
) -> bool:
    """Pass a cadre's message on to the case's member as the union; False after saying why not.

    Answers under ``message`` (the cadre's own), whether it came as a reply or
    through the button under a nudge.
    """
    user = update.effective_user
    assert user is not None

    async def say(text: str) -> None:
        await message.reply_text(text)

    case = await service.get_case(scope.session, case_id, lock=True)
    if case is None:
        await say(scope._("I don't know that case."))
        return False
    if not in_case_group(update, scope, case):
        await say(scope._(WRONG_GROUP))
        return False
    if Status(case.status) not in rules.OPEN:
        await say(
            scope._(
                "This case is closed; your message was not passed on. If the member needs "
                "more help, they can open a new case."
            )
        )
        return False
    found = _union_file(message)
    if found is None:
        await say(
            scope._(
                "I can pass on text, photos, documents and voice notes. Please send one of those."
            )
        )
        return False
    kind, file_id = found
    try:
        raw = message.text if kind == "text" else message.caption
        body = rules.clean_text(raw, rules.TEXT_MAX) if raw else None
    except InvalidInput as error:
        await say(explain(scope, error, rules.TEXT_MAX))
        return False
    runtime = scope.runtime
    now = runtime.now()
    ref = relay.sealer(runtime).message_ref(message.chat_id, message.message_id)
    if await service.message_by_ref(scope.session, ref) is not None:
        await say(scope._("That was already passed on."))
        return False
    stored = await service.add_message(
        scope.session,
        relay.sealer(runtime),
        case,
        author="union",
        kind=kind,
        body=body,
        file_id=file_id,
        ref=ref,
        now=now,
    )
    service.answered(case, user.id, now)
    await service.record(scope.session, case, "replied", now, actor=user.id)
    reached = await relay.relay_union_message(
        scope.session,
        runtime,
        case,
        stored,
        from_chat=message.chat_id,
        from_message=message.message_id,
        now=now,
    )
    await relay.refresh_cards(context.bot, scope.session, runtime, case, now)
    wake_after_commit(scope.session, context)
    if reached:
        await say(
            scope._("✉️ Passed on to the member of {code} as “the union”.").format(code=case.code)
        )
    else:
        await say(
            scope._(
                "The author of {code} can no longer be reached (they left, or the link was "
                "removed after the retention period). Your answer is kept with the case."
            ).format(code=case.code)
        )
    log.info("grievance %s: replied by a cadre", case.code)
    return True


# A cadre who pressed 💬 Reply and then wrote without replying ----------------------------


async def unreplied_answer(update: Update, context: Context) -> None:
    """Group 2: a plain message right after 💬 Reply may be the answer, sent without replying.

    Telegram lets a cadre close the reply bar; the member would never get it and
    nobody would know. So the first such message is answered, once, with what
    happened and a button that passes it on. Other messages cost nothing: the
    check is the cadre's own ``user_data``, before any transaction.
    """
    pending = (context.user_data or {}).get(PROMPT_KEY)
    message = update.effective_message
    if isinstance(pending, ReplyPrompt) and message is not None and message.chat_id == pending.chat:
        await _nudge(update, context)


@scoped
async def _nudge(update: Update, context: Context, scope: Scope) -> None:
    prompt = _forget_prompt(context)
    if prompt is None or scope.runtime.now() - prompt.at > timedelta(minutes=PROMPT_MINUTES):
        return
    case = await service.get_case(scope.session, prompt.case)
    message = update.effective_message
    if case is None or message is None or not scope.is_cadre:
        return
    if Status(case.status) not in rules.OPEN:
        return
    await message.reply_text(
        display.unreplied_text(scope.t, case.code),
        reply_markup=display.pass_on_keyboard(scope.t, case),
    )


@scoped
async def pass_on_pressed(update: Update, context: Context, scope: Scope) -> None:
    """The button under a nudge: pass the cadre's message it answers on (or leave it)."""
    query = update.callback_query
    nudge = query_message(update)
    user = update.effective_user
    assert query is not None and user is not None
    if not scope.is_cadre:
        await query.answer(scope._(NOT_CADRE), show_alert=True)
        return
    case_id = pressed_args(update, cb.GRIEVANCE_PASS_ON).case
    if not case_id:
        await query.answer()
        if nudge is not None and nudge.reply_markup is not None:
            await nudge.edit_text(scope._("All right, it stays in the group only."))
        return
    original = nudge.reply_to_message if nudge is not None else None
    if nudge is None or original is None or original.from_user is None:
        await query.answer(scope._("That message is no longer there."), show_alert=True)
        return
    if original.from_user.id != user.id:
        await query.answer(
            scope._(
                "Only the cadre who wrote it can pass it on. Ask them, or answer the member by replying to the case's card yourself."
            ),
            show_alert=True,
        )
        return
    await query.answer()
    if nudge.reply_markup is not None:
        await nudge.edit_reply_markup(None)
    await _pass_on(update, context, scope, case_id, original)


def handlers() -> list[BaseHandler[Update, Context, object]]:
    """Group 0: answers recognised by what they reply to, and the nudge's button."""
    return [
        MessageHandler(
            GROUPS
            & filters.UpdateType.MESSAGE
            & ~filters.COMMAND
            & REPLIES_TO_BOT
            & REPLIES_TO_CASE
            & ~REPLIES_TO_SUGGESTION,  # a suggestion's text may quote a case code
            cadre_reply,
        ),
        CallbackQueryHandler(pass_on_pressed, pattern=cb.GRIEVANCE_PASS_ON.pattern),
    ]


def unreplied_handler() -> BaseHandler[Update, Context, object]:
    """For group `UNREPLIED_GROUP`."""
    return MessageHandler(
        GROUPS & filters.UpdateType.MESSAGE & ~filters.COMMAND & ~filters.REPLY,
        unreplied_answer,
    )

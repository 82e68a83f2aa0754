"""Grievances, the union's side: the card's buttons, replies, /cases, /case, statistics, admin.

Every card button is checked twice: the presser must be a cadre or admin
(`storage.members.effective_role`) and the press must come from one of the
case's groups (its category's group, the cadre group or the escalation group).
A forged or stale press gets an alert and changes nothing. Cadres answer by
replying to the card (or to any bot message naming the case); the member
receives the answer from "the union", never a cadre's name. 💬 Reply posts a
prompt that mentions the presser with a selective ForceReply, so only their
client opens the reply; if they write without replying anyway, the bot says
once that it went nowhere and offers a button that passes it on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from telegram import ChatMemberUpdated, ForceReply, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core.i18n import N_
from core.runtime import CommandSpec, runtime_of
from display import callbacks as cb
from display import grievances as display
from handlers.common import (
    CANCEL_LABEL,
    OTHER_INPUT,
    PRIVATE,
    TEXT_INPUT,
    ask_for_text,
    cancel_handlers,
    cancel_keyboard,
    explain,
    reply,
    show_panel,
    show_working,
)
from handlers.grievances import REPLIES_TO_CASE
from handlers.menu import button_filter
from handlers.scope import Context, Scope, admin_only, cadre_only, scoped
from handlers.suggestions import REPLIES_TO_SUGGESTION
from jobs import grievances as jobs
from jobs.delivery import wake_after_commit
from notices import grievances as relay
from storage import grievance_rules as rules
from storage import grievances as service
from storage.grievance_rules import CadreAction, Escalation
from storage.models import Grievance
from storage.models import GrievanceStatus as Status
from storage.profile_rules import InvalidInput, clean_label

log = logging.getLogger(__name__)

GROUPS = filters.ChatType.GROUPS
INPUT = 0
DRAFT = "draft_grievance_settings"

NOT_CADRE = N_("Only union cadres can do that.")
WRONG_GROUP = N_("Case buttons work only in the union's cadre groups. Nothing was changed.")


def _query_message(update: Update) -> Message | None:
    query = update.callback_query
    message = query.message if query else None
    return message if isinstance(message, Message) else None


def _in_case_group(update: Update, scope: Scope, case: Grievance) -> bool:
    chat = update.effective_chat
    return (
        chat is not None
        and chat.type in ("group", "supergroup")
        and chat.id in relay.case_chats(scope.runtime, case)
    )


async def _case_for_press(
    update: Update, scope: Scope, action: cb.CallbackAction, what: CadreAction
) -> Grievance | None:
    """The case a cadre button names, if this presser may do this there and now."""
    query = update.callback_query
    assert query is not None
    if not scope.is_cadre:
        await query.answer(scope._(NOT_CADRE), show_alert=True)
        return None
    try:
        case_id = int(action.unpack(query.data)[0])
    except cb.InvalidCallback:
        await query.answer(scope._("This button is no longer valid."), show_alert=True)
        return None
    case = await service.get_case(scope.session, case_id, lock=True)
    if case is None:
        await query.answer(scope._("This button is no longer valid."), show_alert=True)
        return None
    if not _in_case_group(update, scope, case):
        await query.answer(scope._(WRONG_GROUP), show_alert=True)
        return None
    now = scope.runtime.now()
    muted = case.muted_until is not None and case.muted_until > now
    if not rules.cadre_may(
        what, Status(case.status), muted=muted, escalated=case.escalated_at is not None
    ):
        if Status(case.status) in rules.FINISHED:
            text = scope._("This case is closed; nothing was changed.")
        else:
            text = scope._("That was already done; the card has been refreshed.")
        await query.answer(text, show_alert=True)
        await _redraw_pressed(update, scope, case)
        return None
    return case


async def _redraw_pressed(
    update: Update, scope: Scope, case: Grievance, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Redraw the card that was pressed (it may be a /case copy no table knows about)."""
    message = _query_message(update)
    if message is None or message.text is None:
        return
    now = scope.runtime.now()
    text, card_markup = await relay.render_card(scope.session, scope.runtime, case, now)
    chosen = markup if markup is not None else card_markup
    if message.text_html == text and message.reply_markup == chosen:
        return
    try:
        await message.edit_text(text, reply_markup=chosen)
    except TelegramError as error:
        log.info("pressed card not redrawn: %s", type(error).__name__)


async def _changed(
    update: Update,
    context: Context,
    scope: Scope,
    case: Grievance,
    action: str,
    detail: str | None = None,
    *,
    toast: str | None = None,
) -> None:
    """After a cadre's change: audit, answer the press with ``toast``, redraw every card.

    The audit record is written before the answer, which commits (`bot.request`):
    the change and its record are saved together.
    """
    user = update.effective_user
    now = scope.runtime.now()
    await service.record(
        scope.session, case, action, now, actor=user.id if user else None, detail=detail
    )
    wake_after_commit(scope.session, context)
    assert update.callback_query is not None
    await update.callback_query.answer(toast)
    await _redraw_pressed(update, scope, case)
    message = _query_message(update)
    skip = (message.chat_id, message.message_id) if message is not None else None
    await relay.refresh_cards(context.bot, scope.session, scope.runtime, case, now, skip=skip)
    log.info("grievance %s: %s by a cadre", case.code, action)


@scoped
async def take(update: Update, context: Context, scope: Scope) -> None:
    case = await _case_for_press(update, scope, cb.GRIEVANCE_TAKE, CadreAction.TAKE)
    if case is None:
        return
    assert update.effective_user is not None and update.callback_query is not None
    now = scope.runtime.now()
    service.take(case, update.effective_user.id, now)
    await relay.notify_member(
        scope.session, scope.runtime, case, "taken", now, moment=case.answer_due_at
    )
    toast = scope._("You took {code}.").format(code=case.code)
    await _changed(update, context, scope, case, "took", toast=toast)


@scoped
async def ask_reply(update: Update, context: Context, scope: Scope) -> None:
    case = await _case_for_press(update, scope, cb.GRIEVANCE_REPLY, CadreAction.REPLY)
    if case is None:
        return
    query = update.callback_query
    message = _query_message(update)
    user = update.effective_user
    assert query is not None and message is not None and user is not None
    await query.answer()
    # Selective, and the prompt mentions the presser: only their reply field opens
    # (the prompt replies to the card, a bot message, so the mention is what targets).
    name = scope.member.name if scope.member is not None else user.full_name
    await message.reply_text(
        display.reply_prompt(scope.t, case.code, user.id, name),
        reply_markup=ForceReply(selective=True, input_field_placeholder=case.code),
    )
    _remember_prompt(context, case.id, message.chat_id, scope.runtime.now())


@scoped
async def ask_resolve(update: Update, context: Context, scope: Scope) -> None:
    case = await _case_for_press(update, scope, cb.GRIEVANCE_RESOLVE, CadreAction.RESOLVE)
    if case is None:
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await _redraw_pressed(update, scope, case, display.resolve_keyboard(scope.t, case))


@scoped
async def resolve(update: Update, context: Context, scope: Scope) -> None:
    case = await _case_for_press(update, scope, cb.GRIEVANCE_RESOLVE_CONFIRM, CadreAction.RESOLVE)
    if case is None:
        return
    assert update.callback_query is not None
    now = scope.runtime.now()
    service.finish(case, Status.RESOLVED, now)
    await relay.notify_member(scope.session, scope.runtime, case, "resolved", now)
    toast = scope._("{code} is resolved.").format(code=case.code)
    await _changed(update, context, scope, case, "resolved", toast=toast)


@scoped
async def escalate(update: Update, context: Context, scope: Scope) -> None:
    case = await _case_for_press(update, scope, cb.GRIEVANCE_ESCALATE, CadreAction.ESCALATE)
    if case is None:
        return
    query = update.callback_query
    assert query is not None
    upstairs = scope.settings.escalation_chat_id
    if upstairs is None:
        await query.answer(
            scope._("No escalation group is set (ESCALATION_CHAT_ID); nothing was changed."),
            show_alert=True,
        )
        return
    now = scope.runtime.now()
    service.escalate(case, Escalation.MANUAL, now)
    chats = {p.chat_id for p in await service.posts_of(scope.session, case.id, role="card")}
    note = relay.group_t(scope.runtime).gettext("⬆️ Escalated by a cadre")
    await relay.post_case(
        scope.session,
        scope.runtime,
        case,
        upstairs,
        now,
        note=note,
        with_thread=upstairs not in chats,
    )
    await relay.notify_member(scope.session, scope.runtime, case, "escalated", now)
    toast = scope._("{code} was escalated.").format(code=case.code)
    await _changed(update, context, scope, case, "escalated", toast=toast)


@scoped
async def mute(update: Update, context: Context, scope: Scope) -> None:
    case = await _case_for_press(update, scope, cb.GRIEVANCE_MUTE, CadreAction.MUTE)
    if case is None:
        return
    query = update.callback_query
    assert query is not None
    days = int(cb.GRIEVANCE_MUTE.unpack(query.data)[1])
    if days == 0:
        await query.answer()
        await _redraw_pressed(update, scope, case, display.mute_keyboard(scope.t, case))
        return
    if days not in rules.MUTE_DAYS:
        await query.answer(scope._("This button is no longer valid."), show_alert=True)
        return
    service.mute(case, scope.runtime.now() + timedelta(days=days))
    toast = scope._("Muted: the sender of {code} cannot open new cases for {days} days.").format(
        code=case.code, days=days
    )
    await _changed(update, context, scope, case, "muted", f"{days} d", toast=toast)


@scoped
async def unmute(update: Update, context: Context, scope: Scope) -> None:
    case = await _case_for_press(update, scope, cb.GRIEVANCE_UNMUTE, CadreAction.UNMUTE)
    if case is None:
        return
    assert update.callback_query is not None
    service.mute(case, None)
    await _changed(update, context, scope, case, "unmuted")


@scoped
async def back_to_card(update: Update, context: Context, scope: Scope) -> None:
    query = update.callback_query
    assert query is not None
    if not scope.is_cadre:
        await query.answer(scope._(NOT_CADRE), show_alert=True)
        return
    case = await service.get_case(scope.session, int(cb.GRIEVANCE_CARD.unpack(query.data)[0]))
    if case is None or not _in_case_group(update, scope, case):
        await query.answer(scope._(WRONG_GROUP), show_alert=True)
        return
    await query.answer()
    await _redraw_pressed(update, scope, case)


# Replies from the group --------------------------------------------------------------


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
        await reply(update, scope._("Only union cadres can answer cases."))
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
    if not _in_case_group(update, scope, case):
        await say(scope._(WRONG_GROUP))
        return False
    if Status(case.status) not in rules.OPEN:
        await say(scope._("This case is closed; your message was not passed on."))
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

PROMPT_KEY = "grievance_reply_prompt"  # user_data: the case a cadre was asked to answer
PROMPT_MINUTES = 30


def _remember_prompt(context: Context, case_id: int, chat_id: int, now: datetime) -> None:
    if context.user_data is not None:
        context.user_data[PROMPT_KEY] = (case_id, chat_id, now.isoformat())


def _forget_prompt(context: Context) -> object:
    return context.user_data.pop(PROMPT_KEY, None) if context.user_data is not None else None


async def unreplied_answer(update: Update, context: Context) -> None:
    """Group 2: a plain message right after 💬 Reply may be the answer, sent without replying.

    Telegram lets a cadre close the reply bar; the member would never get it and
    nobody would know. So the first such message is answered, once, with what
    happened and a button that passes it on. Other messages cost nothing: the
    check is the cadre's own ``user_data``, before any transaction.
    """
    pending = (context.user_data or {}).get(PROMPT_KEY)
    message = update.effective_message
    if pending and message is not None and message.chat_id == pending[1]:
        await _nudge(update, context)


@scoped
async def _nudge(update: Update, context: Context, scope: Scope) -> None:
    case_id, _, at = _forget_prompt(context)  # type: ignore[misc]
    if scope.runtime.now() - datetime.fromisoformat(at) > timedelta(minutes=PROMPT_MINUTES):
        return
    case = await service.get_case(scope.session, int(case_id))
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
    nudge = _query_message(update)
    user = update.effective_user
    assert query is not None and user is not None
    if not scope.is_cadre:
        await query.answer(scope._(NOT_CADRE), show_alert=True)
        return
    (case_id,) = cb.GRIEVANCE_PASS_ON.unpack(query.data)
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
        await query.answer(scope._("Only the cadre who wrote it can pass it on."), show_alert=True)
        return
    await query.answer()
    if nudge.reply_markup is not None:
        await nudge.edit_reply_markup(None)
    await _pass_on(update, context, scope, int(case_id), original)


# /cases, /case ------------------------------------------------------------------------


@cadre_only
async def list_cases(update: Update, context: Context, scope: Scope) -> None:
    cases = await service.open_cases(scope.session)
    total = await service.count_open(scope.session)
    await reply(update, display.open_cases_text(scope.t, cases, scope.runtime.now(), total))


@cadre_only
async def show_case(update: Update, context: Context, scope: Scope) -> None:
    code = rules.parse_code(" ".join(context.args or []))
    case = await service.case_by_code(scope.session, code) if code else None
    if case is None:
        await reply(update, scope._("Send /case and a case code, e.g. /case G-7K3Q."))
        return
    runtime = scope.runtime
    now = runtime.now()
    text, markup = await relay.render_card(scope.session, runtime, case, now)
    keys = relay.sealer(runtime)
    messages = await service.thread(scope.session, case.id)
    bodies = {m.id: keys.body(case, m) for m in messages[1:]}
    lines = display.thread_lines(
        scope.t, scope.settings.tz, case, messages[1:], bodies, member_view=False, limit=1000
    )
    if lines:
        text += "\n" + display.LINE + "\n" + "\n\n".join(lines)
    in_group = _in_case_group(update, scope, case)
    await reply(update, text, reply_markup=markup if in_group else None)


# Statistics and audit -----------------------------------------------------------------


@cadre_only
async def grievance_stats(update: Update, context: Context, scope: Scope) -> None:
    runtime = scope.runtime
    await show_working(update)
    stats = await service.stats(
        scope.session,
        relay.sealer(runtime),
        scope.settings.tz,
        now=runtime.now(),
        no_department=scope._("No department"),
    )
    await reply(update, display.stats_text(scope.t, stats))
    message = update.effective_message
    assert message is not None
    day = runtime.now().astimezone(scope.settings.tz).date().isoformat()
    await message.reply_document(
        display.stats_workbook(scope.t, stats),
        filename=f"grievances-{day}.xlsx",
        caption=scope._("Grievance statistics, without identities."),
    )


@admin_only
async def audit(update: Update, context: Context, scope: Scope) -> None:
    code = rules.parse_code(" ".join(context.args or [])) if context.args else None
    lines = await service.audit_log(scope.session, code)
    await reply(update, display.audit_text(scope.t, scope.settings.tz, lines))


# Admin settings --------------------------------------------------------------------------


async def _show(update: Update, text: str, markup: InlineKeyboardMarkup) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer()
    await show_panel(update, text, markup)


async def _render_settings(update: Update, scope: Scope) -> None:
    categories = await service.list_categories(scope.session, active_only=False)
    limit = await service.daily_limit(scope.session)
    await _show(
        update,
        display.settings_text(scope.t, categories, limit, scope.settings.cadre_chat_id),
        display.settings_keyboard(scope.t, categories),
    )


@admin_only
async def settings_home(update: Update, context: Context, scope: Scope) -> None:
    await _render_settings(update, scope)


async def _render_category(update: Update, scope: Scope, category_id: int) -> None:
    category = await service.get_category(scope.session, category_id)
    if category is None:
        await _render_settings(update, scope)
        return
    text = display.settings_text(
        scope.t, [category], await service.daily_limit(scope.session), scope.settings.cadre_chat_id
    )
    await _show(update, text, display.category_keyboard(scope.t, category))


@admin_only
async def category_view(update: Update, context: Context, scope: Scope) -> None:
    assert update.callback_query is not None
    (category_id,) = cb.GRIEVANCE_CATEGORY.unpack(update.callback_query.data)
    await _render_category(update, scope, int(category_id))


@admin_only
async def category_toggle(update: Update, context: Context, scope: Scope) -> None:
    query = update.callback_query
    assert query is not None
    data = query.data or ""
    field = "always_urgent" if cb.GRIEVANCE_CATEGORY_URGENT.pattern.match(data) else "active"
    action = (
        cb.GRIEVANCE_CATEGORY_URGENT if field == "always_urgent" else cb.GRIEVANCE_CATEGORY_ACTIVE
    )
    category = await service.get_category(scope.session, int(action.unpack(data)[0]))
    if category is not None:
        setattr(category, field, not getattr(category, field))
        await scope.session.flush()
        await _render_category(update, scope, category.id)
    else:
        await _render_settings(update, scope)


INPUT_ACTIONS = (
    cb.GRIEVANCE_CATEGORY_ADD,
    cb.GRIEVANCE_CATEGORY_RENAME,
    cb.GRIEVANCE_CATEGORY_SLA,
    cb.GRIEVANCE_CATEGORY_ROUTE,
    cb.GRIEVANCE_DAILY_LIMIT,
)


@admin_only
async def ask_input(update: Update, context: Context, scope: Scope) -> int:
    query = update.callback_query
    assert query is not None and context.user_data is not None
    data = query.data or ""
    prompts = {
        cb.GRIEVANCE_CATEGORY_ADD: scope._("Send the name of the new category:"),
        cb.GRIEVANCE_CATEGORY_RENAME: scope._("Send the new name of the category:"),
        cb.GRIEVANCE_CATEGORY_SLA: scope._(
            "Send two numbers of hours: the deadline to take a case and to answer it, "
            "e.g. 24 72. Urgent cases get half."
        ),
        cb.GRIEVANCE_CATEGORY_ROUTE: scope._(
            "Send the id of the group this category's cases go to (e.g. -1001234567890; "
            "the bot must be in it), or a single dash for the cadre group."
        ),
        cb.GRIEVANCE_DAILY_LIMIT: scope._(
            "Send how many new cases one member may open a day (1-50):"
        ),
    }
    for action, prompt in prompts.items():
        if action.pattern.match(data):
            context.user_data[DRAFT] = (action.prefix, *action.unpack(data))
            await query.answer()
            await reply(update, prompt, reply_markup=cancel_keyboard(scope))
            return INPUT
    await query.answer(scope._("This button is no longer valid."), show_alert=True)
    return ConversationHandler.END


def _numbers(text: str) -> list[int]:
    """Whole numbers typed by an admin; an empty list when it is not only numbers."""
    parts = text.replace(",", " ").replace("，", " ").split()
    if not all(p.lstrip("-").isdigit() and len(p) < 20 for p in parts):
        return []
    return [int(p) for p in parts]


@admin_only
async def receive_input(update: Update, context: Context, scope: Scope) -> int:
    assert context.user_data is not None
    draft = context.user_data.get(DRAFT)
    text = (update.effective_message.text if update.effective_message else None) or ""
    if not draft:
        return ConversationHandler.END
    prefix, *ids = draft
    category = await service.get_category(scope.session, int(ids[0])) if ids else None
    if ids and category is None:
        await reply(update, scope._("That no longer exists. The list has been refreshed."))
        context.user_data.pop(DRAFT, None)
        await _render_settings(update, scope)
        return ConversationHandler.END
    try:
        if prefix == cb.GRIEVANCE_CATEGORY_ADD.prefix:
            category = await service.add_category(scope.session, clean_label(text, 64))
        elif prefix == cb.GRIEVANCE_CATEGORY_RENAME.prefix:
            assert category is not None
            category.name = clean_label(text, 64)
        elif prefix == cb.GRIEVANCE_CATEGORY_SLA.prefix:
            assert category is not None
            numbers = _numbers(text)
            if len(numbers) != 2 or not (1 <= numbers[0] <= numbers[1] <= 720):
                await reply(
                    update,
                    scope._(
                        "Please send two numbers from 1 to 720, the second not smaller, e.g. 24 72."
                    ),
                )
                return INPUT
            category.take_hours, category.answer_hours = numbers
        elif prefix == cb.GRIEVANCE_CATEGORY_ROUTE.prefix:
            assert category is not None
            if text.strip() in ("-", "—"):
                category.chat_id = None
            else:
                numbers = _numbers(text)
                if len(numbers) != 1 or numbers[0] >= 0:
                    await reply(
                        update, scope._("A group id is a negative number like -1001234567890.")
                    )
                    return INPUT
                try:
                    await context.bot.get_chat(numbers[0])
                except TelegramError:
                    await reply(
                        update,
                        scope._(
                            "The bot is not in that group. Add it there first, then send the id again."
                        ),
                    )
                    return INPUT
                category.chat_id = numbers[0]
        elif prefix == cb.GRIEVANCE_DAILY_LIMIT.prefix:
            numbers = _numbers(text)
            if len(numbers) != 1 or not 1 <= numbers[0] <= 50:
                await reply(update, scope._("Please send a number from 1 to 50."))
                return INPUT
            await service.set_option(scope.session, service.DAILY_LIMIT, numbers[0])
    except InvalidInput as error:
        await reply(update, explain(scope, error, 64))
        return INPUT
    await scope.session.flush()
    scope.runtime.routed_groups = frozenset(await service.routed_chats(scope.session))
    context.user_data.pop(DRAFT, None)
    await reply(update, scope._("Saved."))
    if category is not None:
        await _render_category(update, scope, category.id)
    else:
        await _render_settings(update, scope)
    return ConversationHandler.END


# The bot's own membership of union groups -------------------------------------------------

GROUP_BACK = N_(
    "✅ The bot is back in the union group {chat}; waiting grievances are being posted there."
)


async def bot_membership(update: Update, context: Context) -> None:
    """The bot left or rejoined a group; private chats are membership's (blocked/unblocked).

    Checked before the scope opens: a scope in a private chat marks its member reachable.
    """
    change = update.my_chat_member
    if change is None or change.chat.type == "private":
        return
    await _group_membership(update, context)


@scoped
async def _group_membership(update: Update, context: Context, scope: Scope) -> None:
    change: ChatMemberUpdated | None = update.my_chat_member
    assert change is not None
    runtime = scope.runtime
    chat_id = change.chat.id
    watched = {runtime.settings.cadre_chat_id, runtime.settings.escalation_chat_id}
    watched |= runtime.routed_groups
    if chat_id not in watched:
        return
    now = runtime.now()
    status = change.new_chat_member.status
    day = now.astimezone(scope.settings.tz).date().isoformat()
    if status in ("left", "kicked"):
        await relay.alert_admins(
            scope.session, runtime, f"lost:{chat_id}:{day}", jobs.GROUP_LOST, now, chat=chat_id
        )
        wake_after_commit(scope.session, context)
        log.warning("the bot was removed from a union group")
        return
    if status in ("member", "administrator"):
        await service.sync_posts(scope.session, await service.queued_posts(scope.session))
        if not await service.failed_posts(scope.session, chat_id):
            return  # a first join, or nothing waited: nothing to say
        await relay.alert_admins(
            scope.session,
            runtime,
            f"back:{chat_id}:{now.isoformat()}",
            GROUP_BACK,
            now,
            chat=chat_id,
        )
        wake_after_commit(scope.session, context)
        # After this transaction: the job opens its own.
        context.application.create_task(
            _retry_now(context, chat_id), update=update, name="grievance-retry"
        )


async def _retry_now(context: Context, chat_id: int) -> None:
    runtime = runtime_of(context)
    now = runtime.now()
    await jobs.sync_posts(runtime, now, context.application)
    await jobs.retry_failed(runtime, now, context.application, chat_id=chat_id, force=True)


class _RepliesToBot(filters.MessageFilter):
    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return bool(replied and replied.from_user and replied.from_user.is_bot)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    runtime = runtime_of(application)
    cadre = frozenset({"cadre_group"})
    for spec in (
        CommandSpec("cases", N_("Open grievances, oldest first"), cadre, 40),
        CommandSpec("case", N_("Show one grievance: /case G-7K3Q"), cadre, 41),
        CommandSpec(
            "grievance_stats",
            N_("Grievance statistics and XLSX export"),
            frozenset({"cadre_group", "admin"}),
            42,
        ),
        CommandSpec(
            "grievance_audit",
            N_("Audit log of cadres' actions on grievances"),
            frozenset({"admin"}),
            43,
        ),
        CommandSpec(
            "grievance_settings",
            N_("Grievance categories, groups, deadlines, limits"),
            frozenset({"admin"}),
            44,
        ),
    ):
        runtime.add_command(spec)
    presses = (
        (cb.GRIEVANCE_TAKE, take),
        (cb.GRIEVANCE_REPLY, ask_reply),
        (cb.GRIEVANCE_RESOLVE, ask_resolve),
        (cb.GRIEVANCE_RESOLVE_CONFIRM, resolve),
        (cb.GRIEVANCE_ESCALATE, escalate),
        (cb.GRIEVANCE_MUTE, mute),
        (cb.GRIEVANCE_UNMUTE, unmute),
        (cb.GRIEVANCE_CARD, back_to_card),
    )
    for action, handler in presses:
        application.add_handler(CallbackQueryHandler(handler, pattern=action.pattern))
    application.add_handler(
        MessageHandler(
            GROUPS
            & filters.UpdateType.MESSAGE
            & ~filters.COMMAND
            & _RepliesToBot()
            & REPLIES_TO_CASE
            & ~REPLIES_TO_SUGGESTION,  # a suggestion's text may quote a case code
            cadre_reply,
        )
    )
    application.add_handler(
        CallbackQueryHandler(pass_on_pressed, pattern=cb.GRIEVANCE_PASS_ON.pattern)
    )
    # Group 2: after the features (group 0) had their say, never instead of them.
    application.add_handler(
        MessageHandler(
            GROUPS & filters.UpdateType.MESSAGE & ~filters.COMMAND & ~filters.REPLY,
            unreplied_answer,
        ),
        group=2,
    )
    application.add_handler(CommandHandler("cases", list_cases))
    application.add_handler(CommandHandler("case", show_case))
    application.add_handler(CommandHandler("grievance_stats", grievance_stats))
    application.add_handler(CommandHandler("grievance_audit", audit, filters=PRIVATE))
    application.add_handler(CommandHandler("grievance_settings", settings_home, filters=PRIVATE))
    application.add_handler(
        CallbackQueryHandler(settings_home, pattern=cb.GRIEVANCE_SETTINGS.pattern)
    )
    application.add_handler(
        CallbackQueryHandler(category_view, pattern=cb.GRIEVANCE_CATEGORY.pattern)
    )
    for action in (cb.GRIEVANCE_CATEGORY_URGENT, cb.GRIEVANCE_CATEGORY_ACTIVE):
        application.add_handler(CallbackQueryHandler(category_toggle, pattern=action.pattern))
    application.add_handler(
        ConversationHandler(
            entry_points=[
                CallbackQueryHandler(ask_input, pattern=a.pattern) for a in INPUT_ACTIONS
            ],
            states={
                INPUT: [MessageHandler(TEXT_INPUT & ~button_filter(CANCEL_LABEL), receive_input)]
            },
            fallbacks=[*cancel_handlers(), MessageHandler(OTHER_INPUT, ask_for_text)],
            name="grievance_settings_input",
            persistent=True,
            conversation_timeout=30 * 60,
            allow_reentry=True,
        )
    )
    # Group 1: membership's handler (group 0) takes every my_chat_member update for private chats.
    application.add_handler(
        ChatMemberHandler(bot_membership, ChatMemberHandler.MY_CHAT_MEMBER), group=1
    )

"""A member writes a new case: category, urgency, text, files, then sends it anonymously.

The conversation ``grievance_submit`` (diagram: grievance_submit.mmd beside
this module), one function per state. The member never types a command:
"📝 Submit a grievance" starts it; every step keeps what was told so far in a
`storage.grievances.GrievanceDraft`, which follows the case's rules (an
always-urgent category decides the urgency, a case takes so many files).
"""

from __future__ import annotations

import logging
from html import escape

from telegram import ReplyKeyboardMarkup, Update
from telegram.ext import (
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from core.i18n import N_
from core.runtime import MenuItem
from display import grievances as display
from handlers.common import (
    PRIVATE,
    cancel_handlers,
    choice_keyboard,
    explain,
    is_label,
    reply,
)
from handlers.grievances.files import FILES, check_file
from handlers.grievances.shared import (
    DRAFT,
    MESSAGE_IN_PRIVATE,
    NOT_TEXT,
    TIMEOUT,
    message_of,
    text_step,
    timeout_handlers,
)
from handlers.menu import button_filter, main_menu
from handlers.scope import Context, Scope, registered
from jobs.delivery import wake_after_commit
from notices import grievances as relay
from storage import grievance_rules as rules
from storage import grievances as service
from storage.grievance_rules import Urgency
from storage.grievances import GrievanceDraft
from storage.profile_rules import InvalidInput

log = logging.getLogger(__name__)

SUBMIT_ITEM = MenuItem("grievance", display.SUBMIT_LABEL, order=10)
CATEGORY, URGENCY, TEXT, ATTACH, CONFIRM, EDIT = range(6)


__all__ = ["ATTACH", "CATEGORY", "CONFIRM", "DRAFT", "EDIT", "SUBMIT_ITEM", "TEXT", "URGENCY"]


def _draft(context: Context) -> GrievanceDraft:
    """The member's draft; a fresh one if none was kept (or one from older code)."""
    assert context.user_data is not None
    draft = context.user_data.get(DRAFT)
    if not isinstance(draft, GrievanceDraft):
        draft = context.user_data[DRAFT] = GrievanceDraft()
    return draft


def _drop_draft(context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)


async def _refused(update: Update, scope: Scope) -> bool:
    """Tell a muted or over-the-limit member why, kindly; True if they may not open a case."""
    assert scope.member is not None
    keys = relay.sealer(scope.runtime)
    refusal, until = await service.opening_refusal(
        scope.session, keys, scope.member.id, scope.runtime.now(), scope.settings.tz
    )
    if refusal is None:
        return False
    limit = await service.daily_limit(scope.session)
    await reply(
        update,
        display.refusal_text(scope.t, scope.settings.tz, refusal, until, limit),
        reply_markup=main_menu(scope),
    )
    return True


async def _start(update: Update, context: Context, scope: Scope) -> int:
    _drop_draft(context)
    if await _refused(update, scope):
        return ConversationHandler.END
    categories = await service.list_categories(scope.session)
    labels = {display.category_name(scope.t, c): c.id for c in categories}
    _draft(context).choices = labels
    await reply(
        update,
        display.privacy_text(scope.t, scope.settings.grievance_link_retention_days)
        + "\n\n"
        + scope._("You may sign a case with your name at the end, if you wish.")
        + "\n\n"
        + scope._("What is it about?"),
        reply_markup=choice_keyboard(scope, list(labels)),
    )
    return CATEGORY


@registered
async def start_submit(update: Update, context: Context, scope: Scope) -> int:
    """Entry: stores the categories on offer, asks what the case is about."""
    return await _start(update, context, scope)


async def _lost(update: Update, context: Context, scope: Scope) -> int:
    await reply(update, scope._("Sorry, I lost your answers. Let's start again."))
    return await _start(update, context, scope)


DESCRIBE = N_(
    "Please describe the problem in one message: what happened, where and since when. "
    "Do not write your name if you want to stay anonymous."
)


async def _ask_text(update: Update, scope: Scope, note: str | None = None) -> int:
    text = scope._(DESCRIBE)
    await reply(
        update, (note + "\n\n" + text) if note else text, reply_markup=choice_keyboard(scope, [])
    )
    return TEXT


@registered
async def choose_category(update: Update, context: Context, scope: Scope) -> int:
    """CATEGORY: stores the category, asks how urgent it is (unless the category decides)."""
    draft = _draft(context)
    choice = draft.choices.get(message_of(update).text or "")
    category = await service.get_category(scope.session, choice) if choice else None
    if category is None:
        await reply(update, scope._("Please choose one of the buttons below, or tap ✖️ Cancel."))
        return CATEGORY
    if draft.choose(category):
        return await _ask_text(
            update, scope, scope._("Cases of this kind are always treated as urgent.")
        )
    await reply(
        update,
        scope._("How urgent is it?"),
        reply_markup=choice_keyboard(
            scope, [display.urgency_name(scope.t, u.value) for u in Urgency]
        ),
    )
    return URGENCY


@registered
async def choose_urgency(update: Update, context: Context, scope: Scope) -> int:
    """URGENCY: stores the urgency, asks for the account of the problem."""
    text = message_of(update).text or ""
    for urgency in Urgency:
        if is_label(text, display.URGENCY_NAMES[urgency]):
            _draft(context).urgency = urgency
            return await _ask_text(update, scope)
    await reply(update, scope._("Please choose one of the buttons below, or tap ✖️ Cancel."))
    return URGENCY


def _attach_keyboard(scope: Scope) -> ReplyKeyboardMarkup:
    return choice_keyboard(scope, [scope._(display.DONE_LABEL), scope._(display.TEXT_ONLY_LABEL)])


@registered
async def receive_text(update: Update, context: Context, scope: Scope) -> int:
    """TEXT: stores the account, asks for files (with what the cadres will see of them)."""
    message = message_of(update)
    try:
        text = rules.clean_text(message.text or "", rules.TEXT_MAX)
    except InvalidInput as error:
        await reply(update, explain(scope, error, rules.TEXT_MAX))
        return TEXT
    ref = relay.sealer(scope.runtime).message_ref(message.chat_id, message.message_id)
    _draft(context).describe(text, ref)
    await reply(
        update,
        scope._(
            "You can now add photos, documents or voice notes, as many as you need.\n\n"
            "🔒 Cadres get documents under a neutral name (attachment-1, -2…). Pictures, "
            "PDFs and Word/Excel files lose their hidden details (author, device, place) "
            "first, and you get the copy the cadres will see. What is written or shown "
            "inside a file still reaches them as it is. If unsure, tap 📝 Send text "
            "only.\n\nTap ✅ Done adding when you have sent them."
        ),
        reply_markup=_attach_keyboard(scope),
    )
    return ATTACH


@registered
async def receive_file(update: Update, context: Context, scope: Scope) -> int:
    """ATTACH, a file: stores it (cleaned), asks for more or ✅ Done adding."""
    draft = _draft(context)
    if draft.full:
        await reply(
            update,
            scope._(
                "That is the most files one case can take ({limit}). Tap ✅ Done adding."
            ).format(limit=rules.MAX_ATTACHMENTS),
        )
        return ATTACH
    attachment = await check_file(update, scope, message_of(update), len(draft.files) + 1)
    if attachment is not None:
        draft.files.append(attachment)
        await reply(
            update,
            scope._("📎 Added ({count}). Send more, or tap ✅ Done adding.").format(
                count=len(draft.files)
            ),
            reply_markup=_attach_keyboard(scope),
        )
    return ATTACH


async def _summary(update: Update, context: Context, scope: Scope) -> int:
    draft = _draft(context)
    if not draft.complete:
        return await _lost(update, context, scope)
    assert draft.category_id is not None and draft.urgency is not None and draft.text is not None
    category = await service.get_category(scope.session, draft.category_id)
    await reply(
        update,
        display.summary_text(
            scope.t,
            display.category_name(scope.t, category),
            draft.urgency.value,
            draft.text,
            len(draft.files),
        ),
        reply_markup=choice_keyboard(
            scope, [scope._(display.SEND_LABEL), scope._(display.EDIT_LABEL)]
        ),
    )
    return CONFIRM


@registered
async def receive_edit(update: Update, context: Context, scope: Scope) -> int:
    """EDIT: stores the rewritten account (the files stay), shows the summary again."""
    draft = _draft(context)
    if not draft.complete:
        return await _lost(update, context, scope)
    message = message_of(update)
    try:
        text = rules.clean_text(message.text or "", rules.TEXT_MAX)
    except InvalidInput as error:
        await reply(update, explain(scope, error, rules.TEXT_MAX))
        return EDIT
    draft.revise(text, relay.sealer(scope.runtime).message_ref(message.chat_id, message.message_id))
    return await _summary(update, context, scope)


@registered
async def attach_text(update: Update, context: Context, scope: Scope) -> int:
    """ATTACH, a button: stores "no files" (📝 Send text only), asks to confirm the summary."""
    text = message_of(update).text or ""
    if is_label(text, display.TEXT_ONLY_LABEL):
        _draft(context).files = []
        return await _summary(update, context, scope)
    if is_label(text, display.DONE_LABEL):
        return await _summary(update, context, scope)
    await reply(
        update,
        scope._(
            "Please send a photo, document or voice note, or tap ✅ Done adding "
            "(or 📝 Send text only)."
        ),
        reply_markup=_attach_keyboard(scope),
    )
    return ATTACH


@registered
async def not_a_file(update: Update, context: Context, scope: Scope) -> int:
    """ATTACH, anything else: stores nothing, asks for a file again."""
    await reply(
        update,
        scope._("I can pass on photos, documents and voice notes. Please send one of those."),
    )
    return ATTACH


@registered
async def confirm(update: Update, context: Context, scope: Scope) -> int:
    """CONFIRM: stores the case and tells its groups; asks nothing more (the receipt)."""
    assert scope.member is not None
    draft = _draft(context)
    answer = message_of(update).text or ""
    if not draft.complete:
        return await _lost(update, context, scope)
    if is_label(answer, display.EDIT_LABEL):
        assert draft.text is not None
        await reply(
            update,
            scope._(
                "Send the whole text again as it should read; your files stay as they are. "
                "What you wrote so far:"
            )
            + "\n\n"
            + escape(draft.text)
            + "\n\n"
            + scope._(DESCRIBE),
            reply_markup=choice_keyboard(scope, []),
        )
        return EDIT
    if not is_label(answer, display.SEND_LABEL):
        await reply(
            update, scope._("Please tap ✅ Send anonymously, ✏️ Edit the text, or ✖️ Cancel.")
        )
        return CONFIRM
    assert draft.category_id is not None and draft.urgency is not None and draft.text is not None
    if await _refused(update, scope):
        _drop_draft(context)
        return ConversationHandler.END
    runtime = scope.runtime
    now = runtime.now()
    category = await service.get_category(scope.session, draft.category_id)
    assert category is not None
    route = relay.route_chat(runtime, category)
    case = await service.create_case(
        scope.session,
        relay.sealer(runtime),
        member=scope.member,
        category=category,
        urgency=draft.urgency,
        text=draft.text,
        text_ref=draft.text_ref,
        attachments=draft.files,
        route_chat_id=route,
        now=now,
    )
    # The card first, as it stood on arrival; then the safety rule may take it upstairs.
    await relay.announce_case(scope.session, runtime, case, route, now)
    upstairs = bool(scope.settings.escalation_chat_id)
    escalated = service.escalate_on_arrival(case, category, now, upstairs=upstairs)
    if escalated:
        await relay.post_safety_upstairs(scope.session, runtime, case, route, now)
    wake_after_commit(scope.session, context)
    _drop_draft(context)
    log.info("grievance %s received (category %s, %s)", case.code, category.id, case.urgency)
    await reply(
        update,
        display.receipt_text(scope.t, scope.settings.tz, case, escalated=escalated),
        reply_markup=main_menu(scope),
    )
    return ConversationHandler.END


@registered
async def _ask_for_text_or_button(update: Update, context: Context, scope: Scope) -> None:
    await reply(update, scope._("Please answer with text or a button, or tap ✖️ Cancel."))


def conversation() -> ConversationHandler[Context]:
    step = text_step()
    return ConversationHandler(
        entry_points=[
            MessageHandler(button_filter(SUBMIT_ITEM.label) & PRIVATE, start_submit),
            CommandHandler("grievance", start_submit, filters=PRIVATE),
        ],
        states={
            CATEGORY: [MessageHandler(step, choose_category)],
            URGENCY: [MessageHandler(step, choose_urgency)],
            TEXT: [MessageHandler(step, receive_text)],
            ATTACH: [
                MessageHandler(MESSAGE_IN_PRIVATE & FILES, receive_file),
                MessageHandler(step, attach_text),
                MessageHandler(NOT_TEXT, not_a_file),
            ],
            CONFIRM: [MessageHandler(step, confirm)],
            EDIT: [MessageHandler(step, receive_edit)],
            ConversationHandler.TIMEOUT: timeout_handlers(),
        },
        fallbacks=[
            *cancel_handlers(),
            MessageHandler(NOT_TEXT, _ask_for_text_or_button),
        ],
        name="grievance_submit",
        persistent=True,
        conversation_timeout=TIMEOUT,
        allow_reentry=True,
    )

"""Grievances, the member's side: submit anonymously, follow "My cases", add, close, sign, rate.

The member never types a command: "📝 Submit a grievance" walks category,
urgency, text and any number of files (with a warning about metadata and a
text-only way out) to a summary; "📂 My cases" shows each case's thread.
Replying to any message of the bot that carries a case code adds to that case;
plain text or a file while a case has a fresh union answer is offered to be
added to it; additions are limited per case and hour. Editing a message that
was passed on edits its copy in the cadre group.
Cadre-side handlers live in `handlers.grievances_cadre`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import timedelta
from html import escape
from typing import Any

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core.i18n import N_
from core.runtime import CommandSpec, MenuItem, runtime_of
from display import callbacks as cb
from display import grievances as display
from handlers.common import (
    CANCEL_LABEL,
    PRIVATE,
    SKIP_LABEL,
    cancel_handlers,
    choice_keyboard,
    explain,
    is_label,
    reply,
    show_panel,
)
from handlers.menu import button_filter, main_menu
from handlers.scope import Context, Scope, registered, scoped
from jobs.delivery import wake_after_commit
from jobs.grievances import NO_GROUP
from notices import grievances as relay
from storage import attachments
from storage import grievance_rules as rules
from storage import grievances as service
from storage.attachments import FileRefused
from storage.grievance_rules import MemberAction, Urgency
from storage.grievances import Attachment, CaseError
from storage.models import Grievance, GrievanceCategory
from storage.models import GrievanceStatus as Status
from storage.profile_rules import InvalidInput

log = logging.getLogger(__name__)

SUBMIT_ITEM = MenuItem("grievance", display.SUBMIT_LABEL, order=10)
MY_CASES_ITEM = MenuItem("my_cases", display.MY_CASES_LABEL, order=15)
CATEGORY, URGENCY, TEXT, ATTACH, CONFIRM = range(5)
ADDING = 10
COMMENT = 20
DRAFT = "draft_grievance"
ADDING_KEY = "draft_grievance_add"
COMMENT_KEY = "draft_grievance_comment"
TIMEOUT = 30 * 60

FILES = filters.PHOTO | filters.Document.ALL | filters.VOICE
MESSAGE_IN_PRIVATE = PRIVATE & filters.UpdateType.MESSAGE & ~filters.COMMAND


def _draft(context: Context) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data.setdefault(DRAFT, {})  # type: ignore[no-any-return]


def _message(update: Update) -> Message:
    message = update.effective_message
    assert message is not None
    return message


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


# Submitting --------------------------------------------------------------------------


@registered
async def start_submit(update: Update, context: Context, scope: Scope) -> int:
    context.user_data.pop(DRAFT, None)  # type: ignore[union-attr]
    if await _refused(update, scope):
        return ConversationHandler.END
    categories = await service.list_categories(scope.session)
    labels = {display.category_name(scope.t, c): c.id for c in categories}
    _draft(context)["choices"] = labels
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


async def _ask_text(update: Update, scope: Scope, note: str | None = None) -> int:
    text = scope._(
        "Please describe the problem in one message: what happened, where and since when. "
        "Do not write your name if you want to stay anonymous."
    )
    await reply(
        update, (note + "\n\n" + text) if note else text, reply_markup=choice_keyboard(scope, [])
    )
    return TEXT


@registered
async def choose_category(update: Update, context: Context, scope: Scope) -> int:
    draft = _draft(context)
    choice = draft.get("choices", {}).get(_message(update).text or "")
    category = await service.get_category(scope.session, choice) if choice else None
    if category is None:
        await reply(update, scope._("Please choose one of the buttons below, or tap ✖️ Cancel."))
        return CATEGORY
    draft["category_id"] = category.id
    if category.always_urgent:
        draft["urgency"] = Urgency.URGENT.value
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
    text = _message(update).text or ""
    for urgency in Urgency:
        if is_label(text, display.URGENCY_NAMES[urgency]):
            _draft(context)["urgency"] = urgency.value
            return await _ask_text(update, scope)
    await reply(update, scope._("Please choose one of the buttons below, or tap ✖️ Cancel."))
    return URGENCY


def _attach_keyboard(scope: Scope) -> Any:
    return choice_keyboard(scope, [scope._(display.DONE_LABEL), scope._(display.TEXT_ONLY_LABEL)])


@registered
async def receive_text(update: Update, context: Context, scope: Scope) -> int:
    message = _message(update)
    try:
        text = rules.clean_text(message.text or "", rules.TEXT_MAX)
    except InvalidInput as error:
        await reply(update, explain(scope, error, rules.TEXT_MAX))
        return TEXT
    draft = _draft(context)
    draft["text"] = text
    draft["text_ref"] = relay.sealer(scope.runtime).message_ref(message.chat_id, message.message_id)
    draft["files"] = []
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


def _file_of(message: Message) -> tuple[str, str, str | None] | None:
    """(kind, file id, file name) of a photo, document or voice note."""
    if message.photo:
        return "photo", message.photo[-1].file_id, None
    if message.document is not None:
        return "document", message.document.file_id, message.document.file_name
    if message.voice is not None:
        return "voice", message.voice.file_id, None
    return None


def _caption(scope: Scope, message: Message) -> str | None:
    if not message.caption:
        return None
    return rules.clean_text(message.caption, rules.CAPTION_MAX)


FILE_REFUSALS = {
    "too_big": N_("This file is larger than 20 MB, the most the bot can take. Nothing was added."),
    "image_too_large": N_("This picture is too large to process. Please send a smaller one."),
    "broken_image": N_("This picture cannot be read. Please send it again, or as a photo."),
    "encrypted_pdf": N_(
        "This PDF is password-protected, so its hidden details (such as its author) "
        "cannot be removed. Please send an unprotected copy, or a photo of the pages."
    ),
    "broken_pdf": N_("This PDF cannot be read. Please send it again, or a photo of the pages."),
    "broken_office_file": N_("This file cannot be read. Please send it again, or as a PDF."),
}


async def _cleaned_document(
    scope: Scope, message: Message, file_id: str, file_name: str | None, number: int
) -> str | None:
    """The file id of the member's document rewritten without what could name them.

    The file is fetched, rewritten (`storage.attachments`) and sent back to the
    member under its neutral name: they see exactly what the cadres will get,
    and Telegram's id of that copy is what the case stores and relays.
    """
    try:
        telegram_file = await message.get_bot().get_file(file_id)
        data = bytes(await telegram_file.download_as_bytearray())
        cleaned = await asyncio.to_thread(attachments.clean, data, file_name)
    except FileRefused as refused:
        await message.reply_text(scope._(FILE_REFUSALS[refused.code]))
        return None
    except BadRequest:  # Telegram refuses bots files over 20 MB
        await message.reply_text(scope._(FILE_REFUSALS["too_big"]))
        return None
    word = relay.group_t(scope.runtime).gettext("attachment")
    name = attachments.neutral_name(word, number, cleaned.extension)
    note = (
        scope._("📎 The cadres will get this copy, named {name}, without hidden details.")
        if cleaned.cleaned
        else scope._(
            "📎 The cadres will get this copy, named {name}. Its inside is passed on as it is."
        )
    )
    sent = await message.reply_document(
        cleaned.data, filename=name, caption=note.format(name=name), protect_content=True
    )
    return sent.document.file_id if sent.document is not None else None


async def _check_file(
    update: Update, scope: Scope, message: Message, number: int
) -> Attachment | None:
    """The file as an attachment (``number`` in its case), or None after telling the
    member what is wrong."""
    found = _file_of(message)
    if found is None:
        await reply(
            update,
            scope._("I can pass on photos, documents and voice notes. Please send one of those."),
        )
        return None
    kind, file_id, file_name = found
    try:
        caption = _caption(scope, message)
    except InvalidInput as error:
        await reply(update, explain(scope, error, rules.CAPTION_MAX))
        return None
    if kind == "document":
        cleaned = await _cleaned_document(scope, message, file_id, file_name, number)
        if cleaned is None:
            return None
        file_id = cleaned
    keys = relay.sealer(scope.runtime)
    origin = f"{message.chat_id}:{message.message_id}" if kind == "voice" else None
    return Attachment(
        kind, file_id, caption, keys.message_ref(message.chat_id, message.message_id), origin
    )


@registered
async def receive_file(update: Update, context: Context, scope: Scope) -> int:
    draft = _draft(context)
    # Plain dicts, not Attachments: the draft is stored as JSON between steps.
    files: list[dict[str, Any]] = draft.setdefault("files", [])
    if len(files) >= rules.MAX_ATTACHMENTS:
        await reply(
            update,
            scope._(
                "That is the most files one case can take ({limit}). Tap ✅ Done adding."
            ).format(limit=rules.MAX_ATTACHMENTS),
        )
        return ATTACH
    attachment = await _check_file(update, scope, _message(update), len(files) + 1)
    if attachment is not None:
        files.append(dataclasses.asdict(attachment))
        await reply(
            update,
            scope._("📎 Added ({count}). Send more, or tap ✅ Done adding.").format(
                count=len(files)
            ),
            reply_markup=_attach_keyboard(scope),
        )
    return ATTACH


async def _summary(update: Update, context: Context, scope: Scope) -> int:
    draft = _draft(context)
    category = await service.get_category(scope.session, draft["category_id"])
    await reply(
        update,
        display.summary_text(
            scope.t,
            display.category_name(scope.t, category),
            draft["urgency"],
            draft["text"],
            len(draft.get("files", [])),
        ),
        reply_markup=choice_keyboard(scope, [scope._(display.SEND_LABEL)]),
    )
    return CONFIRM


@registered
async def attach_text(update: Update, context: Context, scope: Scope) -> int:
    text = _message(update).text or ""
    if is_label(text, display.TEXT_ONLY_LABEL):
        _draft(context)["files"] = []
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
    await reply(
        update,
        scope._("I can pass on photos, documents and voice notes. Please send one of those."),
    )
    return ATTACH


@registered
async def confirm(update: Update, context: Context, scope: Scope) -> int:
    assert scope.member is not None
    draft = _draft(context)
    if not is_label(_message(update).text or "", display.SEND_LABEL):
        await reply(update, scope._("Please tap ✅ Send anonymously, or ✖️ Cancel."))
        return CONFIRM
    if "text" not in draft or "category_id" not in draft:
        await reply(update, scope._("Sorry, I lost your answers. Let's start again."))
        return await start_submit(update, context)  # type: ignore[no-any-return]
    if await _refused(update, scope):
        context.user_data.pop(DRAFT, None)  # type: ignore[union-attr]
        return ConversationHandler.END
    runtime = scope.runtime
    now = runtime.now()
    category = await service.get_category(scope.session, draft["category_id"])
    assert category is not None
    route = relay.route_chat(runtime, category)
    case = await service.create_case(
        scope.session,
        relay.sealer(runtime),
        member=scope.member,
        category=category,
        urgency=Urgency(draft["urgency"]),
        text=draft["text"],
        text_ref=draft.get("text_ref"),
        attachments=[Attachment(**file) for file in draft.get("files", [])],
        route_chat_id=route,
        now=now,
    )
    escalated = await _post_new_case(scope, case, category, route, now)
    wake_after_commit(scope.session, context)
    context.user_data.pop(DRAFT, None)  # type: ignore[union-attr]
    log.info("grievance %s received (category %s, %s)", case.code, category.id, case.urgency)
    await reply(
        update,
        display.receipt_text(scope.t, scope.settings.tz, case, escalated=escalated),
        reply_markup=main_menu(scope),
    )
    return ConversationHandler.END


async def _post_new_case(
    scope: Scope, case: Grievance, category: GrievanceCategory, route: int | None, now: Any
) -> bool:
    """Card to the case's group (or a clear note to admins); urgent safety also upstairs."""
    runtime = scope.runtime
    if route is not None:
        await relay.post_case(scope.session, runtime, case, route, now)
    else:
        day = now.astimezone(scope.settings.tz).date().isoformat()
        await relay.alert_admins(
            scope.session, runtime, f"nogroup:{day}", NO_GROUP, now, code=case.code
        )
    upstairs = scope.settings.escalation_chat_id
    if category.always_urgent and case.urgency == Urgency.URGENT.value and upstairs:
        service.escalate(case, rules.Escalation.SAFETY, now)
        if upstairs != route:
            await relay.post_case(
                scope.session,
                runtime,
                case,
                upstairs,
                now,
                note=relay.group_t(runtime).gettext("🚨 Urgent safety case"),
            )
        return True
    return False


async def draft_timeout(update: Update, context: Context) -> None:
    if context.user_data is not None:
        for key in (DRAFT, ADDING_KEY, COMMENT_KEY):
            context.user_data.pop(key, None)


# My cases ------------------------------------------------------------------------------


async def _show(update: Update, text: str, markup: Any) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer()
    await show_panel(update, text, markup)


@registered
async def my_cases(update: Update, context: Context, scope: Scope) -> None:
    assert scope.member is not None
    cases = await service.cases_of(scope.session, relay.sealer(scope.runtime), scope.member.id)
    await _show(
        update, display.my_cases_text(scope.t, cases), display.my_cases_keyboard(scope.t, cases)
    )


async def _owned(
    update: Update, scope: Scope, action: cb.CallbackAction, *, lock: bool = False
) -> Grievance | None:
    """The case a member's button names, if it is theirs; otherwise refuse and change nothing."""
    query = update.callback_query
    assert query is not None and scope.member is not None
    try:
        case_id = int(action.unpack(query.data)[0])
        return await service.owned_case(
            scope.session, relay.sealer(scope.runtime), scope.member.id, case_id, lock=lock
        )
    except (cb.InvalidCallback, CaseError):
        await query.answer(scope._("This case is not among yours."), show_alert=True)
        return None


async def _render_case(update: Update, scope: Scope, case: Grievance) -> None:
    keys = relay.sealer(scope.runtime)
    messages = await service.thread(scope.session, case.id)
    bodies = {m.id: keys.body(case, m) for m in messages}
    lines = display.thread_lines(
        scope.t, scope.settings.tz, case, messages, bodies, member_view=True
    )
    signed = case.signature is not None
    await _show(
        update,
        display.member_case_text(scope.t, scope.settings.tz, case, lines, signed=signed),
        display.member_case_keyboard(scope.t, case, signed=signed),
    )


@registered
async def view_case(update: Update, context: Context, scope: Scope) -> None:
    case = await _owned(update, scope, cb.GRIEVANCE_VIEW)
    if case is not None:
        await _render_case(update, scope, case)


def _refuse_text(scope: Scope, case: Grievance) -> str:
    if Status(case.status) not in rules.OPEN:
        return scope._("This case is closed, so nothing can be added or changed.")
    return scope._("That was already done.")


@registered
async def start_adding(update: Update, context: Context, scope: Scope) -> int:
    case = await _owned(update, scope, cb.GRIEVANCE_ADD)
    if case is None:
        return ConversationHandler.END
    query = update.callback_query
    assert query is not None
    if not rules.member_may(MemberAction.ADD, Status(case.status), rated=False, signed=False):
        await query.answer(_refuse_text(scope, case), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    context.user_data[ADDING_KEY] = case.id  # type: ignore[index]
    await reply(
        update,
        scope._(
            "Send what you want to add to {code}: text, photos, documents or voice notes. "
            "Each is passed on anonymously. Tap ✅ Done when finished."
        ).format(code=case.code),
        reply_markup=choice_keyboard(scope, [scope._(display.FINISHED_LABEL)]),
    )
    return ADDING


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
    message = message or _message(update)
    runtime = scope.runtime
    now = runtime.now()
    if Status(case.status) not in rules.OPEN:
        await reply(update, _refuse_text(scope, case))
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
        attachment = await _check_file(update, scope, message, number)
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


@registered
async def adding(update: Update, context: Context, scope: Scope) -> int:
    assert scope.member is not None
    text = _message(update).text or ""
    if is_label(text, display.FINISHED_LABEL):
        context.user_data.pop(ADDING_KEY, None)  # type: ignore[union-attr]
        await reply(update, scope._("Done."), reply_markup=main_menu(scope))
        return ConversationHandler.END
    try:
        case = await service.owned_case(
            scope.session,
            relay.sealer(scope.runtime),
            scope.member.id,
            int(context.user_data.get(ADDING_KEY, 0)),  # type: ignore[union-attr]
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


class _RepliesToCase(filters.MessageFilter):
    """A reply to one of the bot's messages that names a case code."""

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        if replied is None or replied.from_user is None or not replied.from_user.is_bot:
            return False
        return rules.find_code(replied.text or replied.caption) is not None


REPLIES_TO_CASE = _RepliesToCase()


@registered
async def quick_reply(update: Update, context: Context, scope: Scope) -> None:
    """A member replied to the bot's message about a case: add the reply to that case."""
    assert scope.member is not None
    replied = _message(update).reply_to_message
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
    if message.text is None and _file_of(message) is None:
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
    (case_id,) = cb.GRIEVANCE_OFFER.unpack(query.data)
    if not case_id:
        await query.answer()
        if offer is not None and offer.reply_markup is not None:
            await offer.edit_text(scope._("All right, it was not added to any case."))
        return
    try:
        case = await service.owned_case(
            scope.session, relay.sealer(scope.runtime), scope.member.id, int(case_id), lock=True
        )
    except CaseError:
        await query.answer(scope._("This case is not among yours."), show_alert=True)
        return
    original = offer.reply_to_message if offer is not None else None
    user = update.effective_user
    if (
        offer is None
        or original is None
        or (original.text is None and _file_of(original) is None)
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


# Closing, signing ---------------------------------------------------------------------


@registered
async def ask_close(update: Update, context: Context, scope: Scope) -> None:
    case = await _owned(update, scope, cb.GRIEVANCE_CLOSE)
    if case is None:
        return
    await _show(
        update,
        scope._(
            "Close {code}? The union stops working on it and you cannot add to it any more. "
            "If the problem comes back, you can open a new case."
        ).format(code=case.code),
        display.confirm_keyboard(
            scope.t,
            scope._("🔒 Yes, close it"),
            cb.GRIEVANCE_CLOSE_CONFIRM.pack(case.id),
            cb.GRIEVANCE_VIEW.pack(case.id),
        ),
    )


@registered
async def close_case(update: Update, context: Context, scope: Scope) -> None:
    case = await _owned(update, scope, cb.GRIEVANCE_CLOSE_CONFIRM, lock=True)
    if case is None:
        return
    query = update.callback_query
    assert query is not None
    if not rules.member_may(MemberAction.CLOSE, Status(case.status), rated=False, signed=False):
        await query.answer(_refuse_text(scope, case), show_alert=True)
        await _render_case(update, scope, case)
        return
    runtime = scope.runtime
    now = runtime.now()
    service.finish(case, Status.CLOSED, now)
    await service.record(scope.session, case, "member_closed", now)
    t = relay.group_t(runtime)
    await relay.group_note(
        scope.session, runtime, case, "closed", t.gettext("🔒 The member closed this case."), now
    )
    await relay.refresh_cards(context.bot, scope.session, runtime, case, now)
    wake_after_commit(scope.session, context)
    await query.answer()
    await query.edit_message_text(
        scope._("🔒 {code} is closed. How did the union handle it? Tap 1 to 5 stars.").format(
            code=case.code
        ),
        reply_markup=display.rating_keyboard(scope.t, case.id),
    )


@registered
async def ask_sign(update: Update, context: Context, scope: Scope) -> None:
    case = await _owned(update, scope, cb.GRIEVANCE_SIGN)
    if case is None:
        return
    assert scope.member is not None
    await _show(
        update,
        scope._(
            "Sign {code} with your name? The cadres will see “{name}” on this case. "
            "This is your choice alone and cannot be undone; your other cases stay anonymous."
        ).format(code=case.code, name=escape(scope.member.name)),
        display.confirm_keyboard(
            scope.t,
            scope._("✍️ Yes, sign it"),
            cb.GRIEVANCE_SIGN_CONFIRM.pack(case.id),
            cb.GRIEVANCE_VIEW.pack(case.id),
        ),
    )


@registered
async def sign_case(update: Update, context: Context, scope: Scope) -> None:
    case = await _owned(update, scope, cb.GRIEVANCE_SIGN_CONFIRM, lock=True)
    if case is None:
        return
    assert scope.member is not None and update.callback_query is not None
    signed = case.signature is not None
    if not rules.member_may(MemberAction.SIGN, Status(case.status), rated=False, signed=signed):
        await update.callback_query.answer(_refuse_text(scope, case), show_alert=True)
        await _render_case(update, scope, case)
        return
    runtime = scope.runtime
    now = runtime.now()
    keys = relay.sealer(runtime)
    service.sign(keys, case, scope.member.name)
    await service.record(scope.session, case, "member_signed", now)
    t = relay.group_t(runtime)
    await relay.group_note(
        scope.session,
        runtime,
        case,
        "signed",
        t.gettext("✍️ The member chose to sign this case: {name}").format(
            name=escape(scope.member.name)
        ),
        now,
    )
    await relay.refresh_cards(context.bot, scope.session, runtime, case, now)
    wake_after_commit(scope.session, context)
    await _render_case(update, scope, case)


# Rating ---------------------------------------------------------------------------------


@registered
async def rate(update: Update, context: Context, scope: Scope) -> int:
    case = await _owned(update, scope, cb.GRIEVANCE_RATE, lock=True)
    if case is None:
        return ConversationHandler.END
    query = update.callback_query
    assert query is not None
    stars = int(cb.GRIEVANCE_RATE.unpack(query.data)[1])
    rated = case.rating is not None
    if not (1 <= stars <= 5) or not rules.member_may(
        MemberAction.RATE, Status(case.status), rated=rated, signed=False
    ):
        text = (
            scope._("You have already rated this case. Thank you!")
            if rated
            else scope._("You can rate a case once it is resolved or closed.")
        )
        await query.answer(text, show_alert=True)
        return ConversationHandler.END
    runtime = scope.runtime
    now = runtime.now()
    service.rate(relay.sealer(runtime), case, stars, now)
    await service.record(scope.session, case, "rated", now, detail=f"{stars}/5")
    await relay.refresh_cards(context.bot, scope.session, runtime, case, now)
    await query.answer()
    await query.edit_message_text(
        scope._("Thank you! You rated {code} {stars}/5.").format(code=case.code, stars=stars)
    )
    context.user_data[COMMENT_KEY] = case.id  # type: ignore[index]
    await reply(
        update,
        scope._("Would you like to add a comment for the union? Send it now, or tap ⏭ Skip."),
        reply_markup=choice_keyboard(scope, [], skip=True),
    )
    return COMMENT


@registered
async def rating_comment(update: Update, context: Context, scope: Scope) -> int:
    assert scope.member is not None
    text = _message(update).text or ""
    case_id = int(context.user_data.pop(COMMENT_KEY, 0) or 0)  # type: ignore[union-attr]
    if is_label(text, SKIP_LABEL) or not case_id:
        await reply(update, scope._("Thank you for your feedback."), reply_markup=main_menu(scope))
        return ConversationHandler.END
    try:
        body = rules.clean_text(text, rules.COMMENT_MAX)
        case = await service.owned_case(
            scope.session, relay.sealer(scope.runtime), scope.member.id, case_id, lock=True
        )
    except InvalidInput as error:
        context.user_data[COMMENT_KEY] = case_id  # type: ignore[index]
        await reply(update, explain(scope, error, rules.COMMENT_MAX))
        return COMMENT
    except CaseError:
        await reply(update, scope._("This case is not among yours."), reply_markup=main_menu(scope))
        return ConversationHandler.END
    runtime = scope.runtime
    now = runtime.now()
    service.comment(relay.sealer(runtime), case, body)
    t = relay.group_t(runtime)
    await relay.group_note(
        scope.session,
        runtime,
        case,
        "comment",
        t.gettext("⭐ The member rated it {stars}/5 and wrote: {comment}").format(
            stars=case.rating, comment=escape(body)
        ),
        now,
    )
    wake_after_commit(scope.session, context)
    await reply(update, scope._("Thank you for your feedback."), reply_markup=main_menu(scope))
    return ConversationHandler.END


# Edits -----------------------------------------------------------------------------------


@scoped
async def _apply_edit(update: Update, context: Context, scope: Scope) -> bool:
    message = update.edited_message
    if message is None or scope.member is None:
        return False
    runtime = scope.runtime
    keys = relay.sealer(runtime)
    stored = await service.message_by_ref(
        scope.session, keys.message_ref(message.chat_id, message.message_id)
    )
    if stored is None:
        return False
    case = await service.get_case(scope.session, stored.grievance_id, lock=True)
    if case is None or Status(case.status) not in rules.OPEN:
        return True
    raw = message.text if stored.kind == "text" else message.caption
    try:
        body = rules.clean_text(raw, rules.TEXT_MAX) if raw else None
    except InvalidInput:
        return True
    if stored.kind == "text" and body is None:
        return True
    now = runtime.now()
    await service.edit_message(scope.session, keys, case, stored, body, now)
    await relay.relay_edit(context.bot, scope.session, runtime, case, stored, now)
    return True


async def member_edited(update: Update, context: Context) -> None:
    """Runs before the guards (group -2): an edit of a passed-on message is relayed as an edit.

    The stop comes after the transaction committed; other edits go on to the
    guard, which ignores them.
    """
    if await _apply_edit(update, context):
        raise ApplicationHandlerStop


def register(application: Application) -> None:
    runtime = runtime_of(application)
    runtime.add_menu(SUBMIT_ITEM)
    runtime.add_menu(MY_CASES_ITEM)
    runtime.add_command(
        CommandSpec("grievance", N_("Send an anonymous grievance"), frozenset({"private"}), 30)
    )
    runtime.add_command(
        CommandSpec("mycases", N_("Your grievances and their answers"), frozenset({"private"}), 31)
    )
    not_cancel = ~button_filter(CANCEL_LABEL)
    text_step = PRIVATE & filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE & not_cancel
    other_step = MESSAGE_IN_PRIVATE & ~filters.TEXT
    timeout = [MessageHandler(filters.ALL, draft_timeout)]
    application.add_handler(
        ConversationHandler(
            entry_points=[
                MessageHandler(button_filter(SUBMIT_ITEM.label) & PRIVATE, start_submit),
                CommandHandler("grievance", start_submit, filters=PRIVATE),
            ],
            states={
                CATEGORY: [MessageHandler(text_step, choose_category)],
                URGENCY: [MessageHandler(text_step, choose_urgency)],
                TEXT: [MessageHandler(text_step, receive_text)],
                ATTACH: [
                    MessageHandler(MESSAGE_IN_PRIVATE & FILES, receive_file),
                    MessageHandler(text_step, attach_text),
                    MessageHandler(other_step, not_a_file),
                ],
                CONFIRM: [MessageHandler(text_step, confirm)],
                ConversationHandler.TIMEOUT: timeout,
            },
            fallbacks=[
                *cancel_handlers(),
                MessageHandler(other_step, _ask_for_text_or_button),
            ],
            name="grievance_submit",
            persistent=True,
            conversation_timeout=TIMEOUT,
            allow_reentry=True,
        )
    )
    application.add_handler(
        ConversationHandler(
            entry_points=[
                CallbackQueryHandler(start_adding, pattern=cb.GRIEVANCE_ADD.pattern),
            ],
            states={
                ADDING: [
                    MessageHandler(text_step, adding),
                    MessageHandler(MESSAGE_IN_PRIVATE & FILES, adding),
                    MessageHandler(other_step, not_a_file_adding),
                ],
                ConversationHandler.TIMEOUT: timeout,
            },
            fallbacks=cancel_handlers(),
            name="grievance_add",
            persistent=True,
            conversation_timeout=TIMEOUT,
            allow_reentry=True,
        )
    )
    application.add_handler(
        ConversationHandler(
            entry_points=[CallbackQueryHandler(rate, pattern=cb.GRIEVANCE_RATE.pattern)],
            states={
                COMMENT: [MessageHandler(text_step, rating_comment)],
                ConversationHandler.TIMEOUT: timeout,
            },
            fallbacks=cancel_handlers(),
            name="grievance_rating",
            persistent=True,
            conversation_timeout=TIMEOUT,
            allow_reentry=True,
        )
    )
    application.add_handler(MessageHandler(button_filter(MY_CASES_ITEM.label) & PRIVATE, my_cases))
    application.add_handler(CommandHandler("mycases", my_cases, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(my_cases, pattern=cb.GRIEVANCE_MY_CASES.pattern))
    application.add_handler(CallbackQueryHandler(view_case, pattern=cb.GRIEVANCE_VIEW.pattern))
    application.add_handler(CallbackQueryHandler(ask_close, pattern=cb.GRIEVANCE_CLOSE.pattern))
    application.add_handler(
        CallbackQueryHandler(close_case, pattern=cb.GRIEVANCE_CLOSE_CONFIRM.pattern)
    )
    application.add_handler(CallbackQueryHandler(ask_sign, pattern=cb.GRIEVANCE_SIGN.pattern))
    application.add_handler(
        CallbackQueryHandler(sign_case, pattern=cb.GRIEVANCE_SIGN_CONFIRM.pattern)
    )
    application.add_handler(
        MessageHandler(MESSAGE_IN_PRIVATE & REPLIES_TO_CASE & (filters.TEXT | FILES), quick_reply)
    )
    application.add_handler(CallbackQueryHandler(offer_answer, pattern=cb.GRIEVANCE_OFFER.pattern))
    runtime.add_free_text(offer_addition)
    application.add_handler(
        MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, member_edited), group=-2
    )


@registered
async def _ask_for_text_or_button(update: Update, context: Context, scope: Scope) -> None:
    await reply(update, scope._("Please answer with text or a button, or tap ✖️ Cancel."))


@registered
async def not_a_file_adding(update: Update, context: Context, scope: Scope) -> int:
    await reply(
        update,
        scope._("I can pass on text, photos, documents and voice notes. Please send one of those."),
    )
    return ADDING

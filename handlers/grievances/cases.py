"""A member's own cases: "📂 My cases", one case's thread, closing it, signing it.

Every button names a case by id; `owned` opens it only if the presser wrote
it (the sealed link, `storage.grievances.owned_case`), so a forged or stale
press changes nothing.
"""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler

from core.runtime import MenuItem
from display import callbacks as cb
from display import grievances as display
from handlers.common import PRIVATE, pressed_args
from handlers.grievances.shared import show
from handlers.menu import button_filter
from handlers.scope import Context, Scope, registered
from jobs.delivery import wake_after_commit
from notices import grievances as relay
from storage import grievance_rules as rules
from storage import grievances as service
from storage.grievance_rules import MemberAction
from storage.grievances import CaseError
from storage.models import Grievance
from storage.models import GrievanceStatus as Status

MY_CASES_ITEM = MenuItem("my_cases", display.MY_CASES_LABEL, order=15)


async def owned(
    update: Update, scope: Scope, case_id: int, *, lock: bool = False
) -> Grievance | None:
    """The case a member's button names, if it is theirs; otherwise refuse and change nothing."""
    query = update.callback_query
    assert query is not None and scope.member is not None
    try:
        return await service.owned_case(
            scope.session, relay.sealer(scope.runtime), scope.member.id, case_id, lock=lock
        )
    except CaseError:
        await query.answer(scope._("This case is not among yours."), show_alert=True)
        return None


def refuse_text(scope: Scope, case: Grievance) -> str:
    """Why a member's action on the case was not done (it is finished, or done already)."""
    if Status(case.status) not in rules.OPEN:
        return scope._(
            "This case is closed, so nothing can be added or changed. If the problem continues, please open a new case."
        )
    return scope._("That was already done.")


@registered
async def my_cases(update: Update, context: Context, scope: Scope) -> None:
    assert scope.member is not None
    cases = await service.cases_of(scope.session, relay.sealer(scope.runtime), scope.member.id)
    await show(
        update, display.my_cases_text(scope.t, cases), display.my_cases_keyboard(scope.t, cases)
    )


async def render_case(update: Update, scope: Scope, case: Grievance) -> None:
    keys = relay.sealer(scope.runtime)
    messages = await service.thread(scope.session, case.id)
    bodies = {m.id: keys.body(case, m) for m in messages}
    lines = display.thread_lines(
        scope.t, scope.settings.tz, case, messages, bodies, member_view=True
    )
    signed = case.signature is not None
    files = sum(1 for m in messages if m.author == "member" and m.kind != "text" and m.file_id)
    reopen = (
        await service.reopen_refusal(
            scope.session, case, scope.runtime.now(), scope.settings.grievance_link_retention_days
        )
        is None
    )
    await show(
        update,
        display.member_case_text(scope.t, scope.settings.tz, case, lines, signed=signed),
        display.member_case_keyboard(scope.t, case, signed=signed, files=files, reopen=reopen),
    )


@registered
async def view_case(update: Update, context: Context, scope: Scope) -> None:
    case = await owned(update, scope, pressed_args(update, cb.GRIEVANCE_VIEW).case)
    if case is not None:
        await render_case(update, scope, case)


@registered
async def list_files(update: Update, context: Context, scope: Scope) -> None:
    """📎 My attachments: the member's own files of the case, a button each."""
    case = await owned(update, scope, pressed_args(update, cb.GRIEVANCE_FILES).case)
    if case is None:
        return
    keys = relay.sealer(scope.runtime)
    files = await service.member_files(scope.session, case.id)
    bodies = {m.id: keys.body(case, m) for m in files}
    await show(
        update,
        display.member_files_text(scope.t, case, files, bodies),
        display.member_files_keyboard(scope.t, case, files),
    )


@registered
async def send_file(update: Update, context: Context, scope: Scope) -> None:
    """One of the member's files, sent again: the copy the case stores, the one the cadres
    got (documents cleaned). Only the author's press opens it (`owned`)."""
    args = pressed_args(update, cb.GRIEVANCE_FILE)
    case = await owned(update, scope, args.case)
    if case is None:
        return
    query = update.callback_query
    assert query is not None
    found = next(
        (m for m in await service.member_files(scope.session, case.id) if m.seq == args.seq),
        None,
    )
    if found is None or found.file_id is None:
        await query.answer(
            scope._("This file is not among your case's attachments."), show_alert=True
        )
        return
    caption = display.member_own_file_caption(
        scope.t, case.code, found.kind, relay.sealer(scope.runtime).body(case, found)
    )
    await query.answer()
    chat = update.effective_chat
    assert chat is not None
    if found.kind == "photo":
        await context.bot.send_photo(chat.id, found.file_id, caption=caption, protect_content=True)
    elif found.kind == "document":
        await context.bot.send_document(
            chat.id, found.file_id, caption=caption, protect_content=True
        )
    elif found.kind == "voice":
        await context.bot.send_voice(chat.id, found.file_id, caption=caption, protect_content=True)


@registered
async def ask_close(update: Update, context: Context, scope: Scope) -> None:
    case = await owned(update, scope, pressed_args(update, cb.GRIEVANCE_CLOSE).case)
    if case is None:
        return
    await show(
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
    args = pressed_args(update, cb.GRIEVANCE_CLOSE_CONFIRM)
    case = await owned(update, scope, args.case, lock=True)
    if case is None:
        return
    query = update.callback_query
    assert query is not None
    if not rules.member_may(MemberAction.CLOSE, Status(case.status), rated=False, signed=False):
        await query.answer(refuse_text(scope, case), show_alert=True)
        await render_case(update, scope, case)
        return
    runtime = scope.runtime
    now = runtime.now()
    service.finish(case, Status.CLOSED, now)
    await service.record(scope.session, case, "member_closed", now)
    await relay.member_closed(scope.session, runtime, case, now)
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
    case = await owned(update, scope, pressed_args(update, cb.GRIEVANCE_SIGN).case)
    if case is None:
        return
    assert scope.member is not None
    await show(
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
    args = pressed_args(update, cb.GRIEVANCE_SIGN_CONFIRM)
    case = await owned(update, scope, args.case, lock=True)
    if case is None:
        return
    assert scope.member is not None and update.callback_query is not None
    signed = case.signature is not None
    if not rules.member_may(MemberAction.SIGN, Status(case.status), rated=False, signed=signed):
        await update.callback_query.answer(refuse_text(scope, case), show_alert=True)
        await render_case(update, scope, case)
        return
    runtime = scope.runtime
    now = runtime.now()
    service.sign(relay.sealer(runtime), case, scope.member.name)
    await service.record(scope.session, case, "member_signed", now)
    await relay.member_signed(scope.session, runtime, case, scope.member.name, now)
    await relay.refresh_cards(context.bot, scope.session, runtime, case, now)
    wake_after_commit(scope.session, context)
    await render_case(update, scope, case)


def handlers() -> list[BaseHandler[Update, Context, object]]:
    return [
        MessageHandler(button_filter(MY_CASES_ITEM.label) & PRIVATE, my_cases),
        CommandHandler("mycases", my_cases, filters=PRIVATE),
        CallbackQueryHandler(my_cases, pattern=cb.GRIEVANCE_MY_CASES.pattern),
        CallbackQueryHandler(view_case, pattern=cb.GRIEVANCE_VIEW.pattern),
        CallbackQueryHandler(list_files, pattern=cb.GRIEVANCE_FILES.pattern),
        CallbackQueryHandler(send_file, pattern=cb.GRIEVANCE_FILE.pattern),
        CallbackQueryHandler(ask_close, pattern=cb.GRIEVANCE_CLOSE.pattern),
        CallbackQueryHandler(close_case, pattern=cb.GRIEVANCE_CLOSE_CONFIRM.pattern),
        CallbackQueryHandler(ask_sign, pattern=cb.GRIEVANCE_SIGN.pattern),
        CallbackQueryHandler(sign_case, pattern=cb.GRIEVANCE_SIGN_CONFIRM.pattern),
    ]

"""What cadres and admins look up: /cases, /case, /grievance_stats, /grievance_audit."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from display import grievances as display
from display import rendering
from handlers.common import PRIVATE, reply, show_working
from handlers.grievances.shared import in_case_group
from handlers.scope import Context, Scope, admin_only, cadre_only
from notices import grievances as relay
from storage import grievance_rules as rules
from storage import grievances as service


@cadre_only
async def list_cases(update: Update, context: Context, scope: Scope) -> None:
    cases = await service.open_cases(scope.session)
    total = await service.count_open(scope.session)
    await reply(update, display.open_cases_text(scope.t, cases, scope.runtime.now(), total))


@cadre_only
async def show_case(update: Update, context: Context, scope: Scope) -> None:
    """One case with its whole thread; its buttons only in the case's own groups."""
    code = rules.parse_code(" ".join(context.args or []))
    case = await service.case_by_code(scope.session, code) if code else None
    if case is None:
        await reply(update, scope._("Send /case and a case code, e.g. /case G-7K3Q."))
        return
    runtime = scope.runtime
    now = runtime.now()
    chat = update.effective_chat
    assert chat is not None
    t = await relay.copy_language(scope.session, runtime, chat.id)
    text, markup = await relay.render_copy(
        scope.session, runtime, case, now, t, with_buttons=in_case_group(update, scope, case)
    )
    sent = await reply(update, text, reply_markup=markup)
    # Kept like the card: taking, resolving, escalating or reopening redraws it too.
    await relay.keep_copy(scope.session, case, sent.chat_id, sent.message_id, now)


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
    (data,) = await rendering.draw(display.stats_workbook(scope.t, stats))
    await message.reply_document(
        data,
        filename=f"grievances-{day}.xlsx",
        caption=scope._("Grievance statistics, without identities."),
    )


@admin_only
async def audit(update: Update, context: Context, scope: Scope) -> None:
    code = rules.parse_code(" ".join(context.args or [])) if context.args else None
    lines = await service.audit_log(scope.session, code)
    await reply(update, display.audit_text(scope.t, scope.settings.tz, lines))


def handlers() -> list[BaseHandler[Update, Context, object]]:
    return [
        CommandHandler("cases", list_cases),
        CommandHandler("case", show_case),
        CommandHandler("grievance_stats", grievance_stats),
        CommandHandler("grievance_audit", audit, filters=PRIVATE),
    ]

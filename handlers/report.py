"""/report: the union's report for cadres and admins, in the private chat.

`/report` gives last month (this one is not over), `/report 2026-11` a month,
`/report 2026-10-01 2026-11-30` a range; ‹ and › under it move a month. The
numbers are `storage.report`'s, the words, charts and workbook `display.report`'s.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import InputFile, Update
from telegram.constants import ChatAction
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.i18n import N_
from core.runtime import CommandSpec, runtime_of
from display import callbacks as cb
from display import report as show
from handlers.common import PRIVATE, pressed_args, reply, show_working
from handlers.scope import Context, Scope, cadre_only, scoped
from storage import report

__all__ = ["register"]


async def _send(update: Update, scope: Scope, period: report.Period) -> None:
    zone = scope.settings.tz
    built = await report.build(scope.session, period, now=scope.runtime.now(), zone=zone)
    await show_working(update, ChatAction.UPLOAD_PHOTO)
    # Drawn in a child process (display.rendering) while the summary goes out; a
    # failed drawing raises here, after the summary, and the error handler says so.
    drawing = asyncio.ensure_future(show.files(scope.t, built))
    message = update.effective_message
    assert message is not None
    try:
        await message.reply_text(
            show.text(scope.t, built), reply_markup=show.keyboard(scope.t, period)
        )
        drawn = await drawing
    finally:
        drawing.cancel()  # the summary failed: the child is killed (nothing once done)
    for picture in drawn.pictures:
        await message.reply_photo(InputFile(picture.png, filename=f"{picture.name}.png"))
    await message.reply_document(InputFile(drawn.workbook, filename=show.file_name(built)))


@cadre_only
async def command(update: Update, context: Context, scope: Scope) -> None:
    """/report [month | first last]."""
    today = scope.runtime.now().astimezone(scope.settings.tz).date()
    try:
        period = report.parse_period(list(context.args or []), today)
    except report.BadPeriod as error:
        await reply(update, show.refusal(scope.t, error.reason))
        return
    await _send(update, scope, period)


@cadre_only
async def month(update: Update, context: Context, scope: Scope) -> None:
    """‹ / › under a report: that month's report."""
    pressed = pressed_args(update, cb.REPORT_MONTH)
    query = update.callback_query
    assert query is not None
    await query.answer()
    await _send(update, scope, report.month_period(pressed.year, pressed.month))


@scoped
async def in_group(update: Update, context: Context, scope: Scope) -> None:
    """/report in a group: the report is for the private chat, never for a group."""
    await reply(update, show.group_only(scope.t))


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    runtime = runtime_of(application)
    runtime.add_command(
        CommandSpec("report", N_("The union's report for a month"), frozenset({"admin"}), 104)
    )
    application.add_handler(CommandHandler("report", command, filters=PRIVATE))
    application.add_handler(CommandHandler("report", in_group, filters=~PRIVATE))
    application.add_handler(CallbackQueryHandler(month, pattern=cb.REPORT_MONTH.pattern))

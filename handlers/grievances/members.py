"""Grievances, the member's side: what `bot.app.FEATURES` registers where the members' part goes.

Order matters within handler group 0, so it is decided here and nowhere else:
the three conversations come first, so that a step's answer (say, text that
happens to read "📂 My cases", or a reply to the bot while adding) stays in
its step; then the buttons of "My cases"; then replies to the bot naming a
case and the offer's buttons. Edits run in group -2, before the guards.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from core.i18n import N_
from core.runtime import CommandSpec, runtime_of
from handlers.grievances import additions, cases, edits, rating, writing


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    runtime = runtime_of(application)
    runtime.add_menu(writing.SUBMIT_ITEM)
    runtime.add_menu(cases.MY_CASES_ITEM)
    runtime.add_command(
        CommandSpec("grievance", N_("Send an anonymous grievance"), frozenset({"private"}), 30)
    )
    runtime.add_command(
        CommandSpec("mycases", N_("Your grievances and their answers"), frozenset({"private"}), 31)
    )
    application.add_handler(writing.conversation())
    application.add_handler(additions.conversation())
    application.add_handler(rating.conversation())
    for handler in cases.handlers():
        application.add_handler(handler)
    for handler in additions.handlers():
        application.add_handler(handler)
    runtime.add_free_text(additions.offer_addition)
    application.add_handler(edits.handler(), group=edits.GROUP)

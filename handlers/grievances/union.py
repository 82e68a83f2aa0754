"""Grievances, the union's side: what `bot.app.FEATURES` registers where the cadres' part goes.

Order within handler group 0, decided here: the card's buttons, answers
recognised by what they reply to and the nudge's button, the lookups
(/cases, /case, statistics, audit), then the admin's settings with their
conversation. Group 2 catches a cadre's answer sent without replying, after
every feature had its say; group 1 follows the bot's own group membership.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from core.i18n import N_
from core.runtime import CommandScope, CommandSpec, runtime_of
from handlers.grievances import answers, cadre, presence, reports, settings

CADRE: frozenset[CommandScope] = frozenset({"cadre_group"})
COMMANDS = (
    CommandSpec("cases", N_("Open grievances, oldest first"), CADRE, 40),
    CommandSpec("case", N_("Show one grievance: /case G-7K3Q"), CADRE, 41),
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
)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    runtime = runtime_of(application)
    for spec in COMMANDS:
        runtime.add_command(spec)
    for handler in (*cadre.handlers(), *answers.handlers()):
        application.add_handler(handler)
    application.add_handler(answers.unreplied_handler(), group=answers.UNREPLIED_GROUP)
    for handler in (*reports.handlers(), *settings.handlers()):
        application.add_handler(handler)
    application.add_handler(presence.handler(), group=presence.GROUP)

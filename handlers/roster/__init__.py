"""Roster import (admins, `/roster` or the admin panel) and joining with a one-time code.

`importing.py` is the admin's conversation (file → preview → apply), drawn in
`roster_import.mmd`; `joining.py` takes `/start join_<code>` (or `/start <code>`)
from a newcomer and registers them with the roster's data once they confirm.
"""

from __future__ import annotations

from telegram.ext import Application

from core.runtime import runtime_of
from display import links
from handlers.roster import importing, joining


def register(application: Application) -> None:
    runtime = runtime_of(application)
    importing.register(application)
    joining.register(application)
    runtime.add_code_link(links.JOIN, joining.open_code)

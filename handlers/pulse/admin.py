"""The admin's pulse panel: switch the pulse on or off, see the last months."""

from __future__ import annotations

from telegram import Update

from display import callbacks as cb
from display import pulse as show
from handlers.common import pressed_args, show_panel
from handlers.scope import Context, Scope, admin_only
from storage import pulse

MONTHS_SHOWN = 6


async def _render(update: Update, scope: Scope) -> None:
    on = await pulse.enabled(scope.session)
    results = await pulse.monthly(scope.session, MONTHS_SHOWN, now=scope.runtime.now())
    if update.callback_query is not None:
        await update.callback_query.answer()
    await show_panel(
        update,
        show.panel_text(scope.t, on, scope.settings.pulse_hour, results),
        show.panel_keyboard(scope.t, on),
    )


@admin_only
async def panel(update: Update, context: Context, scope: Scope) -> None:
    """/pulse and 📈 Satisfaction in the admin panel."""
    await _render(update, scope)


@admin_only
async def switch(update: Update, context: Context, scope: Scope) -> None:
    await pulse.set_enabled(scope.session, bool(pressed_args(update, cb.PULSE_SWITCH).on))
    await _render(update, scope)

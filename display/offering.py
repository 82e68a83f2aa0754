"""Pieces of the cadre panel that read the same for activities and trainings.

Both panels show the offering's status in the same words, offer the same two
publish buttons while it is a draft, and ask the same "Yes, cancel it / Back"
before cancelling; only the callback actions differ. Keeping them here means
a wording or layout change reaches both panels at once.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.i18n import Translator
from display import callbacks as cb
from storage.models import OfferingStatus

BUTTON_MAX = 48  # longer labels are cut so Telegram's narrow buttons stay readable


def button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text[:BUTTON_MAX], callback_data=data)


def status_line(t: Translator, status: str) -> str:
    """Draft, published or cancelled, as the cadre panel says it."""
    return {
        OfferingStatus.DRAFT.value: t.gettext("📝 Draft: members cannot see it yet."),
        OfferingStatus.PUBLISHED.value: t.gettext("✅ Published."),
        OfferingStatus.CANCELLED.value: t.gettext("🚫 Cancelled."),
    }[status]


def publish_row(
    t: Translator, action: cb.CallbackAction, parent_id: int
) -> list[InlineKeyboardButton]:
    """Publish and announce (``action`` packed with 1) or quietly (with 0)."""
    return [
        button(t.gettext("📣 Publish and announce"), action.pack(parent_id, 1)),
        button(t.gettext("✅ Publish quietly"), action.pack(parent_id, 0)),
    ]


def cancel_confirm_keyboard(
    t: Translator, confirm: cb.CallbackAction, back: cb.CallbackAction, parent_id: int
) -> InlineKeyboardMarkup:
    """The last word before cancelling: ``confirm`` does it, ``back`` returns to the panel."""
    return InlineKeyboardMarkup(
        [
            [
                button(t.gettext("Yes, cancel it"), confirm.pack(parent_id)),
                button(t.gettext("« Back"), back.pack(parent_id)),
            ]
        ]
    )

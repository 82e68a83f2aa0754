"""Pieces that read the same for activities and trainings.

Both panels show the offering's status in the same words, offer the same two
publish buttons while it is a draft, ask the same "Yes, cancel it / Back"
before cancelling and show the ratings the same way; members are asked for
their stars in the same words and buttons. Only the callback actions differ.
Keeping them here means a wording or layout change reaches both at once.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.i18n import Translator
from display import callbacks as cb
from storage.disclosure import THRESHOLD
from storage.models import OfferingStatus
from storage.ratings import RatingSummary

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


def rating_request(t: Translator, title: str) -> str:
    """After the end: how was it? (the stars are :func:`stars_keyboard`)."""
    return t.gettext("How was {title}? Please rate it from 1 to 5 stars.").format(
        title="<b>" + escape(title) + "</b>"
    )


def stars_keyboard(action: cb.CallbackAction, parent_id: int) -> InlineKeyboardMarkup:
    """1 to 5 stars, ``action`` packed with the offering and the stars."""
    return InlineKeyboardMarkup(
        [[button("⭐" * n if n < 3 else f"{n}⭐", action.pack(parent_id, n)) for n in range(1, 6)]]
    )


def rating_lines(t: Translator, ratings: RatingSummary) -> list[str]:
    """The panel's ratings: the average only from `THRESHOLD` ratings on, the last comments."""
    if not ratings.count:
        return []
    lines = []
    # An average of fewer ratings could single a member out.
    if ratings.count >= THRESHOLD and ratings.average is not None:
        lines.append(
            t.gettext("Rating: {average} ★ from {count} participants").format(
                average=f"{ratings.average:.1f}", count=ratings.count
            )
        )
    else:
        lines.append(
            t.gettext("Ratings: {count} so far (the average shows from 5 on)").format(
                count=ratings.count
            )
        )
    lines += ["💬 " + escape(text) for text in ratings.comments[-5:]]
    return lines

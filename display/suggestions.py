"""How suggestions read: the member's prompts and list, the cadre card, the notices."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core import dates
from core.i18n import N_, Translator
from display import callbacks as cb
from storage.models import Suggestion, SuggestionStatus
from storage.suggestions import SuggestionCard, code

STATUS_NAMES: dict[str, str] = {
    SuggestionStatus.NEW.value: N_("🔔 new"),
    SuggestionStatus.CONSIDERING.value: N_("🤔 under consideration"),
    SuggestionStatus.ADOPTED.value: N_("👍 adopted"),
    SuggestionStatus.DECLINED.value: N_("👎 declined"),
}
STATUS_NOTICES: dict[str, str] = {
    SuggestionStatus.CONSIDERING.value: N_(
        "🤔 The union is considering your suggestion {code}. Thank you for your patience."
    ),
    SuggestionStatus.ADOPTED.value: N_(
        "👍 Good news: the union has adopted your suggestion {code}. Thank you!"
    ),
    SuggestionStatus.DECLINED.value: N_(
        "The union has decided not to take up your suggestion {code} for now. "
        "Thank you for raising it; your ideas are always welcome."
    ),
}
DECISIONS = (
    (SuggestionStatus.CONSIDERING, N_("🤔 Considering")),
    (SuggestionStatus.ADOPTED, N_("👍 Adopted")),
    (SuggestionStatus.DECLINED, N_("👎 Declined")),
)
SEND_LABEL = N_("📨 Send")


def status_name(t: Translator, status: str) -> str:
    return t.gettext(STATUS_NAMES.get(status, STATUS_NAMES[SuggestionStatus.NEW.value]))


def home_text(t: Translator) -> str:
    return "\n".join(
        [
            "💡 <b>" + t.gettext("Suggestions") + "</b>",
            "",
            t.gettext(
                "Have an idea for the union, the workplace or our activities? Send it to the "
                "union's cadres. Suggestions carry your name, so the cadres can answer you."
            ),
            t.gettext(
                "To raise a problem without your name, use 📝 Submit a grievance instead: "
                "grievances are anonymous."
            ),
        ]
    )


def home_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.gettext("✍️ New suggestion"), callback_data=cb.SUGGEST_NEW.pack()
                )
            ],
            [
                InlineKeyboardButton(
                    t.gettext("📋 My suggestions"), callback_data=cb.SUGGEST_MINE.pack()
                )
            ],
        ]
    )


def write_prompt(t: Translator, limit: int) -> str:
    return t.gettext(
        "Write your suggestion in one message (at most {limit} characters). "
        "It will be sent with your name and department."
    ).format(limit=limit)


def confirm_text(t: Translator, text: str) -> str:
    return (
        t.gettext("Send this suggestion to the union's cadres?")
        + "\n\n<blockquote>"
        + html.escape(text)
        + "</blockquote>"
    )


def sent_text(t: Translator, suggestion: Suggestion) -> str:
    return t.gettext(
        "Thank you! Your suggestion {code} has been sent to the union's cadres. "
        "You will hear from them here."
    ).format(code=code(suggestion.id))


def mine_text(t: Translator, found: Sequence[Suggestion], zone: tzinfo) -> str:
    lines = ["📋 <b>" + t.gettext("My suggestions") + "</b>", ""]
    if not found:
        lines.append(t.gettext("You have not sent any suggestions yet."))
    for suggestion in found:
        excerpt = suggestion.text if len(suggestion.text) <= 60 else suggestion.text[:59] + "…"
        lines.append(
            f"<b>{code(suggestion.id)}</b> · {dates.day_text(suggestion.created_at, zone)} · "
            + status_name(t, suggestion.status)
        )
        lines.append(html.escape(excerpt))
    return "\n".join(lines)


def card_text(t: Translator, card: SuggestionCard, zone: tzinfo) -> str:
    suggestion = card.suggestion
    if card.author is None:
        author = t.gettext("a member who has since deleted their data")
    elif card.department:
        author = t.gettext("{name} ({department})").format(
            name=html.escape(card.author), department=html.escape(card.department)
        )
    else:
        author = html.escape(card.author)
    lines = [
        "💡 <b>"
        + t.gettext("Suggestion {code}").format(code=code(suggestion.id))
        + "</b> · "
        + status_name(t, suggestion.status),
        t.gettext("From: {author}").format(author=author),
        t.gettext("Sent: {when}").format(when=dates.minute(suggestion.created_at, zone)),
        "",
        html.escape(suggestion.text),
    ]
    if card.replies:
        lines += ["", t.gettext("Replies sent: {count}").format(count=card.replies)]
    return "\n".join(lines)


def card_keyboard(t: Translator, card: SuggestionCard) -> InlineKeyboardMarkup:
    sid = card.suggestion.id
    decisions = [
        InlineKeyboardButton(
            ("• " if card.suggestion.status == status.value else "") + t.gettext(label),
            callback_data=cb.SUGGEST_STATUS.pack(sid, status.value),
        )
        for status, label in DECISIONS
    ]
    rows = [decisions]
    if card.author_chat is not None:
        rows.insert(
            0,
            [InlineKeyboardButton(t.gettext("💬 Reply"), callback_data=cb.SUGGEST_REPLY.pack(sid))],
        )
    return InlineKeyboardMarkup(rows)


def status_notice(t: Translator, suggestion: Suggestion) -> str:
    return t.gettext(STATUS_NOTICES[suggestion.status]).format(code=code(suggestion.id))


def reply_notice(t: Translator, suggestion: Suggestion, text: str) -> str:
    return (
        "💬 "
        + t.gettext("The union replied to your suggestion {code}:").format(code=code(suggestion.id))
        + "\n\n"
        + html.escape(text)
    )


def reply_prompt(t: Translator, suggestion: Suggestion, cadre_id: int, cadre: str) -> str:
    """The prompt after 💬 Reply: "💡" and the code first (replies to it are recognised by
    that line), and a mention of the cadre, whom alone a selective ForceReply reaches."""
    mention = f'<a href="tg://user?id={int(cadre_id)}">{html.escape(cadre)}</a>'
    return "💡 " + t.gettext(
        "{code} · {cadre}: write your reply as an answer to this message. "
        "The member receives it from the union."
    ).format(cadre=mention, code=code(suggestion.id))

"""How membership things read: the same text serves a message, an edit and a test."""

from __future__ import annotations

from datetime import date, tzinfo
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core import dates
from core.i18n import LANGUAGE_NAMES, N_, Translator, translator
from core.settings import SUPPORTED_LANGUAGES
from display import callbacks as cb
from storage.models import Member, Role

ROLE_NAMES = {
    Role.MEMBER: N_("member"),
    Role.CADRE: N_("cadre"),
    Role.ADMIN: N_("admin"),
}


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(LANGUAGE_NAMES[code], callback_data=cb.LANGUAGE.pack(code))
                for code in SUPPORTED_LANGUAGES
            ]
        ]
    )


def bilingual(message: str) -> str:
    """A message in every language, for the moment before anyone chose one."""
    return "\n\n".join(translator(code).gettext(message) for code in SUPPORTED_LANGUAGES)


def format_birthday(t: Translator, birthday: date | None) -> str:
    if birthday is None:
        return t.gettext("not given")
    return birthday.isoformat()


def role_name(t: Translator, role: Role) -> str:
    return t.gettext(ROLE_NAMES[role])


def summary(t: Translator, name: str, department: str, birthday: date | None, language: str) -> str:
    return "\n".join(
        [
            "<b>" + t.gettext("Please check your details:") + "</b>",
            "",
            t.gettext("Name: {name}").format(name=escape(name)),
            t.gettext("Department: {department}").format(department=escape(department)),
            t.gettext("Birthday: {birthday}").format(birthday=format_birthday(t, birthday)),
            t.gettext("Language: {language}").format(language=LANGUAGE_NAMES[language]),
            "",
            t.gettext("Tap ✅ Confirm to register, or ✏️ Start over to change something."),
        ]
    )


def profile_text(t: Translator, member: Member, role: Role, tz: tzinfo) -> str:
    department = member.department.name if member.department else t.gettext("none")
    groups = t.gettext(", ").join(escape(g.name) for g in member.groups) or t.gettext("none")
    since = dates.day_text(member.created_at, tz)
    return "\n".join(
        [
            "<b>" + t.gettext("Your profile") + "</b>",
            "",
            t.gettext("Name: {name}").format(name=escape(member.name)),
            t.gettext("Department: {department}").format(department=escape(department)),
            t.gettext("Birthday: {birthday}").format(birthday=format_birthday(t, member.birthday)),
            t.gettext("Language: {language}").format(language=LANGUAGE_NAMES[member.language]),
            t.gettext("Role: {role}").format(role=role_name(t, role)),
            t.gettext("Interest groups: {groups}").format(groups=groups),
            t.gettext("Member since: {date}").format(date=since),
        ]
    )


def profile_keyboard(t: Translator, member: Member) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(t.gettext("✏️ Name"), callback_data=cb.PROFILE_EDIT.pack("name")),
            InlineKeyboardButton(
                t.gettext("🏢 Department"), callback_data=cb.PROFILE_EDIT.pack("dept")
            ),
        ],
        [
            InlineKeyboardButton(
                t.gettext("🎂 Birthday"), callback_data=cb.PROFILE_EDIT.pack("bday")
            )
        ],
        [
            InlineKeyboardButton(
                t.gettext("🌐 Language"), callback_data=cb.PROFILE_EDIT.pack("lang")
            ),
            InlineKeyboardButton(
                t.gettext("🗑 Delete my data"), callback_data=cb.PROFILE_EDIT.pack("forget")
            ),
        ],
    ]
    if member.birthday is not None:
        rows[1].append(
            InlineKeyboardButton(
                t.gettext("Remove birthday"), callback_data=cb.PROFILE_EDIT.pack("nobday")
            )
        )
    return InlineKeyboardMarkup(rows)


def birthday_removal_text(t: Translator) -> str:
    return t.gettext(
        "Remove your birthday from your profile? You will no longer get birthday wishes."
    )


def birthday_removal_keyboard(t: Translator) -> InlineKeyboardMarkup:
    """✅ removes (`rmbday`), ✖️ keeps it (`keepbday`): both end on the profile again."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.gettext("✅ Remove"), callback_data=cb.PROFILE_EDIT.pack("rmbday")
                ),
                InlineKeyboardButton(
                    t.gettext("✖️ Keep it"), callback_data=cb.PROFILE_EDIT.pack("keepbday")
                ),
            ]
        ]
    )


def forget_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.gettext("Yes, delete my data"), callback_data=cb.FORGET_CONFIRM.pack()
                ),
                InlineKeyboardButton(
                    t.gettext("No, keep it"), callback_data=cb.FORGET_ABORT.pack()
                ),
            ]
        ]
    )


def role_notice(t: Translator, after: Role, invite_link: str | None) -> str:
    """What a member is told when an admin changes their role."""
    lines = [
        t.gettext("Your role in the union bot is now: {role}.").format(
            role=t.gettext(ROLE_NAMES[after])
        )
    ]
    if invite_link is not None:
        lines.append(
            # The link stands on its own line: Telegram's link detection runs on
            # through CJK punctuation written right after it.
            t.gettext(
                "Join the cadre group, where members' cases arrive (the link works "
                "once, for 7 days):\n{link}"
            ).format(link=escape(invite_link))
        )
    if after is Role.ADMIN:
        lines.append(t.gettext("Open the admin panel with /admin or the 🛠 Admin button."))
    return "\n".join(lines)

"""How membership things read: the same text serves a message, an edit and a test."""

from __future__ import annotations

from datetime import date
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks as cb
from bot.i18n import LANGUAGE_NAMES, N_, translator
from bot.scope import Scope
from bot.settings import SUPPORTED_LANGUAGES
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


def format_birthday(scope: Scope, birthday: date | None) -> str:
    if birthday is None:
        return scope._("not given")
    return birthday.isoformat()


def role_name(scope: Scope, role: Role) -> str:
    return scope._(ROLE_NAMES[role])


def summary(scope: Scope, name: str, department: str, birthday: date | None, language: str) -> str:
    return "\n".join(
        [
            "<b>" + scope._("Please check your details:") + "</b>",
            "",
            scope._("Name: {name}").format(name=escape(name)),
            scope._("Department: {department}").format(department=escape(department)),
            scope._("Birthday: {birthday}").format(birthday=format_birthday(scope, birthday)),
            scope._("Language: {language}").format(language=LANGUAGE_NAMES[language]),
            "",
            scope._("Tap ✅ Confirm to register, or ✏️ Start over to change something."),
        ]
    )


def profile_text(scope: Scope, member: Member) -> str:
    department = member.department.name if member.department else scope._("none")
    groups = ", ".join(escape(g.name) for g in member.groups) or scope._("none")
    since = member.created_at.astimezone(scope.settings.tz).date().isoformat()
    return "\n".join(
        [
            "<b>" + scope._("Your profile") + "</b>",
            "",
            scope._("Name: {name}").format(name=escape(member.name)),
            scope._("Department: {department}").format(department=escape(department)),
            scope._("Birthday: {birthday}").format(
                birthday=format_birthday(scope, member.birthday)
            ),
            scope._("Language: {language}").format(language=LANGUAGE_NAMES[member.language]),
            scope._("Role: {role}").format(role=role_name(scope, scope.role)),
            scope._("Interest groups: {groups}").format(groups=groups),
            scope._("Member since: {date}").format(date=since),
        ]
    )


def profile_keyboard(scope: Scope, member: Member) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(scope._("✏️ Name"), callback_data=cb.PROFILE_EDIT.pack("name")),
            InlineKeyboardButton(
                scope._("🏢 Department"), callback_data=cb.PROFILE_EDIT.pack("dept")
            ),
        ],
        [InlineKeyboardButton(scope._("🎂 Birthday"), callback_data=cb.PROFILE_EDIT.pack("bday"))],
        [
            InlineKeyboardButton(
                scope._("🌐 Language"), callback_data=cb.PROFILE_EDIT.pack("lang")
            ),
            InlineKeyboardButton(
                scope._("🗑 Delete my data"), callback_data=cb.PROFILE_EDIT.pack("forget")
            ),
        ],
    ]
    if member.birthday is not None:
        rows[1].append(
            InlineKeyboardButton(
                scope._("Remove birthday"), callback_data=cb.PROFILE_EDIT.pack("nobday")
            )
        )
    return InlineKeyboardMarkup(rows)


def forget_keyboard(scope: Scope) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    scope._("Yes, delete my data"), callback_data=cb.FORGET_CONFIRM.pack()
                ),
                InlineKeyboardButton(scope._("No, keep it"), callback_data=cb.FORGET_ABORT.pack()),
            ]
        ]
    )

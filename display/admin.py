"""How the admin panel reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core import dates
from core.i18n import Translator
from display import callbacks as cb
from display.membership import format_birthday, role_name
from storage.members import Page
from storage.models import Department, InterestGroup, Member, Role

ROLE_ICONS = {Role.MEMBER: "", Role.CADRE: " ⭐", Role.ADMIN: " 🛠"}


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def home_text(t: Translator, roles: dict[str, int], departments: int, groups: int) -> str:
    total = sum(roles.values())
    return "\n".join(
        [
            "<b>" + t.gettext("Admin panel") + "</b>",
            "",
            t.gettext("Members: {total} (cadres {cadres}, admins {admins})").format(
                total=total,
                cadres=roles.get(Role.CADRE.value, 0),
                admins=roles.get(Role.ADMIN.value, 0),
            ),
            t.gettext("Departments: {count}").format(count=departments),
            t.gettext("Interest groups: {count}").format(count=groups),
        ]
    )


def home_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(t.gettext("👥 Members"), cb.ADMIN_MEMBERS.pack(0)),
                _button(t.gettext("🔎 Find a member"), cb.ADMIN_FIND.pack()),
            ],
            [
                _button(t.gettext("🏢 Departments"), cb.ADMIN_DEPARTMENTS.pack()),
                _button(t.gettext("🎯 Interest groups"), cb.ADMIN_GROUPS.pack()),
            ],
            [_button(t.gettext("🎉 Greetings"), cb.GREET_HOME.pack())],
            [_button(t.gettext("📋 Roster import"), cb.ROSTER_START.pack())],
            [_button(t.gettext("🗳 Polls"), cb.POLL_SETTINGS.pack())],
            [_button(t.gettext("📈 Satisfaction"), cb.PULSE_HOME.pack())],
            [
                _button(t.gettext("📢 Broadcast"), cb.BROADCAST_NEW.pack()),
                _button(t.gettext("📋 Broadcasts"), cb.BROADCAST_LIST.pack(0)),
            ],
        ]
    )


def back_home(t: Translator) -> InlineKeyboardButton:
    return _button(t.gettext("« Admin panel"), cb.ADMIN_HOME.pack())


def member_label(member: Member, admin_ids: frozenset[int]) -> str:
    role = Role.ADMIN if member.telegram_id in admin_ids else Role(member.role)
    department = f" · {member.department.name}" if member.department else ""
    return f"{member.name}{department}{ROLE_ICONS[role]}"


def members_text(t: Translator, page: Page[Member]) -> str:
    if not page.total:
        return t.gettext("No members have registered yet.")
    return t.gettext("Members ({total}), page {page} of {pages}. ⭐ cadre, 🛠 admin.").format(
        total=page.total, page=page.page + 1, pages=page.pages
    )


def members_keyboard(
    t: Translator, page: Page[Member], admin_ids: frozenset[int]
) -> InlineKeyboardMarkup:
    rows = [
        [_button(member_label(m, admin_ids), cb.ADMIN_MEMBER.pack(m.id, page.page))]
        for m in page.items
    ]
    nav = []
    if page.page > 0:
        nav.append(_button(t.gettext("‹ Previous"), cb.ADMIN_MEMBERS.pack(page.page - 1)))
    if page.page + 1 < page.pages:
        nav.append(_button(t.gettext("Next ›"), cb.ADMIN_MEMBERS.pack(page.page + 1)))
    if nav:
        rows.append(nav)
    rows.append([back_home(t)])
    return InlineKeyboardMarkup(rows)


def search_keyboard(
    t: Translator, found: list[Member], admin_ids: frozenset[int]
) -> InlineKeyboardMarkup:
    rows = [[_button(member_label(m, admin_ids), cb.ADMIN_MEMBER.pack(m.id, 0))] for m in found]
    rows.append([back_home(t)])
    return InlineKeyboardMarkup(rows)


def member_text(t: Translator, member: Member, role: Role, from_settings: bool, tz: tzinfo) -> str:
    department = member.department.name if member.department else t.gettext("none")
    tags = t.gettext(", ").join(member.tag_names) or t.gettext("none")
    groups = t.gettext(", ").join(g.name for g in member.groups) or t.gettext("none")
    lines = [
        "<b>" + escape(member.name) + "</b>",
        "",
        t.gettext("Department: {department}").format(department=escape(department)),
        t.gettext("Role: {role}").format(role=role_name(t, role)),
        t.gettext("Tags: {tags}").format(tags=escape(tags)),
        t.gettext("Interest groups: {groups}").format(groups=escape(groups)),
        t.gettext("Birthday: {birthday}").format(birthday=format_birthday(t, member.birthday)),
        t.gettext("Telegram id: {id}").format(id=member.telegram_id),
        t.gettext("Telegram username: {username}").format(
            username=escape("@" + member.username) if member.username else t.gettext("none")
        ),
        t.gettext("Registered: {date}").format(date=dates.day_text(member.created_at, tz)),
    ]
    if member.blocked_at is not None:
        lines.append(t.gettext("⚠️ This member has blocked the bot."))
    if from_settings:
        lines += [
            "",
            t.gettext(
                "This admin is listed in ADMIN_IDS; the role cannot be changed here. To change it, edit ADMIN_IDS in the bot's settings and restart the bot."
            ),
        ]
    return "\n".join(lines)


def member_keyboard(
    t: Translator, member: Member, role: Role, back_page: int, can_change: bool
) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    if can_change:
        options = {
            Role.MEMBER: t.gettext("Make member"),
            Role.CADRE: t.gettext("⭐ Make cadre"),
            Role.ADMIN: t.gettext("🛠 Make admin"),
        }
        rows.append(
            [
                _button(label, cb.ADMIN_SET_ROLE.pack(member.id, target.value))
                for target, label in options.items()
                if target is not role
            ]
        )
    rows.append([_button(t.gettext("🏷 Tags"), cb.ADMIN_TAGS.pack(member.id))])
    rows.append([_button(t.gettext("« Members"), cb.ADMIN_MEMBERS.pack(back_page)), back_home(t)])
    return InlineKeyboardMarkup(rows)


def named_list_text(
    t: Translator, title: str, items: Sequence[Department | InterestGroup], sizes: dict[int, int]
) -> str:
    lines = ["<b>" + title + "</b>", ""]
    if not items:
        lines.append(t.gettext("None yet."))
    for item in items:
        lines.append(
            t.gettext("{name}: {count} members").format(
                name=escape(item.name), count=sizes.get(item.id, 0)
            )
        )
    return "\n".join(lines)


def named_list_keyboard(
    t: Translator,
    items: Sequence[Department | InterestGroup],
    open_action: cb.CallbackAction[cb.ItemRef],
    add_action: cb.CallbackAction[cb.NoFields],
) -> InlineKeyboardMarkup:
    rows = [[_button(item.name, open_action.pack(item.id))] for item in items]
    rows.append([_button(t.gettext("➕ Add"), add_action.pack()), back_home(t)])
    return InlineKeyboardMarkup(rows)


def named_item_keyboard(
    t: Translator,
    item_id: int,
    rename: cb.CallbackAction[cb.ItemRef],
    delete: cb.CallbackAction[cb.ItemRef],
    back: cb.CallbackAction[cb.NoFields],
) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(t.gettext("✏️ Rename"), rename.pack(item_id)),
                _button(t.gettext("🗑 Delete"), delete.pack(item_id)),
            ],
            [_button(t.gettext("« Back"), back.pack())],
        ]
    )


def confirm_delete_keyboard(
    t: Translator,
    item_id: int,
    confirm: cb.CallbackAction[cb.ItemRef],
    back: cb.CallbackAction[cb.NoFields],
) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(t.gettext("Yes, delete"), confirm.pack(item_id)),
                _button(t.gettext("« Back"), back.pack()),
            ]
        ]
    )

"""How the admin panel reads."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks as cb
from bot.scope import Scope
from handlers.display.membership import format_birthday, role_name
from storage.members import Page
from storage.models import Department, InterestGroup, Member, Role

ROLE_ICONS = {Role.MEMBER: "", Role.CADRE: " ⭐", Role.ADMIN: " 🛠"}


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def home_text(scope: Scope, roles: dict[str, int], departments: int, groups: int) -> str:
    total = sum(roles.values())
    return "\n".join(
        [
            "<b>" + scope._("Admin panel") + "</b>",
            "",
            scope._("Members: {total} (cadres {cadres}, admins {admins})").format(
                total=total,
                cadres=roles.get(Role.CADRE.value, 0),
                admins=roles.get(Role.ADMIN.value, 0),
            ),
            scope._("Departments: {count}").format(count=departments),
            scope._("Interest groups: {count}").format(count=groups),
        ]
    )


def home_keyboard(scope: Scope) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(scope._("👥 Members"), cb.ADMIN_MEMBERS.pack(0)),
                _button(scope._("🔎 Find a member"), cb.ADMIN_FIND.pack()),
            ],
            [
                _button(scope._("🏢 Departments"), cb.ADMIN_DEPARTMENTS.pack()),
                _button(scope._("🎯 Interest groups"), cb.ADMIN_GROUPS.pack()),
            ],
            [_button(scope._("🎉 Greetings"), cb.GREET_HOME.pack())],
            [_button(scope._("🗳 Polls"), cb.POLL_SETTINGS.pack())],
            [
                _button(scope._("📢 Broadcast"), cb.BROADCAST_NEW.pack()),
                _button(scope._("📋 Broadcasts"), cb.BROADCAST_LIST.pack(0)),
            ],
        ]
    )


def back_home(scope: Scope) -> InlineKeyboardButton:
    return _button(scope._("« Admin panel"), cb.ADMIN_HOME.pack())


def member_label(member: Member, admin_ids: frozenset[int]) -> str:
    role = Role.ADMIN if member.telegram_id in admin_ids else Role(member.role)
    department = f" · {member.department.name}" if member.department else ""
    return f"{member.name}{department}{ROLE_ICONS[role]}"


def members_text(scope: Scope, page: Page[Member]) -> str:
    if not page.total:
        return scope._("No members have registered yet.")
    return scope._("Members ({total}), page {page} of {pages}. ⭐ cadre, 🛠 admin.").format(
        total=page.total, page=page.page + 1, pages=page.pages
    )


def members_keyboard(scope: Scope, page: Page[Member]) -> InlineKeyboardMarkup:
    admin_ids = scope.settings.admin_ids
    rows = [
        [_button(member_label(m, admin_ids), cb.ADMIN_MEMBER.pack(m.id, page.page))]
        for m in page.items
    ]
    nav = []
    if page.page > 0:
        nav.append(_button(scope._("‹ Previous"), cb.ADMIN_MEMBERS.pack(page.page - 1)))
    if page.page + 1 < page.pages:
        nav.append(_button(scope._("Next ›"), cb.ADMIN_MEMBERS.pack(page.page + 1)))
    if nav:
        rows.append(nav)
    rows.append([back_home(scope)])
    return InlineKeyboardMarkup(rows)


def search_keyboard(scope: Scope, found: list[Member]) -> InlineKeyboardMarkup:
    admin_ids = scope.settings.admin_ids
    rows = [[_button(member_label(m, admin_ids), cb.ADMIN_MEMBER.pack(m.id, 0))] for m in found]
    rows.append([back_home(scope)])
    return InlineKeyboardMarkup(rows)


def member_text(scope: Scope, member: Member, role: Role, from_settings: bool) -> str:
    department = member.department.name if member.department else scope._("none")
    tags = ", ".join(member.tag_names) or scope._("none")
    groups = ", ".join(g.name for g in member.groups) or scope._("none")
    lines = [
        "<b>" + escape(member.name) + "</b>",
        "",
        scope._("Department: {department}").format(department=escape(department)),
        scope._("Role: {role}").format(role=role_name(scope, role)),
        scope._("Tags: {tags}").format(tags=escape(tags)),
        scope._("Interest groups: {groups}").format(groups=escape(groups)),
        scope._("Birthday: {birthday}").format(birthday=format_birthday(scope, member.birthday)),
        scope._("Telegram id: {id}").format(id=member.telegram_id),
        scope._("Registered: {date}").format(
            date=member.created_at.astimezone(scope.settings.tz).date().isoformat()
        ),
    ]
    if member.blocked_at is not None:
        lines.append(scope._("⚠️ This member has blocked the bot."))
    if from_settings:
        lines += [
            "",
            scope._("This admin is listed in ADMIN_IDS; the role cannot be changed here."),
        ]
    return "\n".join(lines)


def member_keyboard(
    scope: Scope, member: Member, role: Role, back_page: int, can_change: bool
) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    if can_change:
        options = {
            Role.MEMBER: scope._("Make member"),
            Role.CADRE: scope._("⭐ Make cadre"),
            Role.ADMIN: scope._("🛠 Make admin"),
        }
        rows.append(
            [
                _button(label, cb.ADMIN_SET_ROLE.pack(member.id, target.value))
                for target, label in options.items()
                if target is not role
            ]
        )
    rows.append([_button(scope._("🏷 Tags"), cb.ADMIN_TAGS.pack(member.id))])
    rows.append([_button(scope._("« Members"), cb.ADMIN_MEMBERS.pack(back_page)), back_home(scope)])
    return InlineKeyboardMarkup(rows)


def named_list_text(
    scope: Scope, title: str, items: list[Department] | list[InterestGroup], sizes: dict[int, int]
) -> str:
    lines = ["<b>" + title + "</b>", ""]
    if not items:
        lines.append(scope._("None yet."))
    for item in items:
        lines.append(
            scope._("{name}: {count} members").format(
                name=escape(item.name), count=sizes.get(item.id, 0)
            )
        )
    return "\n".join(lines)


def named_list_keyboard(
    scope: Scope,
    items: list[Department] | list[InterestGroup],
    open_action: cb.CallbackAction,
    add_action: cb.CallbackAction,
) -> InlineKeyboardMarkup:
    rows = [[_button(item.name, open_action.pack(item.id))] for item in items]
    rows.append([_button(scope._("➕ Add"), add_action.pack()), back_home(scope)])
    return InlineKeyboardMarkup(rows)


def named_item_keyboard(
    scope: Scope,
    item_id: int,
    rename: cb.CallbackAction,
    delete: cb.CallbackAction,
    back: cb.CallbackAction,
) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(scope._("✏️ Rename"), rename.pack(item_id)),
                _button(scope._("🗑 Delete"), delete.pack(item_id)),
            ],
            [_button(scope._("« Back"), back.pack())],
        ]
    )


def confirm_delete_keyboard(
    scope: Scope, item_id: int, confirm: cb.CallbackAction, back: cb.CallbackAction
) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(scope._("Yes, delete"), confirm.pack(item_id)),
                _button(scope._("« Back"), back.pack()),
            ]
        ]
    )

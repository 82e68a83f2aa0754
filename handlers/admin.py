"""/admin: roles, members, departments and interest groups, all from the chat."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from core.i18n import N_, translator
from core.runtime import CommandSpec, MenuItem, runtime_of
from display import admin as display
from display import callbacks as cb
from display.membership import ROLE_NAMES
from handlers.commands import set_admin_commands
from handlers.common import (
    CANCEL_LABEL,
    OTHER_INPUT,
    PRIVATE,
    TEXT_INPUT,
    ask_for_text,
    cancel_handlers,
    cancel_keyboard,
    explain,
    pressed_args,
    reply,
    show_panel,
)
from handlers.menu import button_filter
from handlers.scope import Context, Scope, admin_only
from storage import members
from storage.members import Conflict, NotFound
from storage.models import Department, InterestGroup, Member, Role
from storage.profile_rules import GROUP_MAX, InvalidInput, clean_department, clean_label, clean_tag

log = logging.getLogger(__name__)

ADMIN_ITEM = MenuItem("admin", N_("🛠 Admin"), order=100, audience="admin")
INPUT = 0
DRAFT = "draft_admin_input"
INVITE_VALIDITY = timedelta(days=7)


STALE = N_("That no longer exists. The list has been refreshed.")


async def _show(
    update: Update, text: str, markup: InlineKeyboardMarkup, alert: str | None = None
) -> None:
    """Edit the panel in place when a button was pressed, else send it.

    A button press is answered exactly once, here; `alert` (already translated)
    explains a refreshed panel, e.g. when what the button named is gone.
    """
    if update.callback_query is not None:
        await update.callback_query.answer(alert, show_alert=alert is not None)
    await show_panel(update, text, markup)


_args = pressed_args


async def _stale(update: Update, scope: Scope) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(scope._(STALE), show_alert=True)


# Home ------------------------------------------------------------------------


async def _render_home(update: Update, scope: Scope) -> None:
    roles = await members.count_by_role(scope.session)
    departments = len(await members.list_departments(scope.session))
    groups = len(await members.list_groups(scope.session))
    await _show(
        update,
        display.home_text(scope.t, roles, departments, groups),
        display.home_keyboard(scope.t),
    )


@admin_only
async def home(update: Update, context: Context, scope: Scope) -> None:
    await _render_home(update, scope)


# Members and roles -------------------------------------------------------------


async def _render_members(
    update: Update, scope: Scope, page_number: int, alert: str | None = None
) -> None:
    page = await members.list_members(scope.session, page_number)
    await _show(
        update,
        display.members_text(scope.t, page),
        display.members_keyboard(scope.t, page, scope.settings.admin_ids),
        alert,
    )


@admin_only
async def member_list(update: Update, context: Context, scope: Scope) -> None:
    (page,) = _args(update, cb.ADMIN_MEMBERS)
    await _render_members(update, scope, int(page))


async def _render_member(update: Update, scope: Scope, member: Member, back_page: int) -> None:
    from_settings = member.telegram_id in scope.settings.admin_ids
    role = members.effective_role(member, member.telegram_id, scope.settings.admin_ids)
    user = update.effective_user
    can_change = not from_settings and (user is None or user.id != member.telegram_id)
    await _show(
        update,
        display.member_text(scope.t, member, role, from_settings, scope.settings.tz),
        display.member_keyboard(scope.t, member, role, back_page, can_change),
    )


@admin_only
async def member_card(update: Update, context: Context, scope: Scope) -> None:
    member_id, back_page = _args(update, cb.ADMIN_MEMBER)
    try:
        member = await members.get_member_by_id(scope.session, int(member_id))
    except NotFound:
        await _render_members(update, scope, int(back_page), scope._(STALE))
        return
    await _render_member(update, scope, member, int(back_page))


@admin_only
async def set_role(update: Update, context: Context, scope: Scope) -> None:
    member_id, role_value = _args(update, cb.ADMIN_SET_ROLE)
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    try:
        target = Role(str(role_value))
        member = await members.get_member_by_id(scope.session, int(member_id))
    except (ValueError, NotFound):
        await _stale(update, scope)
        return
    if member.telegram_id in scope.settings.admin_ids:
        await query.answer(
            scope._("This admin is listed in ADMIN_IDS; the role cannot be changed here."),
            show_alert=True,
        )
        return
    if member.telegram_id == update.effective_user.id:
        await query.answer(scope._("You cannot change your own role."), show_alert=True)
        return
    before = Role(member.role)
    if before is target:
        await _render_member(update, scope, member, 0)
        return
    await members.set_role(scope.session, member.id, target)
    await scope.session.flush()
    log.info("role changed from %s to %s by an admin", before.value, target.value)
    await _render_member(update, scope, member, 0)
    await _announce_role(context, scope, member, before, target)


async def _announce_role(
    context: Context, scope: Scope, member: Member, before: Role, after: Role
) -> None:
    """Tell the member, give or take the cadre group, and update their command list."""
    application = context.application
    t = translator(member.language)
    cadre_chat = scope.settings.cadre_chat_id
    lines = [
        t.gettext("Your role in the union bot is now: {role}.").format(
            role=t.gettext(ROLE_NAMES[after])
        )
    ]
    was_cadre = before in (Role.CADRE, Role.ADMIN)
    is_cadre = after in (Role.CADRE, Role.ADMIN)
    try:
        if is_cadre and not was_cadre and cadre_chat is not None:
            link = await context.bot.create_chat_invite_link(
                cadre_chat,
                name=f"cadre {member.id}",
                member_limit=1,
                expire_date=scope.runtime.now() + INVITE_VALIDITY,
            )
            lines.append(
                # The link stands on its own line: Telegram's link detection runs on
                # through CJK punctuation written right after it.
                t.gettext(
                    "Join the cadre group, where members' cases arrive (the link works "
                    "once, for 7 days):\n{link}"
                ).format(link=escape(link.invite_link))
            )
        if was_cadre and not is_cadre and cadre_chat is not None:
            # Removed from the group so they no longer see cases; unban so a
            # later promotion can invite them again.
            await context.bot.ban_chat_member(cadre_chat, member.telegram_id)
            await context.bot.unban_chat_member(cadre_chat, member.telegram_id, only_if_banned=True)
    except TelegramError as exc:
        log.warning("cadre group access not updated: %s", exc.message)
    if after is Role.ADMIN:
        lines.append(t.gettext("Open the admin panel with /admin or the 🛠 Admin button."))
    try:
        await context.bot.send_message(member.telegram_id, "\n".join(lines))
    except TelegramError as exc:
        log.info("role change not delivered to the member: %s", exc.message)
    if (before is Role.ADMIN) != (after is Role.ADMIN):
        await set_admin_commands(application, member.telegram_id, after is Role.ADMIN)


# Text input: find, tags, add, rename --------------------------------------------


@admin_only
async def ask_input(update: Update, context: Context, scope: Scope) -> int:
    query = update.callback_query
    assert query is not None and context.user_data is not None
    data = query.data or ""
    prompts: dict[cb.CallbackAction, str] = {
        cb.ADMIN_FIND: scope._("Send part of a name, or a Telegram id:"),
        cb.ADMIN_TAGS: scope._(
            "Send the member's tags separated by commas (e.g. new-hire, retiree), "
            "or a single dash to remove all tags:"
        ),
        DEPARTMENTS.add: scope._("Send the name of the new department:"),
        DEPARTMENTS.rename: scope._("Send the new name of the department:"),
        GROUPS.add: scope._("Send the name of the new interest group:"),
        GROUPS.rename: scope._("Send the new name of the interest group:"),
    }
    for action, prompt in prompts.items():
        if action.pattern.match(data):
            context.user_data[DRAFT] = (action.prefix, *action.unpack(data))
            await query.answer()
            await reply(update, prompt, reply_markup=cancel_keyboard(scope))
            return INPUT
    await query.answer(scope._("This button is no longer valid."), show_alert=True)
    return ConversationHandler.END


@admin_only
async def receive_input(update: Update, context: Context, scope: Scope) -> int:
    assert context.user_data is not None
    draft = context.user_data.get(DRAFT)
    text = update.effective_message.text or ""  # type: ignore[union-attr]
    if not draft:
        return ConversationHandler.END
    prefix, *ids = draft
    handler = INPUT_HANDLERS[prefix]
    try:
        done = await handler(update, scope, text, *ids)
    except InvalidInput as error:
        await reply(update, explain(scope, error, GROUP_MAX))
        return INPUT
    if not done:
        return INPUT
    context.user_data.pop(DRAFT, None)
    return ConversationHandler.END


async def _find(update: Update, scope: Scope, text: str) -> bool:
    query = clean_label(text, 64)
    found = await members.search_members(scope.session, query)
    if not found:
        await reply(update, scope._("No member matches that. Try another part of the name."))
        return False
    await reply(
        update,
        scope._("Members matching “{query}”:").format(query=escape(query)),
        reply_markup=display.search_keyboard(scope.t, found, scope.settings.admin_ids),
    )
    return True


async def _tags(update: Update, scope: Scope, text: str, member_id: int) -> bool:
    try:
        member = await members.get_member_by_id(scope.session, member_id)
    except NotFound:
        await reply(update, scope._("That member no longer exists."))
        return True
    raw = (
        [] if text.strip() == "-" else [p for p in text.replace("，", ",").split(",") if p.strip()]
    )
    await members.set_tags(scope.session, member, [clean_tag(p) for p in raw])
    await reply(update, scope._("Tags saved."))
    await _render_member(update, scope, member, 0)
    return True


@dataclass(frozen=True)
class NamedKind:
    """Departments and interest groups are managed the same way."""

    title: str
    listing: cb.CallbackAction
    item: cb.CallbackAction
    add: cb.CallbackAction
    rename: cb.CallbackAction
    delete: cb.CallbackAction
    confirm: cb.CallbackAction
    all: Callable[[AsyncSession], Awaitable[list[Any]]]
    sizes: Callable[[AsyncSession], Awaitable[dict[int, int]]]
    create: Callable[[AsyncSession, str], Awaitable[Any]]
    change_name: Callable[[AsyncSession, int, str], Awaitable[Any]]
    remove: Callable[[AsyncSession, int], Awaitable[Any]]
    delete_warning: str
    taken: str


DEPARTMENTS = NamedKind(
    title=N_("Departments"),
    listing=cb.ADMIN_DEPARTMENTS,
    item=cb.ADMIN_DEPARTMENT,
    add=cb.ADMIN_DEPARTMENT_ADD,
    rename=cb.ADMIN_DEPARTMENT_RENAME,
    delete=cb.ADMIN_DEPARTMENT_DELETE,
    confirm=cb.ADMIN_DEPARTMENT_DELETE_CONFIRM,
    all=members.list_departments,
    sizes=members.department_sizes,
    create=members.add_department,
    change_name=members.rename_department,
    remove=members.delete_department,
    delete_warning=N_(
        "Delete the department “{name}”? Its {count} members keep their "
        "profiles but will have no department until they choose one."
    ),
    taken=N_("A department with that name already exists."),
)
GROUPS = NamedKind(
    title=N_("Interest groups"),
    listing=cb.ADMIN_GROUPS,
    item=cb.ADMIN_GROUP,
    add=cb.ADMIN_GROUP_ADD,
    rename=cb.ADMIN_GROUP_RENAME,
    delete=cb.ADMIN_GROUP_DELETE,
    confirm=cb.ADMIN_GROUP_DELETE_CONFIRM,
    all=members.list_groups,
    sizes=members.group_sizes,
    create=members.add_group,
    change_name=members.rename_group,
    remove=members.delete_group,
    delete_warning=N_("Delete the interest group “{name}”? Its {count} members leave it."),
    taken=N_("An interest group with that name already exists."),
)
KINDS = (DEPARTMENTS, GROUPS)


def _kind_of(data: str | None, field: str) -> NamedKind:
    for kind in KINDS:
        if getattr(kind, field).pattern.match(data or ""):
            return kind
    raise cb.InvalidCallback(data)


async def _render_kind(
    update: Update, scope: Scope, kind: NamedKind, alert: str | None = None
) -> None:
    items = await kind.all(scope.session)
    sizes = await kind.sizes(scope.session)
    await _show(
        update,
        display.named_list_text(scope.t, scope._(kind.title), items, sizes),
        display.named_list_keyboard(scope.t, items, kind.item, kind.add),
        alert,
    )


async def _find_item(
    scope: Scope, kind: NamedKind, item_id: int
) -> Department | InterestGroup | None:
    return next((i for i in await kind.all(scope.session) if i.id == item_id), None)


@admin_only
async def kind_list(update: Update, context: Context, scope: Scope) -> None:
    assert update.callback_query is not None
    await _render_kind(update, scope, _kind_of(update.callback_query.data, "listing"))


@admin_only
async def kind_item(update: Update, context: Context, scope: Scope) -> None:
    assert update.callback_query is not None
    kind = _kind_of(update.callback_query.data, "item")
    (item_id,) = kind.item.unpack(update.callback_query.data)
    item = await _find_item(scope, kind, int(item_id))
    if item is None:
        await _render_kind(update, scope, kind, scope._(STALE))
        return
    count = (await kind.sizes(scope.session)).get(item.id, 0)
    text = scope._("{name}: {count} members").format(name=escape(item.name), count=count)
    await _show(
        update,
        "<b>" + text + "</b>",
        display.named_item_keyboard(scope.t, item.id, kind.rename, kind.delete, kind.listing),
    )


@admin_only
async def kind_delete(update: Update, context: Context, scope: Scope) -> None:
    assert update.callback_query is not None
    kind = _kind_of(update.callback_query.data, "delete")
    (item_id,) = kind.delete.unpack(update.callback_query.data)
    item = await _find_item(scope, kind, int(item_id))
    if item is None:
        await _render_kind(update, scope, kind, scope._(STALE))
        return
    count = (await kind.sizes(scope.session)).get(item.id, 0)
    await _show(
        update,
        scope._(kind.delete_warning).format(name=escape(item.name), count=count),
        display.confirm_delete_keyboard(scope.t, item.id, kind.confirm, kind.listing),
    )


@admin_only
async def kind_delete_confirmed(update: Update, context: Context, scope: Scope) -> None:
    assert update.callback_query is not None
    kind = _kind_of(update.callback_query.data, "confirm")
    (item_id,) = kind.confirm.unpack(update.callback_query.data)
    try:
        await kind.remove(scope.session, int(item_id))
    except NotFound:
        await _render_kind(update, scope, kind, scope._(STALE))
        return
    await _render_kind(update, scope, kind)


def _named_input(kind: NamedKind, creating: bool) -> Callable[..., Awaitable[bool]]:
    async def handle(update: Update, scope: Scope, text: str, *ids: int) -> bool:
        name = clean_department(text)
        try:
            if creating:
                await kind.create(scope.session, name)
            else:
                await kind.change_name(scope.session, ids[0], name)
        except Conflict:
            await reply(update, scope._(kind.taken))
            return False
        except NotFound:
            await reply(update, scope._(STALE))
            await _render_kind(update, scope, kind)
            return True
        await scope.session.flush()
        await reply(update, scope._("Saved."))
        await _render_kind(update, scope, kind)
        return True

    return handle


INPUT_HANDLERS: dict[str, Callable[..., Awaitable[bool]]] = {
    cb.ADMIN_FIND.prefix: _find,
    cb.ADMIN_TAGS.prefix: _tags,
    **{kind.add.prefix: _named_input(kind, True) for kind in KINDS},
    **{kind.rename.prefix: _named_input(kind, False) for kind in KINDS},
}


def register(application: Application) -> None:
    runtime = runtime_of(application)
    runtime.add_menu(ADMIN_ITEM)
    runtime.add_command(
        CommandSpec(
            "admin", N_("Admin panel: members, roles, departments"), frozenset({"admin"}), 100
        )
    )
    application.add_handler(CommandHandler("admin", home, filters=PRIVATE))
    application.add_handler(MessageHandler(button_filter(ADMIN_ITEM.label) & PRIVATE, home))
    application.add_handler(CallbackQueryHandler(home, pattern=cb.ADMIN_HOME.pattern))
    application.add_handler(CallbackQueryHandler(member_list, pattern=cb.ADMIN_MEMBERS.pattern))
    application.add_handler(CallbackQueryHandler(member_card, pattern=cb.ADMIN_MEMBER.pattern))
    application.add_handler(CallbackQueryHandler(set_role, pattern=cb.ADMIN_SET_ROLE.pattern))
    for kind in KINDS:
        application.add_handler(CallbackQueryHandler(kind_list, pattern=kind.listing.pattern))
        application.add_handler(CallbackQueryHandler(kind_item, pattern=kind.item.pattern))
        application.add_handler(CallbackQueryHandler(kind_delete, pattern=kind.delete.pattern))
        application.add_handler(
            CallbackQueryHandler(kind_delete_confirmed, pattern=kind.confirm.pattern)
        )
    entry_actions = [cb.ADMIN_FIND, cb.ADMIN_TAGS] + [
        action for kind in KINDS for action in (kind.add, kind.rename)
    ]
    application.add_handler(
        ConversationHandler(
            entry_points=[
                CallbackQueryHandler(ask_input, pattern=action.pattern) for action in entry_actions
            ],
            states={
                INPUT: [MessageHandler(TEXT_INPUT & ~button_filter(CANCEL_LABEL), receive_input)]
            },
            fallbacks=[*cancel_handlers(), MessageHandler(OTHER_INPUT, ask_for_text)],
            name="admin_input",
            persistent=True,
            conversation_timeout=30 * 60,
            allow_reentry=True,
        )
    )

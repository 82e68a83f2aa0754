"""/admin: roles, members, departments and interest groups, all from the chat.

The typed-input conversation's states are drawn in `admin_input.mmd` beside this module.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
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

from core import drafts
from core.i18n import N_
from core.runtime import CommandSpec, MenuItem, runtime_of
from display import admin as display
from display import callbacks as cb
from handlers.commands import set_member_commands
from handlers.common import (
    CANCEL_LABEL,
    OTHER_INPUT,
    PRIVATE,
    TEXT_INPUT,
    ask_for_text,
    cancel_handlers,
    cancel_keyboard,
    drop_draft,
    explain,
    keep_draft,
    pressed_args,
    reply,
    show_panel,
    text_of,
)
from handlers.menu import button_filter
from handlers.scope import Context, Scope, admin_only
from jobs.delivery import wake_after_commit
from notices import roles
from storage import members
from storage.members import Conflict, NotFound, RoleRefused
from storage.models import Department, InterestGroup, Member, Role
from storage.profile_rules import GROUP_MAX, InvalidInput

log = logging.getLogger(__name__)

ADMIN_ITEM = MenuItem("admin", N_("🛠 Admin"), order=100, audience="admin")
INPUT = 0
DRAFT = "draft_admin_input"
INVITE_VALIDITY = timedelta(days=7)


STALE = N_("That no longer exists. The list has been refreshed.")
ROLE_REFUSALS = {
    "settings": N_(
        "This admin is listed in ADMIN_IDS; the role cannot be changed here. To change it, edit ADMIN_IDS in the bot's settings and restart the bot."
    ),
    "self": N_("You cannot change your own role. Please ask another admin."),
}


# What the one typed-input step is waiting for (kept under DRAFT between messages).


@drafts.draft("admin-find")
@dataclass
class FindDraft:
    """A name fragment or Telegram id to look for."""


@drafts.draft("admin-tags")
@dataclass
class TagsDraft:
    """The tags of one member."""

    member: int


@drafts.draft("admin-name")
@dataclass
class NameDraft:
    """A name for a new department or interest group (``item`` None), or a new name for one."""

    kind: str  # NamedKind.key
    item: int | None = None


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
    await _render_members(update, scope, pressed_args(update, cb.ADMIN_MEMBERS).page)


async def _render_member(update: Update, scope: Scope, member: Member, back_page: int) -> None:
    from_settings = member.telegram_id in scope.settings.admin_ids
    role = members.effective_role(member, member.telegram_id, scope.settings.admin_ids)
    user = update.effective_user
    by = user.id if user is not None else None
    can_change = members.role_refusal(member, by, scope.settings.admin_ids) is None
    await _show(
        update,
        display.member_text(scope.t, member, role, from_settings, scope.settings.tz),
        display.member_keyboard(scope.t, member, role, back_page, can_change),
    )


@admin_only
async def member_card(update: Update, context: Context, scope: Scope) -> None:
    pressed = pressed_args(update, cb.ADMIN_MEMBER)
    try:
        member = await members.get_member_by_id(scope.session, pressed.member)
    except NotFound:
        await _render_members(update, scope, pressed.page, scope._(STALE))
        return
    await _render_member(update, scope, member, pressed.page)


@admin_only
async def set_role(update: Update, context: Context, scope: Scope) -> None:
    pressed = pressed_args(update, cb.ADMIN_SET_ROLE)
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    try:
        change = await members.change_role(
            scope.session,
            pressed.member,
            Role(pressed.role),
            by_telegram_id=update.effective_user.id,
            admin_ids=scope.settings.admin_ids,
        )
    except RoleRefused as refused:
        await query.answer(scope._(ROLE_REFUSALS[refused.reason]), show_alert=True)
        return
    except (ValueError, NotFound):  # no such role, or no such member
        await _stale(update, scope)
        return
    await _render_member(update, scope, change.member, 0)
    if change.changed:
        log.info("role changed from %s to %s by an admin", change.before.value, change.after.value)
        await _announce_role(context, scope, change.member, change.before, change.after)


async def _announce_role(
    context: Context, scope: Scope, member: Member, before: Role, after: Role
) -> None:
    """Give or take the cadre group, tell the member (outbox), update their command list."""
    application = context.application
    cadre_chat = scope.settings.cadre_chat_id
    was_cadre = before in (Role.CADRE, Role.ADMIN)
    is_cadre = after in (Role.CADRE, Role.ADMIN)
    invite_link: str | None = None
    try:
        if is_cadre and not was_cadre and cadre_chat is not None:
            link = await context.bot.create_chat_invite_link(
                cadre_chat,
                name=f"cadre {member.id}",
                member_limit=1,
                expire_date=scope.runtime.now() + INVITE_VALIDITY,
            )
            invite_link = link.invite_link
        if was_cadre and not is_cadre and cadre_chat is not None:
            # Removed from the group so they no longer see cases; unban so a
            # later promotion can invite them again.
            await context.bot.ban_chat_member(cadre_chat, member.telegram_id)
            await context.bot.unban_chat_member(cadre_chat, member.telegram_id, only_if_banned=True)
    except TelegramError as exc:
        log.warning("cadre group access not updated: %s", exc.message)
    if await roles.tell_role(scope.session, member, after, invite_link, scope.runtime.now()):
        wake_after_commit(scope.session, context)
    role = members.effective_role(member, member.telegram_id, scope.settings.admin_ids)
    await set_member_commands(
        application, member.telegram_id, member.language, role, was_cadre=was_cadre
    )


# Text input: find, tags, add, rename --------------------------------------------


@admin_only
async def ask_input(update: Update, context: Context, scope: Scope) -> int:
    """A button that needs typed input: keeps what it is for, asks for the text."""
    query = update.callback_query
    assert query is not None
    data = query.data or ""
    asked = _input_for(data)
    if asked is None:
        await query.answer(scope._("This button is no longer valid."), show_alert=True)
        return ConversationHandler.END
    draft, prompt = asked
    keep_draft(context, DRAFT, draft)
    await query.answer()
    await reply(update, scope._(prompt), reply_markup=cancel_keyboard(scope))
    return INPUT


def _input_for(data: str) -> tuple[FindDraft | TagsDraft | NameDraft, str] | None:
    """The draft a button's press starts, and the prompt (msgid) for its text."""
    if cb.ADMIN_FIND.pattern.match(data):
        return FindDraft(), FIND_PROMPT
    if cb.ADMIN_TAGS.pattern.match(data):
        return TagsDraft(cb.ADMIN_TAGS.unpack(data).member), TAGS_PROMPT
    for kind in KINDS:
        if kind.add.pattern.match(data):
            return NameDraft(kind.key), kind.add_prompt
        if kind.rename.pattern.match(data):
            return NameDraft(kind.key, kind.rename.unpack(data).item), kind.rename_prompt
    return None


FIND_PROMPT = N_("Send part of a name, an @username or a Telegram id:")
TAGS_PROMPT = N_(
    "Send the member's tags separated by commas (e.g. new-hire, retiree), "
    "or a single dash to remove all tags:"
)


@admin_only
async def receive_input(update: Update, context: Context, scope: Scope) -> int:
    draft = (context.user_data or {}).get(DRAFT)
    text = text_of(update)
    try:
        if isinstance(draft, FindDraft):
            await _find(update, scope, text)
            return INPUT  # the next text is another search, until ✖️ Cancel
        elif isinstance(draft, TagsDraft):
            done = await _tags(update, scope, text, draft.member)
        elif isinstance(draft, NameDraft) and draft.kind in KINDS_BY_KEY:
            done = await _save_name(update, scope, text, KINDS_BY_KEY[draft.kind], draft.item)
        else:  # none, or one an older version kept
            return ConversationHandler.END
    except InvalidInput as error:
        await reply(update, explain(scope, error, GROUP_MAX))
        return INPUT
    if not done:
        return INPUT
    drop_draft(context, DRAFT)
    return ConversationHandler.END


async def _find(update: Update, scope: Scope, text: str) -> None:
    query = members.clean_query(text)
    found = await members.search_members(scope.session, query)
    if not found:
        await reply(
            update,
            scope._(
                "No member matches that. Send another part of the name, an @username or a "
                "Telegram id, or tap ✖️ Cancel."
            ),
        )
        return
    await reply(
        update,
        scope._("Members matching “{query}”:").format(query=escape(query))
        + "\n"
        + scope._("To search again, just send another name; ✖️ Cancel ends the search."),
        reply_markup=display.search_keyboard(scope.t, found, scope.settings.admin_ids),
    )


async def _tags(update: Update, scope: Scope, text: str, member_id: int) -> bool:
    try:
        member = await members.get_member_by_id(scope.session, member_id)
    except NotFound:
        await reply(update, scope._("That member no longer exists."))
        return True
    await members.retag(scope.session, member, text)
    await reply(update, scope._("Tags saved."))
    await _render_member(update, scope, member, 0)
    return True


@dataclass(frozen=True)
class NamedKind:
    """Departments and interest groups are managed the same way."""

    key: str  # kept in a NameDraft
    title: str
    listing: cb.CallbackAction[cb.NoFields]
    item: cb.CallbackAction[cb.ItemRef]
    add: cb.CallbackAction[cb.NoFields]
    rename: cb.CallbackAction[cb.ItemRef]
    delete: cb.CallbackAction[cb.ItemRef]
    confirm: cb.CallbackAction[cb.ItemRef]
    all: Callable[[AsyncSession], Awaitable[Sequence[Department | InterestGroup]]]
    sizes: Callable[[AsyncSession], Awaitable[dict[int, int]]]
    create: Callable[[AsyncSession, str], Awaitable[object]]
    change_name: Callable[[AsyncSession, int, str], Awaitable[object]]
    remove: Callable[[AsyncSession, int], Awaitable[object]]
    add_prompt: str
    rename_prompt: str
    delete_warning: str
    taken: str


DEPARTMENTS = NamedKind(
    key="department",
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
    add_prompt=N_("Send the name of the new department:"),
    rename_prompt=N_("Send the new name of the department:"),
    delete_warning=N_(
        "Delete the department “{name}”? Its {count} members keep their "
        "profiles but will have no department until they choose one."
    ),
    taken=N_("A department with that name already exists."),
)
GROUPS = NamedKind(
    key="group",
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
    add_prompt=N_("Send the name of the new interest group:"),
    rename_prompt=N_("Send the new name of the interest group:"),
    delete_warning=N_("Delete the interest group “{name}”? Its {count} members leave it."),
    taken=N_("An interest group with that name already exists."),
)
KINDS = (DEPARTMENTS, GROUPS)
KINDS_BY_KEY = {kind.key: kind for kind in KINDS}


def _listed(update: Update) -> NamedKind:
    """The kind whose list button was pressed."""
    data = update.callback_query.data if update.callback_query is not None else None
    for kind in KINDS:
        if kind.listing.pattern.match(data):
            return kind
    raise cb.InvalidCallback(data)


def _pressed_item(
    update: Update, button: Callable[[NamedKind], cb.CallbackAction[cb.ItemRef]]
) -> tuple[NamedKind, int]:
    """The kind whose ``button`` was pressed, and the department or group it names."""
    data = update.callback_query.data if update.callback_query is not None else None
    for kind in KINDS:
        action = button(kind)
        if action.pattern.match(data):
            return kind, action.unpack(data).item
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
    await _render_kind(update, scope, _listed(update))


@admin_only
async def kind_item(update: Update, context: Context, scope: Scope) -> None:
    kind, item_id = _pressed_item(update, lambda kind: kind.item)
    item = await _find_item(scope, kind, item_id)
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
    kind, item_id = _pressed_item(update, lambda kind: kind.delete)
    item = await _find_item(scope, kind, item_id)
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
    kind, item_id = _pressed_item(update, lambda kind: kind.confirm)
    try:
        await kind.remove(scope.session, item_id)
    except NotFound:
        await _render_kind(update, scope, kind, scope._(STALE))
        return
    await _render_kind(update, scope, kind)


async def _save_name(
    update: Update, scope: Scope, text: str, kind: NamedKind, item_id: int | None
) -> bool:
    """A new department or group (``item_id`` None) or a new name; InvalidInput passes up."""
    try:
        if item_id is None:
            await kind.create(scope.session, text)
        else:
            await kind.change_name(scope.session, item_id, text)
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
    entry_actions: list[cb.CallbackAction[Any]] = [cb.ADMIN_FIND, cb.ADMIN_TAGS]
    for kind in KINDS:
        entry_actions += [kind.add, kind.rename]
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

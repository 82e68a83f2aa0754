"""Interest groups (兴趣小组) for members: browse, join, leave.

Admins create and rename groups in the admin panel (`handlers.admin`); here
members choose theirs. Being in a group puts a member in the audience of the
activities and announcements aimed at it (`storage.audiences`).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler

from core.i18n import N_
from core.runtime import CommandSpec, MenuItem, runtime_of
from display import callbacks as cb
from display import groups as display
from handlers.common import PRIVATE, pressed_args, show_panel
from handlers.enrolment_common import answer
from handlers.menu import button_filter
from handlers.scope import Context, Scope, registered
from storage import members
from storage.members import NotFound
from storage.models import InterestGroup

GROUPS_ITEM = MenuItem("groups", N_("🎯 Interest groups"), order=50)


async def _render_list(update: Update, scope: Scope) -> None:
    assert scope.member is not None
    groups = await members.list_groups(scope.session)
    sizes = await members.group_sizes(scope.session)
    mine = {g.id for g in scope.member.groups}
    await show_panel(
        update,
        display.list_text(scope.t, bool(groups)),
        display.list_keyboard(groups, sizes, mine),
    )


@registered
async def show_groups(update: Update, context: Context, scope: Scope) -> None:
    await answer(update)
    await _render_list(update, scope)


async def _render_group(update: Update, scope: Scope, group: InterestGroup) -> None:
    assert scope.member is not None
    size = (await members.group_sizes(scope.session)).get(group.id, 0)
    joined = any(g.id == group.id for g in scope.member.groups)
    await show_panel(
        update,
        display.group_text(scope.t, group, size, joined),
        display.group_keyboard(scope.t, group, joined),
    )


async def _group(update: Update, scope: Scope, group_id: int) -> InterestGroup | None:
    try:
        return await members.get_group(scope.session, group_id)
    except NotFound:
        await answer(update, scope._("That no longer exists. The list has been refreshed."), True)
        await _render_list(update, scope)
        return None


@registered
async def open_group(update: Update, context: Context, scope: Scope) -> None:
    group = await _group(update, scope, pressed_args(update, cb.GROUP_OPEN).group)
    if group is not None:
        await answer(update)
        await _render_group(update, scope, group)


@registered
async def join(update: Update, context: Context, scope: Scope) -> None:
    group = await _group(update, scope, pressed_args(update, cb.GROUP_JOIN).group)
    if group is None:
        return
    assert scope.member is not None
    await members.join_group(scope.session, scope.member, group)
    await answer(update, scope._("Welcome to {name}!").format(name=group.name))
    await _render_group(update, scope, group)


@registered
async def leave(update: Update, context: Context, scope: Scope) -> None:
    group = await _group(update, scope, pressed_args(update, cb.GROUP_LEAVE).group)
    if group is None:
        return
    assert scope.member is not None
    await members.leave_group(scope.session, scope.member, group.id)
    await answer(update, scope._("You left {name}.").format(name=group.name))
    await _render_group(update, scope, group)


def register(application: Application) -> None:
    runtime = runtime_of(application)
    runtime.add_menu(GROUPS_ITEM)
    runtime.add_command(
        CommandSpec("groups", N_("Interest groups: join"), frozenset({"private"}), 50)
    )
    application.add_handler(CommandHandler("groups", show_groups, filters=PRIVATE))
    application.add_handler(MessageHandler(button_filter(GROUPS_ITEM.label) & PRIVATE, show_groups))
    for action, callback in (
        (cb.GROUPS_LIST, show_groups),
        (cb.GROUP_OPEN, open_group),
        (cb.GROUP_JOIN, join),
        (cb.GROUP_LEAVE, leave),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=action.pattern))

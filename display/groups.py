"""How interest groups read for members: the list with theirs marked, one group's card."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.i18n import Translator
from display import callbacks as cb
from storage.models import InterestGroup


def list_text(t: Translator, any_groups: bool) -> str:
    if not any_groups:
        return t.gettext("There are no interest groups yet. Admins can add them.")
    return "\n".join(
        [
            "<b>" + t.gettext("Interest groups") + "</b>",
            t.gettext("Join a group to hear about its activities. ✅ marks yours."),
        ]
    )


def list_keyboard(
    groups: Sequence[InterestGroup], sizes: dict[int, int], mine: set[int]
) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                ("✅ " if g.id in mine else "") + f"{g.name} · {sizes.get(g.id, 0)}",
                callback_data=cb.GROUP_OPEN.pack(g.id),
            )
        ]
        for g in groups
    ]
    return InlineKeyboardMarkup(rows)


def group_text(t: Translator, group: InterestGroup, size: int, joined: bool) -> str:
    lines = ["<b>" + escape(group.name) + "</b>"]
    if group.description:
        lines.append(escape(group.description))
    lines.append(t.gettext("Members: {count}").format(count=size))
    if joined:
        lines.append("✅ " + t.gettext("You are in this group."))
    return "\n".join(lines)


def group_keyboard(t: Translator, group: InterestGroup, joined: bool) -> InlineKeyboardMarkup:
    if joined:
        action = InlineKeyboardButton(
            t.gettext("Leave the group"), callback_data=cb.GROUP_LEAVE.pack(group.id)
        )
    else:
        action = InlineKeyboardButton(
            t.gettext("➕ Join"), callback_data=cb.GROUP_JOIN.pack(group.id)
        )
    back = InlineKeyboardButton(t.gettext("« All groups"), callback_data=cb.GROUPS_LIST.pack())
    return InlineKeyboardMarkup([[action], [back]])

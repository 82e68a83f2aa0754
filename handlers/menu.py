"""The main-menu reply keyboard and the filters that recognise its buttons."""

from __future__ import annotations

import functools
import re

from telegram import KeyboardButton, ReplyKeyboardMarkup
from telegram.ext import filters

from core.i18n import every_translation
from core.runtime import MenuItem, Runtime
from handlers.scope import Scope

COLUMNS = 2


def visible_items(runtime: Runtime, scope: Scope) -> list[MenuItem]:
    allowed = {"member"}
    if scope.is_cadre:
        allowed.add("cadre")
    if scope.is_admin:
        allowed.add("admin")
    return [item for item in runtime.menu if item.audience in allowed]


def main_menu(scope: Scope) -> ReplyKeyboardMarkup:
    labels = tuple(scope._(item.label) for item in visible_items(scope.runtime, scope))
    return _keyboard(labels, scope._("Choose from the menu"))


@functools.lru_cache(maxsize=64)
def _keyboard(labels: tuple[str, ...], placeholder: str) -> ReplyKeyboardMarkup:
    """One keyboard per set of labels (a language and a role): PTB's objects are frozen,
    and building one is a dozen objects for every reply that shows the menu."""
    rows = [labels[i : i + COLUMNS] for i in range(0, len(labels), COLUMNS)]
    return ReplyKeyboardMarkup(
        [[KeyboardButton(label) for label in row] for row in rows],
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder=placeholder,
    )


def button_filter(label: str) -> filters.MessageFilter:
    """Matches the button text in any language, so a language switch never strands a keyboard."""
    choices = "|".join(re.escape(text) for text in sorted(every_translation(label)))
    return filters.Regex(f"^(?:{choices})$")

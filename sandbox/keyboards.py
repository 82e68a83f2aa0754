"""Reply markup: validating inline keyboards and tracking the reply keyboard a user sees.

Inline keyboards belong to a message. Reply keyboards (and force-reply requests)
belong to the chat: they replace the user's input field until replaced or removed,
and in groups they can target some users only (``selective``: the users the
message mentions and the author of the message it replies to). The sandbox keeps that
state so the driver and the web chat can show what a user would see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.errors import bad_request
from sandbox.state import ChatRecord, KeyboardState

_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "login_url",
    "web_app",
    "copy_text",
    "callback_game",
    "pay",
)
_URL_SCHEMES = ("http://", "https://", "tg://")
MAX_CALLBACK_DATA_BYTES = 64


@dataclass
class Markup:
    """A parsed ``reply_markup``: at most one of the two is set."""

    inline: list[list[dict[str, Any]]] | None = None
    reply: dict[str, Any] | None = None


def _rows(value: Any, name: str) -> list[list[Any]]:
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise bad_request(f"can't parse reply keyboard markup JSON object: {name} must be an Array")
    return value


def _inline_button(button: Any) -> dict[str, Any]:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    actions = [key for key in _INLINE_ACTIONS if key in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.lower().startswith(_URL_SCHEMES):
            raise bad_request("BUTTON_URL_INVALID")
    return dict(button)


def _reply_button(button: Any) -> dict[str, Any]:
    if isinstance(button, str):
        return {"text": button}
    if isinstance(button, dict) and isinstance(button.get("text"), str):
        return dict(button)
    raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')


def parse_markup(value: Any) -> Markup:
    """Validate a ``reply_markup`` the way Telegram does and normalise it."""
    if value is None:
        return Markup()
    if not isinstance(value, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in value:
        rows = _rows(value["inline_keyboard"], "inline_keyboard")
        inline = [[_inline_button(b) for b in row] for row in rows if row]
        return Markup(inline=inline or None)
    if "keyboard" in value:
        rows = _rows(value["keyboard"], "keyboard")
        keyboard = [[_reply_button(b) for b in row] for row in rows if row]
        if not keyboard:
            raise bad_request("keyboard must be non-empty")
        return Markup(reply={**value, "keyboard": keyboard})
    if value.get("remove_keyboard") is True or value.get("force_reply") is True:
        return Markup(reply=dict(value))
    raise bad_request("can't parse reply keyboard markup JSON object")


def keyboard_targets(
    chat: ChatRecord, markup: dict[str, Any], mentioned: set[int], replied_sender: int | None
) -> set[int] | None:
    """Whose keyboard a reply markup sets: these users', or everyone's (None).

    In a private chat that is the user. In groups a ``selective`` markup targets, as
    Telegram's clients apply it, the users the message mentions (an @username or a
    text mention, i.e. a ``tg://user?id=`` link) and the author of the message it
    replies to; a selective markup with neither targets nobody.
    """
    if chat.is_private:
        return {chat.id}
    if not markup.get("selective"):
        return None
    targets = set(mentioned)
    if replied_sender is not None:
        targets.add(replied_sender)
    return targets


def apply_reply_markup(
    chat: ChatRecord,
    markup: dict[str, Any],
    message_id: int,
    replied_sender: int | None,
    mentioned: set[int] | None = None,
) -> list[int | None]:
    """Record a reply keyboard, removal or force-reply; return whom it applied to."""
    targets = keyboard_targets(chat, markup, mentioned or set(), replied_sender)
    keys: list[int | None] = [None] if targets is None else [*sorted(targets)]
    if targets is None:
        chat.keyboards.clear()
    for key in keys:
        if markup.get("remove_keyboard"):
            chat.keyboards.pop(key, None)
            if key is not None and None in chat.keyboards:
                # Removing one user's keyboard in a group hides the shared one for them.
                chat.keyboards[key] = KeyboardState("removed", {}, message_id)
        elif markup.get("force_reply"):
            chat.keyboards[key] = KeyboardState("force_reply", dict(markup), message_id)
        else:
            chat.keyboards[key] = KeyboardState("keyboard", dict(markup), message_id)
    return keys


def keyboard_for(chat: ChatRecord, user_id: int) -> KeyboardState | None:
    """The keyboard state a user currently has in a chat, if any."""
    state = chat.keyboards.get(user_id) or chat.keyboards.get(None)
    if state is None or state.kind == "removed":
        return None
    return state


def after_user_message(chat: ChatRecord, user_id: int) -> bool:
    """Apply what sending a message does to the user's keyboard; True if it changed.

    A one-time keyboard collapses (the user can reopen it), and a force-reply request
    is fulfilled and goes away.
    """
    key: int | None = user_id if user_id in chat.keyboards else None
    state = chat.keyboards.get(key)
    if state is None:
        return False
    if state.kind == "force_reply":
        if key is None:
            chat.keyboards[user_id] = KeyboardState("removed", {}, state.message_id)
        else:
            del chat.keyboards[key]
        return True
    if state.kind == "keyboard" and state.markup.get("one_time_keyboard") and not state.collapsed:
        if key is None:
            chat.keyboards[user_id] = KeyboardState(
                "keyboard", state.markup, state.message_id, collapsed=True
            )
        else:
            state.collapsed = True
        return True
    return False


def keyboard_json(state: KeyboardState | None) -> dict[str, Any] | None:
    """The keyboard state for the control API (None: the normal input field)."""
    if state is None:
        return None
    markup = state.markup
    data: dict[str, Any] = {
        "kind": state.kind,
        "message_id": state.message_id,
        "collapsed": state.collapsed,
        "input_field_placeholder": markup.get("input_field_placeholder"),
    }
    if state.kind == "keyboard":
        data["rows"] = [[button["text"] for button in row] for row in markup["keyboard"]]
        data["buttons"] = markup["keyboard"]
        for option in ("resize_keyboard", "one_time_keyboard", "is_persistent", "selective"):
            data[option] = bool(markup.get(option, False))
    return data

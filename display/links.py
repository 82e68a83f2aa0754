"""Deep links: what a shared activity or course link carries.

`https://t.me/<bot>?start=act_12` makes Telegram send `/start act_12` when a
member taps it. Like callback data, the payload is read strictly: a kind the
bot knows, then an id that fits an `Integer` column, so `act_99999999999` or
`act_²` is "not one of ours" instead of an error in the database.

Some kinds carry a code instead of an id (`join_K7M2P9QX`, a roster's one-time
code): :func:`parse_code` reads those, strictly too (letters and digits, a
bounded length), and a bare code (`/start K7M2P9QX`, typed by the member) is
read as a `join` link.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from display.callbacks import INT32

ACTIVITY = "act"
TRAINING = "trn"
JOIN = "join"  # a roster's one-time code (handlers/roster/)
CODE_KINDS = frozenset({JOIN})

_PAYLOAD = re.compile(r"([a-z]{2,8})_([0-9]{1,10})")
_CODE_PAYLOAD = re.compile(r"([a-z]{2,8})_([A-Za-z0-9]{4,16})")
_BARE_CODE = re.compile(r"[A-Za-z0-9]{8}")


class DeepLink(NamedTuple):
    kind: str  # ACTIVITY | TRAINING
    target: int  # the row's id


def url(bot_username: str | None, kind: str, target: int) -> str:
    """The link cadres share in other chats."""
    return f"https://t.me/{bot_username}?start={kind}_{target}"


def parse(payload: str) -> DeepLink | None:
    """The link a `/start` payload names, or None when no link of ours could carry it."""
    found = _PAYLOAD.fullmatch(payload)
    if found is None:
        return None
    target = int(found.group(2))
    if not INT32.low <= target <= INT32.high:
        return None
    return DeepLink(found.group(1), target)


class CodeLink(NamedTuple):
    kind: str  # one of CODE_KINDS
    code: str  # as sent; the feature checks it


def code_url(bot_username: str | None, kind: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={kind}_{code}"


def parse_code(payload: str) -> CodeLink | None:
    """The code link a `/start` payload names, or None when it carries no code of ours."""
    if _BARE_CODE.fullmatch(payload) and not payload.isdecimal():
        return CodeLink(JOIN, payload)
    found = _CODE_PAYLOAD.fullmatch(payload)
    if found is None or found.group(1) not in CODE_KINDS:
        return None
    return CodeLink(found.group(1), found.group(2))

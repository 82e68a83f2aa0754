"""Deep links: what a shared activity or course link carries.

`https://t.me/<bot>?start=act_12` makes Telegram send `/start act_12` when a
member taps it. Like callback data, the payload is read strictly: a kind the
bot knows, then an id that fits an `Integer` column, so `act_99999999999` or
`act_²` is "not one of ours" instead of an error in the database.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from display.callbacks import INT32

ACTIVITY = "act"
TRAINING = "trn"

_PAYLOAD = re.compile(r"([a-z]{2,8})_([0-9]{1,10})")


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

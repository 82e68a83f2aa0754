"""`/start <payload>`: a shared link opens what it names, in the feature that owns its kind.

Features register an opener per kind (`runtime.add_deep_link(links.ACTIVITY, …)`),
so membership, which receives `/start`, needs to know none of them.
"""

from __future__ import annotations

from telegram import Update

from display import links
from handlers.scope import Context, Scope


async def open_deep_link(update: Update, context: Context, scope: Scope, payload: str) -> bool:
    """Open the link's target; False when the payload is no link of ours."""
    link = links.parse(payload)
    opener = scope.runtime.deep_links.get(link.kind) if link is not None else None
    if link is None or opener is None:
        return False
    await opener(update, context, scope, link.target)
    return True


async def open_code_link(update: Update, context: Context, scope: Scope, payload: str) -> bool:
    """Open a link carrying a code (`join_…`), newcomer or not; False when it is none."""
    link = links.parse_code(payload)
    opener = scope.runtime.code_links.get(link.kind) if link is not None else None
    if link is None or opener is None:
        return False
    await opener(update, context, scope, link.code)
    return True

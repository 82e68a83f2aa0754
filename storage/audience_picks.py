"""An audience as a picker builds it: one tap flips one choice, and nobody is refused.

Broadcasts and polls let an admin tap an audience together (`display.broadcasts`
draws the buttons). A button names a source and an item, or one of the tokens
below, so a forged or outdated press could name a department that no longer
exists or a tag index past the end: :func:`toggled` refuses what no picker
could have shown, and the handler says "no longer valid". Choosing it is one
thing, sending to it another: :func:`recipients` refuses an audience that
would reach nobody, with a typed error the handler words for its step.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from sqlalchemy.ext.asyncio import AsyncSession

from storage import audiences
from storage.audiences import SOURCES, Audience, AudienceSources

# Tokens a picker button carries in place of a source key.
EVERYONE = "all"
TAG = "tag"  # the item is an index into the tags the picker showed


class PickRefused(ValueError):
    """A pick no picker could have shown: an unknown source, item or tag index."""


class NoRecipients(ValueError):
    """The audience reaches nobody; ``chosen`` is False when nothing was picked at all."""

    def __init__(self, *, chosen: bool) -> None:
        super().__init__("no recipients")
        self.chosen = chosen


async def toggled(
    session: AsyncSession,
    audience: Audience,
    source: str,
    item: int,
    tags: Sequence[str],
    sources: AudienceSources = SOURCES,
) -> Audience:
    """The audience with one choice flipped; PickRefused if the button could not be real.

    An item chosen earlier may be unchosen even if it was deleted since, so a
    stale choice can always be taken back.
    """
    if source == EVERYONE:
        return audience.toggle_everyone()
    if source == TAG:
        if not 0 <= item < len(tags):
            raise PickRefused(source)
        return audience.toggle_tag(tags[item])
    if source not in sources:
        raise PickRefused(source)
    known = {i for i, _name in await sources.get(source).choices(session, UTC)}  # ids only
    if item not in known and item not in audience.chosen(source):
        raise PickRefused(source)
    return audience.toggle_item(source, item)


async def recipients(session: AsyncSession, audience: Audience) -> int:
    """How many members the audience reaches now; NoRecipients if none."""
    count = await audiences.count(session, audience)
    if not count:
        raise NoRecipients(chosen=not audience.empty)
    return count

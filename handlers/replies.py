"""What a group message replies to, for features that are answered by replying.

Cadres answer a suggestion by replying to its card; the grievance feature must
leave such replies alone even when the suggestion quotes a case code. Both
read the recogniser here, so neither feature imports the other.
"""

from __future__ import annotations

import re

from telegram import Message
from telegram.ext import filters


class _RepliesToSuggestion(filters.MessageFilter):
    """A reply to the bot's card of a suggestion (or its reply prompt): "💡 … S-12 …" first."""

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        if replied is None or replied.from_user is None or not replied.from_user.is_bot:
            return False
        return suggestion_of(replied.text or "") is not None


def suggestion_of(text: str) -> int | None:
    """The suggestion a card or prompt names on its first line, or None."""
    match = _CARD_LINE.match(text)
    return int(match.group(1)) if match else None


_CARD_LINE = re.compile(r"💡[^\n]*?\bS-([0-9]{1,9})\b")  # not \d: other scripts' digits
REPLIES_TO_SUGGESTION = _RepliesToSuggestion()

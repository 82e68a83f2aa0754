"""How a message is known to be about a case: it replies to a bot message that names one.

Nothing is kept between the bot's message and the reply (see ARCHITECTURE.md,
"Replies and prompts"): the replied-to message carries the case code.
"""

from __future__ import annotations

from telegram import Message
from telegram.ext import filters

from storage import grievance_rules as rules


class _RepliesToBot(filters.MessageFilter):
    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return bool(replied and replied.from_user and replied.from_user.is_bot)


class _RepliesToCase(filters.MessageFilter):
    """A reply to one of the bot's messages that names a case code."""

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        if replied is None or replied.from_user is None or not replied.from_user.is_bot:
            return False
        return rules.find_code(replied.text or replied.caption) is not None


REPLIES_TO_BOT = _RepliesToBot()
REPLIES_TO_CASE = _RepliesToCase()

"""The states of the training conversations (``training_editor.mmd``; ``training_rating``: ``handlers/offering_ratings.mmd``).

Each live conversation's state is stored by number (`bot.persistence`), so a
conversation begun before a restart or a deploy continues in the same step:
these numbers never change, and a new state takes a new one.
"""

from __future__ import annotations

TITLE = 0
DESCRIPTION = 1
SESSION_START = 2
SESSION_END = 3
SESSION_PLACE = 4
MORE = 5
DEADLINE = 6
CAPACITY = 7
APPROVAL = 8
REQUIRED = 9
CONFIRM = 10
REASON = 11  # a cadre's reason for not approving a request (`handlers.trainings.requests`)
COMMENT = 12  # training_rating: a member's comment after their stars (`handlers.offering_ratings`)

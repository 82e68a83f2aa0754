"""The states of the activity conversations.

Each live conversation's state is stored by number (`bot.persistence`), so a
conversation begun before a restart or a deploy continues in the same step:
these numbers never change, and a new state takes a new one.
"""

from __future__ import annotations

# activity_editor (activity_editor.mmd)
TITLE = 0
DESCRIPTION = 1
PHOTO = 2
PLACE = 3
START = 4
END = 5
DEADLINE = 6
CAPACITY = 7
GUESTS = 8
AUDIENCE = 9
CONFIRM = 10

# activity_member_input (activity_member_input.mmd)
CODE = 11
COMMENT = 12

"""A newcomer's answers while they register: each checked as it is given.

The draft lives in the member's conversation between messages (a
`core.drafts` dataclass, so a restart keeps it typed) and becomes a member
only through :func:`register`, once the name and the department are in. The
rules for each answer are `storage.profile_rules`, the same as for editing a
profile later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from core import drafts
from storage import members
from storage.models import Member
from storage.profile_rules import clean_department, clean_name, parse_birthday


class Incomplete(ValueError):
    """The draft lacks the name or the department (it was lost, e.g. by a restart)."""


@drafts.draft("registration")
@dataclass
class RegistrationDraft:
    """What the newcomer has answered so far; None for a question not answered yet."""

    language: str | None = None
    name: str | None = None
    department: str | None = None
    birthday: date | None = None

    def answer_name(self, text: str) -> None:
        """Keep the typed name, cleaned (InvalidInput if it cannot be a name)."""
        self.name = clean_name(text)

    def answer_department(self, text: str) -> None:
        self.department = clean_department(text)

    def answer_birthday(self, text: str, today: date) -> None:
        """Keep the typed date of birth (InvalidInput if unreadable or implausible)."""
        self.birthday = parse_birthday(text, today)

    def skip_birthday(self) -> None:
        self.birthday = None

    @property
    def complete(self) -> bool:
        return self.name is not None and self.department is not None


async def register(
    session: AsyncSession,
    telegram_id: int,
    draft: RegistrationDraft,
    *,
    language: str,
    username: str | None = None,
) -> Member:
    """The member the draft describes (``language`` unless the draft chose one)."""
    if draft.name is None or draft.department is None:
        raise Incomplete()
    return await members.register(
        session,
        telegram_id=telegram_id,
        name=draft.name,
        department=draft.department,
        birthday=draft.birthday,
        language=draft.language or language,
        username=username,
    )

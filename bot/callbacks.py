"""Callback data: one typed codec, every button traceable to its handler.

Data is `prefix:field:field…`, at most 64 bytes. Parsing validates the shape
only; handlers still check that the presser may do what the button says, so a
forged press can do nothing its user could not do by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
_TOKEN = r"[A-Za-z0-9_-]{1,24}"
_REGISTRY: dict[str, CallbackAction] = {}


class InvalidCallback(ValueError):
    """Callback data that no current button could have produced."""


@dataclass(frozen=True)
class CallbackAction:
    """A button kind: a unique prefix and the types of its fields (int or str)."""

    prefix: str
    fields: tuple[type, ...] = ()

    def __post_init__(self) -> None:
        if self.prefix in _REGISTRY:
            raise ValueError(f"callback prefix {self.prefix!r} used twice")
        if not re.fullmatch(r"[a-z]{1,6}", self.prefix):
            raise ValueError(f"bad callback prefix {self.prefix!r}")
        _REGISTRY[self.prefix] = self

    @property
    def pattern(self) -> re.Pattern[str]:
        parts = [re.escape(self.prefix)]
        parts += [r"-?\d{1,19}" if kind is int else _TOKEN for kind in self.fields]
        return re.compile("^" + ":".join(parts) + "$")

    def pack(self, *values: int | str) -> str:
        if len(values) != len(self.fields):
            raise ValueError(f"{self.prefix} takes {len(self.fields)} values")
        data = ":".join([self.prefix, *(str(v) for v in values)])
        if len(data.encode()) > MAX_BYTES or not self.pattern.match(data):
            raise ValueError(f"cannot pack {data!r}")
        return data

    def unpack(self, data: str | None) -> tuple[int | str, ...]:
        if data is None or not self.pattern.match(data):
            raise InvalidCallback(data)
        raw = data.split(":")[1:]
        return tuple(int(v) if kind is int else v for kind, v in zip(self.fields, raw, strict=True))


def action(prefix: str, *fields: type) -> CallbackAction:
    return CallbackAction(prefix, tuple(fields))


def known_prefix(data: str | None) -> bool:
    return bool(data) and data.split(":", 1)[0] in _REGISTRY


# Every button of the bot, in one place --------------------------------------

# Membership
LANGUAGE = action("lang", str)  # language code
PROFILE_EDIT = action("pedit", str)  # field: name | dept | bday | nobday
FORGET_CONFIRM = action("fgok")
FORGET_ABORT = action("fgno")
CANCEL = action("cancel")

# Admin panel
ADMIN_HOME = action("adm")
ADMIN_MEMBERS = action("amem", int)  # page
ADMIN_MEMBER = action("amone", int, int)  # member id, page to return to
ADMIN_SET_ROLE = action("arole", int, str)  # member id, role
ADMIN_FIND = action("afind")
ADMIN_TAGS = action("atags", int)  # member id
ADMIN_DEPARTMENTS = action("adeps")
ADMIN_DEPARTMENT = action("adep", int)
ADMIN_DEPARTMENT_ADD = action("adepa")
ADMIN_DEPARTMENT_RENAME = action("adepr", int)
ADMIN_DEPARTMENT_DELETE = action("adepd", int)
ADMIN_DEPARTMENT_DELETE_CONFIRM = action("adepx", int)
ADMIN_GROUPS = action("agrps")
ADMIN_GROUP = action("agrp", int)
ADMIN_GROUP_ADD = action("agrpa")
ADMIN_GROUP_RENAME = action("agrpr", int)
ADMIN_GROUP_DELETE = action("agrpd", int)
ADMIN_GROUP_DELETE_CONFIRM = action("agrpx", int)

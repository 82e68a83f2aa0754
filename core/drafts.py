"""Conversation drafts as dataclasses that survive restarts.

A conversation keeps what the member has typed so far in ``user_data``, which
`bot.persistence` stores as JSON after every update. Decorating the draft's
dataclass with :func:`draft` registers it under a stable name, so the store
(`storage.conversations`) writes it as ``{"draft": name, fields…}`` and reads
back the same class with typed fields (dates as dates, tuples as tuples) —
never a ``dict[str, Any]`` of ISO strings re-parsed at every step.

The name, not the class path, is stored: moving a class keeps old rows
readable, and so does adding a field with a default (an older draft loads
with the default); renaming a field does not (a stored draft with unknown
fields, or missing one without a default, is refused and the conversation
starts over, like one that timed out).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_BY_NAME: dict[str, type[Any]] = {}
_NAME_OF: dict[type[Any], str] = {}


def draft(name: str) -> Callable[[type[T]], type[T]]:
    """Register a dataclass as a draft that may be kept between conversation steps."""

    def register(cls: type[T]) -> type[T]:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__} is not a dataclass")
        if name in _BY_NAME and _BY_NAME[name] is not cls:
            raise ValueError(f"draft name {name!r} used twice")
        _BY_NAME[name] = cls
        _NAME_OF[cls] = name
        return cls

    return register


def name_of(value: object) -> str | None:
    """The registered name of ``value``'s class, or None if it is no draft."""
    return _NAME_OF.get(type(value))


def fields_of(value: object) -> dict[str, Any]:
    """A draft's fields, shallow (the store encodes each value itself)."""
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}  # type: ignore[arg-type]  # a registered draft is a dataclass instance


def rebuild(name: str, fields: dict[str, Any]) -> Any:
    """The draft ``name`` with these fields; ValueError if it is unknown or they differ."""
    cls = _BY_NAME.get(name)
    if cls is None:
        raise ValueError(f"unknown draft {name!r}")
    known = [f for f in dataclasses.fields(cls) if f.init]
    # A field added since the draft was stored is filled with its default; a
    # field the code no longer has, or a new one without a default, refuses it.
    required = {
        f.name
        for f in known
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    if not required <= set(fields) <= {f.name for f in known}:
        raise ValueError(f"stored draft {name!r} has other fields than the code")
    return cls(**fields)

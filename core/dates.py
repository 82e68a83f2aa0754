"""Stored moments (UTC, aware) as the union reads them: in its zone, never the UTC date.

The one place a stored datetime becomes text or a local date. Display,
notices and storage (an audience item's label) all format through here, so no
screen shows the UTC day of an early-morning activity.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo


def local(moment: datetime, zone: tzinfo) -> datetime:
    """The moment in ``zone``; a naive datetime is refused, never guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a stored moment must be timezone-aware (UTC)")
    return moment.astimezone(zone)


def local_date(moment: datetime, zone: tzinfo) -> date:
    """The calendar day in ``zone``."""
    return local(moment, zone).date()


def day_text(moment: datetime, zone: tzinfo) -> str:
    """2026-12-08"""
    return local(moment, zone).strftime("%Y-%m-%d")


def month_day(moment: datetime, zone: tzinfo) -> str:
    """12-08"""
    return local(moment, zone).strftime("%m-%d")


def clock(moment: datetime, zone: tzinfo) -> str:
    """06:30"""
    return local(moment, zone).strftime("%H:%M")


def minute(moment: datetime, zone: tzinfo) -> str:
    """2026-12-08 06:30"""
    return local(moment, zone).strftime("%Y-%m-%d %H:%M")

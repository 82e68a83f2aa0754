"""The callback codec refuses anything a real button could not have produced."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram.ext import CallbackQueryHandler, ConversationHandler

from display import callbacks as cb


def test_round_trip() -> None:
    data = cb.ADMIN_MEMBER.pack(42, 3)
    assert data == "amone:42:3"
    assert cb.ADMIN_MEMBER.unpack(data) == (42, 3)
    assert cb.LANGUAGE.unpack(cb.LANGUAGE.pack("zh_CN")) == ("zh_CN",)


@pytest.mark.parametrize(
    "data", [None, "", "amone", "amone:42", "amone:42:3:9", "amone:x:3", "amone:42:3;drop", "lang:"]
)
def test_malformed_data_is_refused(data: str | None) -> None:
    action = cb.LANGUAGE if (data or "").startswith("lang") else cb.ADMIN_MEMBER
    with pytest.raises(cb.InvalidCallback):
        action.unpack(data)


def test_prefixes_are_unique() -> None:
    with pytest.raises(ValueError, match="used twice"):
        cb.action("amone", cb.MemberOnPage)


INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)


@given(INT32, INT32)
def test_every_packed_value_fits_telegram_limit(member_id: int, page: int) -> None:
    data = cb.ADMIN_MEMBER.pack(member_id, page)
    assert len(data.encode()) <= 64
    assert cb.ADMIN_MEMBER.unpack(data) == (member_id, page)


@given(st.text(max_size=80))
def test_random_data_never_crashes(data: str) -> None:
    with contextlib.suppress(cb.InvalidCallback):
        cb.ADMIN_SET_ROLE.unpack(data)


@pytest.mark.parametrize(
    "data",
    [
        "lang:en\n",  # `$` would match before the newline
        "lang:en\r",
        " lang:en",
        "amone:42:3\n",
        "amone:2147483648:0",  # past PostgreSQL's Integer
        "amone:-2147483649:0",
        "amone:9223372036854775808:0",  # past SQLite's 64 bits
        "amone:1234567890123456789:0",
        "amone:\u0663:0",  # an Arabic-Indic three: `\\d` takes it, int() reads it
        "pv:1:32768",  # a poll option's position is a SmallInteger
        "",
    ],
)
def test_strict_refusals(data: str) -> None:
    action = cb.action_of(data.strip() or "x")
    assert not cb.is_valid(data)
    for candidate in (cb.LANGUAGE, cb.ADMIN_MEMBER, cb.POLL_VOTE):
        assert not candidate.pattern(data)
        with pytest.raises(cb.InvalidCallback):
            candidate.unpack(data)
    assert action is None or action.pattern.match(data.strip())


def test_extremes_that_fit_are_taken() -> None:
    assert cb.ADMIN_MEMBER.unpack("amone:2147483647:-2147483648") == (2**31 - 1, -(2**31))
    assert cb.POLL_VOTE.unpack("pv:7:32767") == (7, 32767)
    with pytest.raises(ValueError, match="cannot pack"):
        cb.ADMIN_MEMBER.pack(2**31, 0)


@given(st.sampled_from(cb.all_actions()), st.data())
def test_every_action_round_trips_and_refuses_its_own_data_spoiled(
    action: cb.CallbackAction, data: st.DataObject
) -> None:
    values = [
        data.draw(st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True))
        if limit is None
        else data.draw(st.integers(limit.low, limit.high))
        for limit in action.ranges
    ]
    packed = action.pack(*values)
    assert action.unpack(packed) == tuple(values)
    assert cb.action_of(packed) is action
    spoiled = data.draw(
        st.sampled_from([packed + "\n", packed + ":", packed + ":1", packed[:-1] + "\x00"])
    )
    assert not action.pattern(spoiled) and not cb.is_valid(spoiled)


GARBAGE = ["lang:en\n", "amone:1234567890123456789:0", "adm ", "pv:1:32768", "x" * 100, "٣"]


def _callback_handlers(handlers: list[Any]) -> list[CallbackQueryHandler[Any, Any]]:
    found: list[CallbackQueryHandler[Any, Any]] = []
    for handler in handlers:
        if isinstance(handler, ConversationHandler):
            inner = list(handler.entry_points) + list(handler.fallbacks)
            inner += [h for state in handler.states.values() for h in state]
            found += _callback_handlers(inner)
        elif isinstance(handler, CallbackQueryHandler):
            found.append(handler)
    return found


def test_every_button_handler_refuses_garbage_and_the_guard_takes_it_first() -> None:
    """PTB gives empty data to every pattern handler: the guard must come first."""
    from telegram import Update

    from bot.app import build_application
    from core.settings import load_settings
    from handlers.guards import forged_button, wrong_chat_button

    settings = load_settings(
        telegram_bot_token="987654321:TEST-union-bot-token-abcdefghijklmnop",
        database_url="sqlite+aiosqlite:///:memory:",
        secret_key="k" * 32,
    )
    application = build_application(settings, rate_limiter=False)
    by_group = sorted(application.handlers.items())
    handlers = [h for _, group in by_group for h in _callback_handlers(group)]
    patterned = [
        h
        for h in handlers
        if h.pattern is not None
        # the metrics wrap each callback (bot.metrics); the guard's own are compared unwrapped
        and getattr(h.callback, "__wrapped__", h.callback) not in (forged_button, wrong_chat_button)
    ]
    assert len(patterned) > 100
    for handler in patterned:
        assert isinstance(handler.pattern, cb.CallbackPattern), handler.callback
        assert not any(handler.pattern(data) for data in GARBAGE), handler.callback
    chat = {"id": 1, "type": "private", "first_name": "X"}
    for data in ["", *GARBAGE]:
        message = {"message_id": 1, "date": 1, "chat": chat, "text": "menu"}
        query = {
            "id": "1",
            "from": {"id": 1, "is_bot": False, "first_name": "X"},
            "chat_instance": "1",
            "data": data,
            "message": message,
        }
        update = Update.de_json({"update_id": 1, "callback_query": query}, None)
        first = next(h for h in handlers if h.check_update(update))
        assert getattr(first.callback, "__wrapped__", first.callback) is forged_button, data

"""The callback codec refuses anything a real button could not have produced."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import callbacks as cb


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
        cb.action("amone", int)


@given(st.integers(min_value=-(10**18), max_value=10**18), st.integers(0, 10**6))
def test_every_packed_value_fits_telegram_limit(member_id: int, page: int) -> None:
    data = cb.ADMIN_MEMBER.pack(member_id, page)
    assert len(data.encode()) <= 64
    assert cb.ADMIN_MEMBER.unpack(data) == (member_id, page)


@given(st.text(max_size=80))
def test_random_data_never_crashes(data: str) -> None:
    with contextlib.suppress(cb.InvalidCallback):
        cb.ADMIN_SET_ROLE.unpack(data)

"""A getUpdates answer with unreadable updates still parses, and every id is kept."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import Update

from bot.updates import Once, readable_updates

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
KIND = st.sampled_from(["message", "edited_message", "callback_query", "channel_post", "x"])


@st.composite
def raw_update(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)  # not even an object with an id
    fields = draw(st.dictionaries(KIND, JSON, max_size=2))
    return {"update_id": draw(st.integers(1, 10**9)), **fields}


@given(st.lists(raw_update(), max_size=6))
def test_anything_becomes_a_list_the_library_parses(result: list[Any]) -> None:
    kept = readable_updates(result)
    assert Update.de_list(kept, None) is not None  # PTB's own parse of the whole answer
    ids = [
        u["update_id"] for u in result if isinstance(u, dict) and type(u.get("update_id")) is int
    ]
    assert [u["update_id"] for u in kept] == ids


def test_one_line_per_bad_update_and_no_content(caplog: pytest.LogCaptureFixture) -> None:
    bad = {"update_id": 12, "message": {"text": "秘密", "from": {"id": 4242424242}}}
    good = {
        "update_id": 13,
        "message": {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}},
    }
    once = Once()
    with caplog.at_level(logging.INFO):
        for _ in range(3):  # the same answer again, as after a restart
            assert readable_updates([bad, good], once) == [{"update_id": 12}, good]
        assert readable_updates([["no", "id"]], once) == []
    assert [r.getMessage() for r in caplog.records] == [
        "skipped update 12: message the library cannot parse (TypeError)",
        "skipped an update without an id: not an object (list)",
    ]
    assert "4242424242" not in caplog.text and "秘密" not in caplog.text

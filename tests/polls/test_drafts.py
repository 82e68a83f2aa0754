"""The new-poll draft: each tap on the card changes one thing or is refused, and the draft
comes back from the conversation store as itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import conversations as store
from storage.audiences import Audience
from storage.poll_drafts import EDITS, NewPoll, preview
from storage.poll_rules import (
    CLOSING_PRESETS,
    EXTEND_CHOICES,
    MAX_OPTIONS,
    NotOffered,
    extension,
)
from storage.profile_rules import InvalidInput

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def a_draft(*options: str) -> NewPoll:
    draft = NewPoll(nonce=7)
    draft.ask("午餐吃什么？")
    draft.add_options("\n".join(options))
    return draft


def test_options_come_one_per_line_and_a_refused_line_keeps_those_before_it() -> None:
    draft = a_draft("面条", "米饭")
    assert draft.options == ["面条", "米饭"] and draft.enough_options
    with pytest.raises(InvalidInput, match="duplicate"):
        draft.add_options("饺子\n面条\n包子")
    assert draft.options == ["面条", "米饭", "饺子"]


def test_done_needs_two_options_and_ten_is_the_most() -> None:
    draft = a_draft("只有一个")
    with pytest.raises(InvalidInput, match="too_few_options"):
        draft.finish_options()
    draft.add_options("\n".join(f"选项{i}" for i in range(2, MAX_OPTIONS + 1)))
    assert draft.options_done
    with pytest.raises(InvalidInput, match="too_many_options"):
        draft.add_options("再来一个")


def test_finishing_the_options_caps_the_maximum_choices() -> None:
    draft = a_draft("甲", "乙")
    draft.max_choices = 5
    draft.finish_options()
    assert draft.max_choices == 2


def test_the_maximum_rounds_from_two_to_every_option_and_only_for_multiple_choice() -> None:
    draft = a_draft("甲", "乙", "丙", "丁")
    with pytest.raises(NotOffered):
        draft.change("max")  # a single-choice card has no such button
    draft.change("kind")
    seen = []
    for _ in range(4):
        draft.change("max")
        seen.append(draft.max_choices)
    assert seen == [3, 4, 2, 3]


def test_closing_presets_go_round_and_a_typed_time_replaces_them() -> None:
    draft = a_draft("甲", "乙")
    assert draft.closing(NOW) == NOW + timedelta(hours=72)
    hours = []
    for _ in CLOSING_PRESETS:
        draft.change("close")
        hours.append(draft.closing_hours)
    assert hours == [168, 0, 24, 72]
    draft.close_at(NOW + timedelta(days=2))
    assert (draft.closing_hours, draft.closing(NOW)) == (0, NOW + timedelta(days=2))
    draft.change("close")
    assert (draft.closing_hours, draft.closes_at) == (24, None)


@given(st.text(max_size=12))
def test_a_setting_no_card_shows_is_refused_and_changes_nothing(setting: str) -> None:
    draft = a_draft("甲", "乙")
    before = store.dumps(draft)
    if setting in EDITS:
        return
    with pytest.raises(NotOffered):
        draft.change(setting)
    assert store.dumps(draft) == before


def test_a_draft_comes_back_from_the_store_as_itself() -> None:
    draft = a_draft("甲", "乙")
    draft.close_at(NOW + timedelta(days=3))
    draft.choose(Audience(items={"dept": frozenset({3, 1})}, tags=frozenset({"夜班"})))
    draft.tags = ["夜班"]
    back = store.loads(store.dumps({"draft_poll": draft}))["draft_poll"]
    assert isinstance(back, NewPoll) and back == draft
    assert back.audience == draft.audience
    assert isinstance(back.closes_at, datetime)


def test_the_poll_to_publish_and_its_preview() -> None:
    draft = a_draft("甲", "乙", "丙")
    poll = draft.as_poll(NOW)
    assert (poll.multiple, poll.max_choices, poll.closes_at) == (
        False,
        1,
        NOW + timedelta(hours=72),
    )
    draft.change("kind")
    assert draft.as_poll(NOW).max_choices == 2
    view = preview(draft.as_poll(NOW))
    assert view.id == 0 and view.is_open and view.options == ("甲", "乙", "丙")


def test_only_the_offered_extensions_are_accepted() -> None:
    assert [extension(hours) for hours in EXTEND_CHOICES] == [
        timedelta(hours=hours) for hours in EXTEND_CHOICES
    ]
    for hours in (0, -24, 25, 10**6):
        with pytest.raises(NotOffered):
            extension(hours)

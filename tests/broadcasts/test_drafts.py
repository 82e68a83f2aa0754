"""The broadcast draft: what it takes, when it reads as formatted, and that it persists."""

from __future__ import annotations

import json

import pytest

from storage import conversations as store
from storage.audiences import Audience
from storage.broadcast_drafts import NewBroadcast
from storage.broadcast_rules import CAPTION_MAX, ContentError, MarkupError


def test_taking_content_reads_it_plain_and_starts_the_audience_over() -> None:
    draft = NewBroadcast(nonce=3)
    assert not draft.has_content
    draft.take("<b>开会</b>", "&lt;b&gt;开会&lt;/b&gt;", None)
    draft.choose(Audience(everyone=True))
    draft.toggle_format()
    draft.take("明天开会", "明天开会", ("photo", "file-1"))
    assert draft.has_content and not draft.formatted and draft.audience.empty
    content = draft.content()
    assert (content.text, content.media_kind, content.media_file_id) == (
        "明天开会",
        "photo",
        "file-1",
    )


def test_content_that_cannot_be_sent_is_refused_and_the_draft_kept() -> None:
    draft = NewBroadcast(nonce=3)
    with pytest.raises(ContentError, match="empty"):
        draft.take("  ", "  ", None)
    assert not draft.has_content
    with pytest.raises(ContentError, match="too_long"):
        draft.take("字" * (CAPTION_MAX + 1), "", ("document", "file-2"))
    draft.take("", "", ("photo", "file-3"))  # a bare photo needs no text
    assert draft.has_content and not draft.can_format


def test_formatted_only_when_telegram_would_accept_the_markup() -> None:
    draft = NewBroadcast(nonce=3)
    draft.take("<b>开会", "&lt;b&gt;开会", None)
    with pytest.raises(MarkupError, match="unclosed"):
        draft.toggle_format()
    assert not draft.formatted
    draft.take("<b>开会</b>", "&lt;b&gt;开会&lt;/b&gt;", None)
    draft.toggle_format()
    assert draft.content().text == "<b>开会</b>" and draft.content().formatted
    draft.toggle_format()
    assert draft.content().text == "&lt;b&gt;开会&lt;/b&gt;"


def test_the_picker_page_never_goes_below_the_first() -> None:
    draft = NewBroadcast(nonce=3)
    draft.turn_page(-4)
    assert draft.page == 0
    draft.turn_page(2)
    assert draft.page == 2


def test_a_draft_comes_back_from_the_store_as_itself() -> None:
    draft = NewBroadcast(nonce=3)
    draft.take("通知", "通知", ("document", "file-4"))
    draft.choose(Audience(items={"group": frozenset({2})}))
    back = store.loads(store.dumps({"draft_broadcast": draft}))["draft_broadcast"]
    assert isinstance(back, NewBroadcast) and back == draft
    assert back.media == ("document", "file-4") and back.audience == draft.audience


def test_a_draft_stored_before_english_versions_loads_without_one() -> None:
    draft = NewBroadcast(nonce=3)
    draft.take("通知", "通知", None)
    stored = json.loads(store.dumps({"draft_broadcast": draft}))
    fields = stored["draft_broadcast"]["v"]
    del fields["source_en"], fields["plain_en"]  # as the previous version stored it
    back = store.loads(json.dumps(stored))["draft_broadcast"]
    assert isinstance(back, NewBroadcast) and back == draft
    assert not back.has_english and back.content().text_en is None


def test_the_english_version_follows_the_same_rules() -> None:
    draft = NewBroadcast(nonce=3)
    draft.take("开会", "开会", ("photo", "file-5"))
    with pytest.raises(ContentError, match="empty"):
        draft.take_english("  ", "  ")  # a photo may go bare; an English version may not
    with pytest.raises(ContentError, match="too_long"):
        draft.take_english("x" * (CAPTION_MAX + 1), "")
    draft.take_english("<b>Meeting", "&lt;b&gt;Meeting")
    with pytest.raises(MarkupError, match="unclosed") as refused:
        draft.toggle_format()
    assert refused.value.english and not draft.formatted
    draft.take_english("<b>Meeting</b>", "&lt;b&gt;Meeting&lt;/b&gt;")
    draft.toggle_format()
    content = draft.content()
    assert (content.text, content.text_en) == ("开会", "<b>Meeting</b>")
    assert content.for_language("en").text == "<b>Meeting</b>"
    assert content.for_language("zh_CN").text == "开会"
    # New Chinese content drops the English version with it.
    draft.take("改期", "改期", None)
    assert not draft.has_english

"""The rules under conversation persistence: the draft codec, the sealing, and the wiring checks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram.ext import ApplicationBuilder, CommandHandler, ConversationHandler

from bot.persistence import DatabasePersistence
from core import drafts
from storage import conversations as store
from storage.crypto import DecryptionError
from tests.support.config import SECRET

OTHER_SECRET = "another-secret-key-0123456789abcdef0123456789"

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.dates()
    | st.datetimes()
    | st.datetimes(timezones=st.just(UTC))
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(values)
def test_drafts_come_back_as_the_same_values_and_types(value: Any) -> None:
    back = store.loads(store.dumps(value))
    assert back == value
    assert type(back) is type(value)


def test_tags_cannot_be_forged_by_a_draft_that_looks_like_one() -> None:
    draft = {"$": "tuple", "v": [1, 2]}
    assert store.loads(store.dumps(draft)) == draft


class Colour(StrEnum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


def test_enums_are_kept_as_their_plain_values() -> None:
    assert store.loads(store.dumps({"c": Colour.RED, "l": Level.HIGH})) == {"c": "red", "l": 3}


@pytest.mark.parametrize(
    "value",
    [{1, 2}, object(), {1: "秘密内容"}, float("nan"), b"bytes", {"x": [datetime.now]}],
)
def test_anything_but_plain_values_is_refused_not_pickled(value: Any) -> None:
    with pytest.raises(TypeError) as raised:
        store.dumps(value)
    assert "秘密内容" not in str(raised.value)  # names the type, never the content


def test_rows_are_keyed_by_a_hash_that_links_nothing() -> None:
    sealer = store.Sealer(SECRET)
    key = (600000001, 600000001)
    names = {sealer.conversation_key(n, key) for n in ("registration", "grievance_submit")}
    assert len(names | {sealer.user_key(600000001)}) == 3
    assert all("600000001" not in k and len(k) == 64 for k in names)
    assert store.Sealer(OTHER_SECRET).user_key(600000001) != sealer.user_key(600000001)


def test_a_sealed_row_opens_only_under_its_key_and_secret() -> None:
    sealer = store.Sealer(SECRET)
    expires = datetime(2026, 11, 24, 2, 30, 15, tzinfo=UTC)
    row = store.ConversationRow("grievance_submit", (5, 5), 3, expires)
    key, sealed = sealer.seal_conversation(row)
    assert sealer.open(key, sealed) == row
    user_key, user_sealed = sealer.seal_user(store.UserRow(5, {"draft": {"text": "秘密"}}))
    assert "秘密" not in user_sealed
    with pytest.raises(DecryptionError):
        sealer.open(user_key, sealed)  # moved to another row
    with pytest.raises(DecryptionError):
        store.Sealer(OTHER_SECRET).open(key, sealed)
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(DecryptionError):
        sealer.open(key, tampered)


def test_expiry_is_rounded_up_to_the_minute() -> None:
    at = datetime(2026, 11, 24, 2, 30, 15, tzinfo=UTC)
    assert store.coarse(at) == datetime(2026, 11, 24, 2, 31, tzinfo=UTC)
    assert store.coarse(at.replace(second=0)) == at.replace(second=0)
    assert store.coarse(at) - at < timedelta(minutes=1)


def _application(handler: ConversationHandler[Any]) -> Any:
    persistence = DatabasePersistence()
    application = ApplicationBuilder().token("1:x").persistence(persistence).build()
    application.add_handler(handler)
    return application, persistence


async def _step(update: object, context: object) -> int:
    return 0


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"name": "x", "persistent": True}, "no conversation_timeout"),
        (
            {"name": "x", "persistent": True, "per_user": False, "conversation_timeout": 60},
            "per user",
        ),
    ],
)
def test_a_conversation_that_would_not_survive_a_restart_is_refused(
    options: dict[str, Any], complaint: str
) -> None:
    handler = ConversationHandler(
        entry_points=[CommandHandler("x", _step)], states={0: []}, fallbacks=[], **options
    )
    application, persistence = _application(handler)
    with pytest.raises(RuntimeError, match=complaint):
        persistence.attach(application)


def test_a_conversation_without_persistent_is_refused() -> None:
    persistence = DatabasePersistence()
    application = ApplicationBuilder().token("1:x").persistence(persistence).build()
    application.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("x", _step)],
            states={0: []},
            fallbacks=[],
            name="forgetful",
            conversation_timeout=60,
        )
    )
    with pytest.raises(RuntimeError, match="persistent=True"):
        persistence.attach(application)


@drafts.draft("test-trip")
@dataclass
class _TripDraft:
    title: str
    starts: datetime | None = None
    day: date | None = None
    seats: tuple[int, int] = (0, 0)
    tags: list[str] = field(default_factory=list)


def test_a_draft_dataclass_comes_back_as_itself_with_typed_fields() -> None:
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    kept = _TripDraft("春游", starts=when, day=when.date(), seats=(3, 1), tags=["a"])
    back = store.loads(store.dumps({"draft": kept}))["draft"]
    assert isinstance(back, _TripDraft)
    assert back == kept
    assert isinstance(back.starts, datetime) and isinstance(back.seats, tuple)


def test_a_stored_draft_whose_fields_changed_is_refused() -> None:
    stored = store.dumps(_TripDraft("x")).replace('"tags"', '"labels"')
    with pytest.raises(ValueError, match="other fields"):
        store.loads(stored)
    with pytest.raises(ValueError, match="unknown draft"):
        store.loads(stored.replace("test-trip", "gone"))


def test_a_draft_stored_before_a_field_was_added_loads_with_its_default() -> None:
    stored = store.dumps(_TripDraft("x", tags=["a"]))
    older = json.loads(stored)
    older["v"].pop("tags")  # as stored by the version before `tags` existed
    back = store.loads(json.dumps(older))
    assert back == _TripDraft("x", tags=[])
    older["v"].pop("title")  # a field without a default cannot be made up
    with pytest.raises(ValueError, match="other fields"):
        store.loads(json.dumps(older))

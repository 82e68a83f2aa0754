"""Uploads through the outbox, on SQLite and PostgreSQL: the bytes go in with the row,
come back for the request, survive a retry and are gone once the row is final."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import outbox
from storage.db import transaction
from storage.models import OutboxFile
from tests.support.clock import T0
from tests.support.config import CADRE_CHAT, SECRET
from tests.support.media import make_png

PNG = make_png(40, 30)
BOOK = b"PK\x03\x04 a workbook's bytes \x00\xff" * 50


def upload(key: str, name: str, content: bytes, method: str = "sendPhoto") -> outbox.Outgoing:
    parameter = "photo" if method == "sendPhoto" else "document"
    return outbox.Outgoing(
        key=key,
        kind="test",
        chat_id=CADRE_CHAT,
        payload=outbox.payload(method, **{parameter: outbox.uploaded(name)}),
        upload=outbox.Upload(name, content),
    )


async def files(sessions: async_sessionmaker[AsyncSession]) -> dict[str, tuple[str, bytes]]:
    async with sessions() as session:
        rows = await session.execute(select(OutboxFile))
        return {f.outbox_key: (f.name, bytes(f.content)) for (f,) in rows}


async def add(sessions: async_sessionmaker[AsyncSession], *items: outbox.Outgoing) -> int:
    async with transaction(sessions) as session:
        return await outbox.enqueue_many(session, items, now=T0)


async def test_an_upload_round_trips_and_leaves_with_its_final_row(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    photo = upload("f:photo", "chart.png", PNG)
    book = upload("f:book", "report.xlsx", BOOK, "sendDocument")
    assert await add(sessions, photo, book) == 2
    # A second enqueue (a re-run) creates nothing and keeps the first bytes.
    assert await add(sessions, upload("f:photo", "chart.png", b"other bytes")) == 0
    assert await files(sessions) == {
        "f:photo": ("chart.png", PNG),
        "f:book": ("report.xlsx", BOOK),
    }

    first, second = await outbox.claim(sessions, "w1", T0, 10)
    assert first.key == "f:photo" and first.uploads and second.uploads
    method, params = first.open(None)
    assert (method, params["photo"]) == ("sendPhoto", {"upload": "chart.png"})
    async with sessions() as session:
        attached = await outbox.attach_upload(session, first.key, params)
    assert attached["photo"] == outbox.Upload("chart.png", PNG)
    assert attached["chat_id"] == CADRE_CHAT

    t1 = T0 + timedelta(seconds=5)
    async with transaction(sessions) as session:
        await outbox.start(session, [first.id, second.id], "w1", now=t1)
        # A 429 on the photo: it waits again, bytes and all.
        await outbox.record_results(
            session,
            [
                outbox.Result(first, outbox.Event.RETRY, error="429", backoff=timedelta(seconds=3)),
                outbox.Result(second, outbox.Event.SENT, telegram_message_id=9),
            ],
            now=t1,
        )
    assert set(await files(sessions)) == {"f:photo"}

    (again,) = await outbox.claim(sessions, "w1", t1 + timedelta(seconds=3), 10)
    assert again.key == "f:photo"
    async with transaction(sessions) as session:
        await outbox.start(session, [again.id], "w1", now=t1)
        assert await outbox.record_sent(session, again, now=t1, telegram_message_id=10)
    assert await files(sessions) == {}


async def test_cancelled_and_recovered_rows_drop_their_files(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add(sessions, upload("f:a", "a.png", PNG), upload("f:b", "b.png", PNG))
    async with transaction(sessions) as session:
        await outbox.enqueue(
            session,
            key="f:c",
            kind="test",
            chat_id=CADRE_CHAT,
            payload=outbox.payload("sendPhoto", photo=outbox.uploaded("c.png")),
            group_key="batch",
            upload=outbox.Upload("c.png", PNG),
            now=T0,
        )
        assert await outbox.cancel_group(session, "batch", now=T0) == 1
    assert set(await files(sessions)) == {"f:a", "f:b"}
    # A worker dies mid-request: the at-most-once row fails and its file goes.
    a, _ = await outbox.claim(sessions, "dead", T0, 10)
    async with transaction(sessions) as session:
        await outbox.start(session, [a.id], "dead", now=T0)
    later = T0 + timedelta(minutes=5)
    async with transaction(sessions) as session:
        found = await outbox.recover_interrupted(session, now=later, lease=timedelta(minutes=1))
    assert (found.dropped, found.released) == (1, 1)
    assert set(await files(sessions)) == {"f:b"}


async def test_a_missing_file_is_a_payload_error(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    params = {"chat_id": 1, "photo": outbox.uploaded("gone.png")}
    async with sessions() as session:
        with pytest.raises(outbox.PayloadError):
            await outbox.attach_upload(session, "f:none", params)
        # No upload named: the parameters as they are.
        assert await outbox.attach_upload(session, "f:none", {"text": "x"}) == {"text": "x"}


async def test_uploads_must_match_their_payload(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    named = outbox.payload("sendPhoto", photo=outbox.uploaded("a.png"))
    cases = [
        # The payload names a file the row does not carry…
        outbox.Outgoing(key="x1", kind="t", chat_id=CADRE_CHAT, payload=named),
        # …or another one…
        outbox.Outgoing(
            key="x2",
            kind="t",
            chat_id=CADRE_CHAT,
            payload=named,
            upload=outbox.Upload("b.png", PNG),
        ),
        # …or none at all.
        outbox.Outgoing(
            key="x3",
            kind="t",
            chat_id=CADRE_CHAT,
            payload=outbox.payload("sendPhoto", photo="file-id"),
            upload=outbox.Upload("a.png", PNG),
        ),
        # Sealed rows (to a person) carry no uploads.
        outbox.Outgoing(
            key="x4",
            kind="t",
            chat_id=42,
            payload=named,
            sensitive=True,
            upload=outbox.Upload("a.png", PNG),
        ),
    ]
    for case in cases:
        async with transaction(sessions) as session:
            with pytest.raises(outbox.PayloadError):
                await outbox.enqueue_many(
                    session, [case], now=T0, cipher=outbox.outbox_cipher(SECRET)
                )
    assert await files(sessions) == {}

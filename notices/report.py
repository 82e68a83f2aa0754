"""The scheduled report's messages to the cadre group: summary, charts and workbook, once a month.

Every part is an outbox row with a unique key (``report:<month>:text``,
``report:<month>:chart:<name>``, ``report:<month>:xlsx``), written in one
transaction: run twice or on two instances, the group gets each once, and the
delivery worker sends the files (kept in ``outbox_files``) and retries them
like any other row. One priority and one instant, so the worker takes them in
the order written: the summary, the charts, the workbook.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from display.report import Picture
from storage import outbox

KIND = "report"


def key_of(label: str) -> str:
    return f"report:{label}:text"


def chart_key(label: str, name: str) -> str:
    return f"report:{label}:chart:{name}"


def workbook_key(label: str) -> str:
    return f"report:{label}:xlsx"


def _row(
    key: str, chat_id: int, body: dict[str, object], upload: outbox.Upload | None = None
) -> outbox.Outgoing:
    # At least once: a chart sent twice after a crash beats a month without one.
    return outbox.Outgoing(
        key=key,
        kind=KIND,
        chat_id=chat_id,
        payload=body,
        group_key=f"report:{key.split(':')[1]}",
        priority=outbox.PRIORITY_NOTICE,
        at_most_once=False,
        upload=upload,
    )


async def post(
    session: AsyncSession,
    *,
    chat_id: int,
    label: str,
    text: str,
    pictures: Sequence[Picture],
    workbook: bytes,
    workbook_name: str,
    now: datetime,
) -> bool:
    """Enqueue the month's summary, every chart and the workbook; True only for the run that did.

    The summary goes first, then the charts in their order, then the workbook.
    """
    rows = [_row(key_of(label), chat_id, outbox.payload("sendMessage", text=text))]
    for picture in pictures:
        file_name = f"{picture.name}.png"
        rows.append(
            _row(
                chart_key(label, picture.name),
                chat_id,
                outbox.payload("sendPhoto", photo=outbox.uploaded(file_name)),
                upload=outbox.Upload(file_name, picture.png),
            )
        )
    rows.append(
        _row(
            workbook_key(label),
            chat_id,
            outbox.payload("sendDocument", document=outbox.uploaded(workbook_name)),
            upload=outbox.Upload(workbook_name, workbook),
        )
    )
    created = await outbox.enqueue_many(session, rows, now=now)
    return created > 0


async def posted(session: AsyncSession, label: str) -> bool:
    """Whether the month's report is already in the outbox (whatever became of it)."""
    return bool(await outbox.statuses(session, [key_of(label)]))

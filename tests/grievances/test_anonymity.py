"""Anonymity as a security property: after a full scripted scenario, the union side holds
no trace of who wrote the cases — not in what the groups received, not in the logs at
DEBUG, not in the XLSX export, not in any column of the grievance tables without the key.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from bot.logs import NOISY, configure_logging
from tests.support.chat import register
from tests.support.config import CADRE_CHAT, ESCALATION_CHAT, TOKEN
from tests.support.grievances import World, cases, submit, tick
from tests.support.media import PNG, real_pdf
from tests.support.outbox import delivered

GRIEVANCE_TABLES = (
    "grievances",
    "grievance_messages",
    "grievance_posts",
    "grievance_audit",
    "grievance_categories",
    "grievance_options",
)
OGG = b"OggS" + b"\x00" * 80


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The sandbox plays Telegram, which knows its users; only the bot's logs count.
        if not record.name.startswith("sandbox"):
            self.lines.append(f"{record.name} {record.getMessage()} {record.exc_text or ''}")


@pytest.fixture
def debug_logs() -> Iterator[Capture]:
    """The production logging set-up (bot.logs) at LOG_LEVEL=DEBUG, captured."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in NOISY})
    configure_logging("DEBUG", [TOKEN])
    capture = Capture()
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


def _hits(haystack: str, needles: list[str]) -> list[str]:
    folded = haystack.casefold()
    return [n for n in needles if n.casefold() in folded]


async def test_nobody_on_the_union_side_can_tell_who_wrote(
    world: World, debug_logs: Capture
) -> None:
    bot, cadre = world.bot, world.cadre
    writer = await bot.driver.create_user(
        "Xiuying", last_name="Zhang", username="zhang_xiuying_secret", user_id=555123001
    )
    await register(bot, writer, "张秀英", "装配车间")
    second = await bot.driver.create_user("Jun", username="li_jun_hidden", user_id=555123002)
    await register(bot, second, "李俊", "装配车间")
    needles = [
        "张秀英", "Xiuying", "zhang_xiuying_secret", "555123001",
        "李俊", "li_jun_hidden", "555123002",
        "韩梅梅", "hanmeimei", str(world.member.id),
    ]  # fmt: skip

    first = await submit(
        bot,
        writer,
        "夜班连续三周没有加班费。",
        files=[
            ("photo", PNG, "工资条"),
            ("document", real_pdf("张秀英"), "张秀英-记录.pdf"),
            ("voice", OGG, ""),
        ],
    )
    safety = await submit(
        bot, second, "叉车刹车失灵，随时可能出事。", category="⛑ 安全", urgency=None
    )
    other = await submit(bot, world.member, "食堂价格上涨。", category="🍚 食堂")
    card = next(m for m in await bot.driver.messages(CADRE_CHAT) if m.text and first.code in m.text)
    await cadre.press_data(card.message_id, f"gvtake:{first.id}", chat=CADRE_CHAT)
    await cadre.send("已转交财务核实。", chat=CADRE_CHAT, reply_to=card.message_id)
    await delivered(bot)
    answer = await writer.last_bot_message()
    sent = await writer.send("谢谢，共二十一天。", reply_to=answer.message_id)
    await writer.edit(sent.message_id, "谢谢，共二十二天。")
    await writer.send_voice(OGG, reply_to=answer.message_id)
    bot.clock.advance(hours=80)
    await tick(bot)
    card = next(m for m in await bot.driver.messages(CADRE_CHAT) if m.text and first.code in m.text)
    await cadre.press_data(card.message_id, f"gvresy:{first.id}", chat=CADRE_CHAT)
    await delivered(bot)
    await writer.press("5⭐")
    await writer.send("满意。")
    other_card = next(
        m for m in await bot.driver.messages(CADRE_CHAT) if m.text and other.code in m.text
    )
    await cadre.press_data(other_card.message_id, f"gvmute:{other.id}:7", chat=CADRE_CHAT)
    await cadre.send("/grievance_stats", chat=CADRE_CHAT)
    await cadre.send("/cases", chat=CADRE_CHAT)
    await cadre.send(f"/case {safety.code}", chat=CADRE_CHAT)
    await delivered(bot)

    # 1. Everything the cadre and escalation groups received.
    seen: list[str] = []
    export: bytes | None = None
    for chat in (CADRE_CHAT, ESCALATION_CHAT):
        for message in await bot.driver.messages(chat):
            if message.from_id == cadre.id:
                continue  # the cadre's own words
            seen.append(json.dumps(message.raw, ensure_ascii=False))
            if message.media is not None and (message.media.file_name or "").endswith(".xlsx"):
                export = await bot.driver.download(message.media.url)
            elif message.media is not None and message.media.kind == "document":
                # The file itself, as a cadre would open it: the author's name was inside.
                data = await bot.driver.download(message.media.url)
                for needle in needles:
                    for encoding in ("utf-8", "utf-16-be"):
                        assert needle.encode(encoding) not in data, needle
    for call in await bot.driver.calls():
        if str(call.params.get("chat_id")) in (str(CADRE_CHAT), str(ESCALATION_CHAT)):
            params = dict(call.params)
            # Where Telegram copies a voice note from: an instruction to Telegram, which
            # knows its users; the message the group gets is checked above.
            params.pop("from_chat_id", None)
            seen.append(json.dumps(params, ensure_ascii=False))
    assert len(seen) > 20 and any(first.code in s for s in seen)
    assert _hits("\n".join(seen), needles) == []

    # 2. The logs, at DEBUG with the production caps.
    assert any(first.code in line for line in debug_logs.lines)
    leaks = [line[:300] for line in debug_logs.lines if _hits(line, needles)]
    assert leaks == []

    # 3. The XLSX export.
    assert export is not None
    book = load_workbook(io.BytesIO(export))
    cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row]
    # The month under way is never split by department (two asks a day apart would
    # differ by exactly the cases in between).
    assert not any("装配车间" in c for c in cells)
    assert _hits("\n".join(cells), needles) == []

    # 4. Every column of the grievance tables, read without the key.
    dump: list[str] = []
    async with bot.runtime.engine.connect() as conn:
        for table in GRIEVANCE_TABLES:
            for row in (await conn.execute(text(f"SELECT * FROM {table}"))).all():
                dump.append(" ".join(str(v) for v in row))
        members = " ".join(
            str(v) for row in (await conn.execute(text("SELECT * FROM members"))).all() for v in row
        )
        outbox_rows: list[Any] = (
            await conn.execute(text("SELECT key, kind, payload FROM outbox"))
        ).all()
    assert "张秀英" in members and "555123001" in members  # the search can find them
    assert len(dump) > 20 and _hits("\n".join(dump), needles) == []
    assert "夜班" not in "\n".join(dump)  # bodies are sealed too
    links = [c.link for c in await cases(bot)]
    assert all(link and link.startswith("v1.") for link in links) and len(set(links)) == 3
    # Rows to a member's chat name no case: keys are keyed hashes, payloads sealed or gone.
    codes = [c.code for c in await cases(bot)]
    for key, kind, payload in outbox_rows:
        if kind in ("notice", "grievance"):
            assert not any(code in key for code in codes) or kind == "grievance"
            assert payload is None or "sealed" in str(payload)

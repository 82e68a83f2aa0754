"""A leaked database, attacked: without SECRET_KEY, no pulse answer leads to a member.

Members are asked, some answer (minutes apart, with comments) through the
chat, the questions are delivered; then the database is taken as a thief would
take it (the SQLite file with its ``-wal``; a ``pg_dump``) and attacked:

* any pulse answer, or pulse outbox row, holding a member's id or Telegram id;
* any instant kept with an answer (only its day may be kept), or any member-side
  row with a time within seconds of a moment somebody answered;
* the comments' words in the bytes of the file, its log or the dump.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.bot import BotHarness
from tests.support.clock import shanghai
from tests.support.dumps import Tables, steal, times
from tests.support.members import add_person
from tests.support.pulse import QUESTION, run_pulse, switch_on

NEAR = timedelta(seconds=10)
COMMENTS = [f"希望第{i}车间的夜班食堂延长到凌晨{i + 1}点。" for i in range(4)]
MEMBER_SIDE = ("members", "activity_signups", "training_enrolments", "suggestions")


def _attack(tables: Tables, answered_at: list[datetime]) -> list[str]:
    members = tables["members"]
    by_id = {m["id"] for m in members}
    by_telegram = {m["telegram_id"] for m in members}
    found: list[str] = []
    pulse_outbox = [r for r in tables["outbox"] if str(r["key"]).startswith("pulse")]
    for row in tables["pulse_answers"]:
        for column, value in row.items():
            if column in ("id", "month_id", "stars"):
                continue
            if isinstance(value, int) and (value in by_id or value in by_telegram):
                found.append(f"pulse_answers.{column} holds a member's id {value}")
        found += [f"answer {row['id']} keeps the instant {t}" for t in times(row)]
    for row in pulse_outbox:
        if row["chat_id"] in by_telegram or row["member_id"] is not None:
            found.append(f"outbox row {row['key']} names its member")
        if any(str(i) in str(row["key"]).split(":")[-1] for i in by_telegram):
            found.append(f"outbox key {row['key']} holds a Telegram id")
    member_rows: list[tuple[str, dict[str, Any]]] = [("members", m) for m in members]
    for table in MEMBER_SIDE[1:]:
        member_rows += [(table, r) for r in tables.get(table, [])]
    member_rows += [
        ("outbox", r)
        for r in tables["outbox"]
        if r["chat_id"] in by_telegram or r["member_id"] in by_id
    ]
    for table, row in member_rows:
        for moment in times(row):
            if any(abs(moment - other) <= NEAR for other in answered_at):
                found.append(f"{table} row at {moment} is near an answer")
    return found


async def test_a_stolen_database_names_no_one_who_answered(bot: BotHarness, tmp_path: Path) -> None:
    people = [await add_person(bot, f"会员{i}") for i in range(8)]
    await switch_on(bot)
    bot.clock.now = shanghai(2026, 12, 1, 10, 3)
    assert await run_pulse(bot) == len(people)
    answered_at = []
    for i, person in enumerate(people[:6]):
        bot.clock.advance(minutes=7)
        assert QUESTION in ((await person.bot_messages())[-1].text or "")
        await person.press(f"{i % 3 + 3}⭐")
        answered_at.append(bot.clock.now)
        if i < len(COMMENTS):
            await person.send(COMMENTS[i])
        else:
            await person.send("⏭ 跳过")
        assert "感谢您的回答" in ((await person.last_bot_message()).text or "")
    blob, tables = await steal(bot, tmp_path)
    assert len(tables["pulse_answers"]) == 6
    assert [w for w in COMMENTS if w.encode() in blob] == []
    assert _attack(tables, answered_at) == []

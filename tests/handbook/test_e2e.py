"""The handbook end to end: a member browses, searches in Chinese and English, and
is offered entries for text the bot could not place; cadres read what was not found."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import func, select

from storage import handbook
from storage.models import HandbookMiss, HandbookMonthMiss, HandbookSearchMonth
from tests.support.bot import BotHarness
from tests.support.chat import buttons, registered, registered_admin, registered_cadre
from tests.support.clock import shanghai
from tests.support.handbook import entry_buttons, entry_id, open_handbook, search


async def test_browse_topics_entries_and_related(bot: BotHarness) -> None:
    wang = await registered(bot, "王小明")
    contents = await open_handbook(wang)
    assert "职工服务手册" in contents.text
    assert {
        "📂 会员权益",
        "📂 困难职工帮扶",
        "📂 法律援助",
        "📂 入会与会费",
        "📂 联系方式",
        "📂 常见问题",
    } <= set(buttons(contents))
    await wang.press("📂 法律援助")
    topic = await wang.last_bot_message()
    assert "法律援助" in topic.text
    assert entry_buttons(topic) == ["劳动争议法律援助", "工资被拖欠怎么办"]
    await wang.press("📄 工资被拖欠怎么办")
    entry = await wang.last_bot_message()
    assert "保存工资条" in entry.text and "相关条目：" in entry.text
    assert entry_buttons(entry) == ["劳动争议法律援助"]
    await wang.press("📄 劳动争议法律援助")
    assert "12351" in (await wang.last_bot_message()).text
    await wang.press("« 返回")
    assert "📂 法律援助" in (await wang.last_bot_message()).text
    await wang.press("« 返回")
    assert "请选择主题" in (await wang.last_bot_message()).text

    # A forged or stale button: a clear answer, the contents again.
    await wang.press_data(contents.message_id, "hbe:99999")
    assert "已经没有这一项" in (await wang.callback_answers())[-1].text
    await wang.press_data(contents.message_id, "hbt:99999999999", unchecked=True)
    assert "按钮已失效" in (await wang.callback_answers())[-1].text


async def test_search_in_chinese_english_and_by_synonym(bot: BotHarness) -> None:
    wang = await registered(bot, "王小明")
    found = await search(wang, "困难帮扶怎么申请")
    assert "手册中关于“困难帮扶怎么申请”的内容" in found.text
    assert entry_buttons(found)[0] == "如何申请困难职工帮扶"

    # 薪水 is nowhere in the handbook: the synonym group 工资/薪酬/薪水 finds 工资 entries.
    assert entry_buttons(await search(wang, "薪水"))[0] == "工资被拖欠怎么办"
    # English finds the English texts (and a plural finds the singular).
    assert entry_buttons(await search(wang, "legal aid"))[0] == "劳动争议法律援助"
    assert "如何加入工会" in entry_buttons(await search(wang, "How do I join the union"))

    # In English, the entries read in English.
    await wang.send("/language")
    await wang.press("English")
    english = await search(wang, "dues")
    assert entry_buttons(english)[0] == "How union dues are paid"

    # Through the prompt: 🔍 Search, then type.
    await wang.press("🔍 Search")
    assert "Type a few keywords" in (await wang.last_bot_message()).text
    await wang.send("hotline")
    assert "Union office contacts" in entry_buttons(await wang.last_bot_message())


async def test_nothing_found_is_counted_without_the_member(bot: BotHarness) -> None:
    wang = await registered(bot, "王小明")
    cadre = await registered_cadre(bot)
    for _ in range(2):
        nothing = await search(wang, "停车位 ")
        assert "没有找到与“停车位”相关的内容" in nothing.text
    await search(wang, "x" * 101)  # too long: said, not searched, not stored
    assert "太长" in (await wang.last_bot_message()).text
    await search(wang, "工资")  # found: counted, its text not kept
    async with bot.runtime.sessions() as session:
        rows = list(await session.scalars(select(HandbookMiss)))
        monthly = list(await session.scalars(select(HandbookMonthMiss)))
        months = list(await session.scalars(select(HandbookSearchMonth)))
    assert [(r.query, r.count) for r in rows] == [("停车位", 2)]
    assert [(r.month, r.query, r.count) for r in monthly] == [(date(2026, 11, 1), "停车位", 2)]
    assert [(r.month, r.searches, r.found) for r in months] == [(date(2026, 11, 1), 3, 1)]
    # No member, no time but the month bucket.
    assert set(HandbookMiss.__table__.columns.keys()) == {"query", "count"}
    assert set(HandbookMonthMiss.__table__.columns.keys()) == {"month", "query", "count"}
    assert set(HandbookSearchMonth.__table__.columns.keys()) == {"month", "searches", "found"}

    await wang.send("/handbook_misses")
    assert "只有工会干部" in (await wang.last_bot_message()).text
    await cadre.send("/handbook_misses")
    assert "2 × 停车位" in (await cadre.last_bot_message()).text
    assert "/handbook_misses 本月" in (await cadre.last_bot_message()).text

    # Next month: this month's list is empty, all time still has it.
    bot.clock.now = shanghai(2026, 12, 1, 0, 30)
    await cadre.send("/handbook_misses 本月")
    assert "本月还没有无结果的搜索" in (await cadre.last_bot_message()).text
    await search(wang, "停车位")
    await cadre.send("/handbook_misses 本月")
    month = (await cadre.last_bot_message()).text
    assert "2026-12 无结果的搜索" in month and "1 × 停车位" in month
    await cadre.send("/handbook_misses")
    assert "3 × 停车位" in (await cadre.last_bot_message()).text

    # Free text the bot offers entries for is no search: nothing counted.
    await wang.send("我的工资被拖欠了三个月，怎么办")
    await wang.send("停车位在哪里申请呢同事说找工会")
    async with bot.runtime.sessions() as session:
        december = await session.get(HandbookSearchMonth, date(2026, 12, 1))
        assert december is not None and (december.searches, december.found) == (1, 0)
        assert await session.scalar(select(func.count()).select_from(HandbookMonthMiss)) == 2


async def test_admin_adds_a_synonym_group(bot: BotHarness) -> None:
    admin = await registered_admin(bot)
    cadre = await registered_cadre(bot)
    assert entry_buttons(await search(admin, "停车")) == []
    await cadre.send("/handbook_synonyms 停车 会费")
    assert "只有管理员" in (await cadre.last_bot_message()).text
    await admin.send("/handbook_synonyms 停车")
    assert "至少写两个不同的词" in (await admin.last_bot_message()).text
    await admin.send("/handbook_synonyms 停车，会费")
    assert "停车 / 会费" in (await admin.last_bot_message()).text
    assert entry_buttons(await search(admin, "停车"))[0] == "会费怎么缴纳"


async def test_free_text_is_offered_entries_first(bot: BotHarness) -> None:
    wang = await registered(bot, "王小明")
    sent = await wang.send("我的工资被拖欠了三个月，怎么办")
    offer = await wang.last_bot_message()
    assert "职工服务手册里这些内容也许有帮助" in offer.text
    assert offer.reply_to == sent.message.message_id
    offered = entry_buttons(offer)
    assert 1 <= len(offered) <= 3 and offered[0] == "工资被拖欠怎么办"
    await wang.press("📄 工资被拖欠怎么办")
    assert "保存工资条" in (await wang.last_bot_message()).text

    await wang.send("qwertyuiop")  # nothing matches: not understood, and the menu
    assert "没有看懂" in (await wang.last_bot_message()).text
    assert await entry_id(bot, "工资被拖欠怎么办") > 0


async def test_the_dictionary_loads_after_start_up_not_during_it(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its thread would slow the first answers; a search before it has loaded still works."""
    from bot import app
    from tests.support.bot import fresh_bot

    warmed: list[str] = []
    monkeypatch.setattr(handbook.segmenter, "_tokenizer", None)
    monkeypatch.setattr(handbook, "warm_up", lambda: warmed.append("loaded"))
    monkeypatch.setattr(app, "WARM_UP_AFTER", 3600.0)
    async with fresh_bot(sqlite_url) as bot:
        wang = await registered(bot, "王小明")
        assert warmed == []  # started and answering, not loading it yet
        assert entry_buttons(await search(wang, "工资"))[0] == "工资被拖欠怎么办"
        assert handbook.segmenter._tokenizer is not None  # the search loaded it itself
    monkeypatch.setattr(app, "WARM_UP_AFTER", 0.0)
    async with fresh_bot(sqlite_url) as bot:
        await asyncio.gather(*app._BACKGROUND)
        assert warmed == ["loaded"]  # no search: loaded all the same

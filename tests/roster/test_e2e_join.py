"""A newcomer joins with the one-time code the union handed out: once, in time, not by guessing."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from storage.crypto import Cipher, DecryptionError
from storage.models import RosterEntry
from storage.roster import LINK_PURPOSE
from tests.support.bot import BotHarness
from tests.support.chat import newest, registered_admin
from tests.support.config import ADMIN_ID, SECRET
from tests.support.members import member_row, sessions_of
from tests.support.roster import code_list, codes_by_name, import_roster, roster_csv


async def issued(bot: BotHarness) -> dict[str, str]:
    admin = await registered_admin(bot)
    await import_roster(bot, admin, roster_csv(), "花名册.csv")
    return codes_by_name(await code_list(bot, admin))


async def test_a_code_at_start_registers_with_the_rosters_data(bot: BotHarness) -> None:
    codes = await issued(bot)
    user = await bot.driver.create_user("Fang")
    await user.send(f"/start {codes['王芳'].lower()}")
    offer = await newest(user)
    assert "验证码有效" in offer.content and "姓名：王芳" in offer.content
    assert "部门：装配车间" in offer.content and "1990-05-03" in offer.content
    assert await member_row(bot, user) is None  # only once confirmed
    await user.press("✅ 是我，为我登记")
    assert "王芳" in (await newest(user, "欢迎")).content
    member = await member_row(bot, user)
    assert member is not None and member.name == "王芳"
    assert member.department is not None and member.department.name == "装配车间"
    assert member.tag_names == sorted(["困难职工", "女工"])
    # The entry's link to the account is sealed: neither ids appear in the row.
    async with sessions_of(bot)() as session:
        entry = await session.scalar(select(RosterEntry).where(RosterEntry.name == "王芳"))
    assert entry is not None and entry.link is not None
    assert entry.link.startswith("v1.") and str(user.id) not in entry.link


async def test_the_join_deep_link_works_once(bot: BotHarness) -> None:
    codes = await issued(bot)
    user = await bot.driver.create_user("Zhang")
    await user.send(f"/start join_{codes['张伟']}")
    await user.press("✅ 是我，为我登记")
    assert (await member_row(bot, user)) is not None
    other = await bot.driver.create_user("Someone")
    await other.send(f"/start join_{codes['张伟']}")
    assert "该验证码已被使用" in (await newest(other)).content
    assert await member_row(bot, other) is None
    await user.send(f"/start join_{codes['李娜']}")
    assert "您已经登记过了" in (await newest(user)).content


async def test_a_code_expires(bot: BotHarness) -> None:
    codes = await issued(bot)
    bot.clock.advance(days=bot.settings.roster_code_days, seconds=1)
    user = await bot.driver.create_user("Li")
    await user.send(f"/start join_{codes['李娜']}")
    assert "该验证码已过期" in (await newest(user)).content
    assert await member_row(bot, user) is None


async def test_wrong_codes_are_rate_limited(bot: BotHarness) -> None:
    codes = await issued(bot)
    user = await bot.driver.create_user("Guesser")
    for guess in ("AAAAAAAA", "BBBBBBBB", "CCCCCCCC", "DDDDDDDD", "EEEEEEEE"):
        await user.send(f"/start join_{guess}")
        assert "验证码不正确" in (await newest(user)).content
    await user.send(f"/start join_{codes['李娜']}")  # even the right one, for an hour
    assert "错误的验证码次数过多" in (await newest(user)).content
    bot.clock.advance(hours=1, minutes=1)
    await user.send(f"/start join_{codes['李娜']}")
    assert "验证码有效" in (await newest(user)).content


async def test_a_forged_confirm_button_registers_nobody(bot: BotHarness) -> None:
    await issued(bot)
    user = await bot.driver.create_user("Forger")
    await user.send("/start join_ZZZZZZZZ")
    assert "验证码不正确" in (await newest(user)).content
    sent = await newest(user)
    await user.press_data(sent.message_id, "rjn:ZZZZZZZZ")
    assert "验证码不正确" in (await newest(user)).content
    assert await member_row(bot, user) is None


async def test_a_dump_without_the_key_cannot_join_entry_and_account(bot: BotHarness) -> None:
    """Every roster column, as a dump shows it, names neither the member nor the account;
    times are days; with the key the link opens (ARCHITECTURE.md, "Anonymity")."""
    codes = await issued(bot)
    user = await bot.driver.create_user("Fang")
    await user.send("/start join_AAAAAAAA")  # one wrong attempt first
    await user.send(f"/start join_{codes['王芳']}")
    await user.press("✅ 是我，为我登记")
    member = await member_row(bot, user)
    assert member is not None
    async with sessions_of(bot)() as session:
        dumped = [
            [str(v) for v in row]
            for table in ("roster_entries", "roster_code_attempts")
            for row in (await session.execute(text(f"SELECT * FROM {table}"))).all()
        ]
        entry = await session.scalar(select(RosterEntry).where(RosterEntry.name == "王芳"))
    assert entry is not None and entry.link is not None
    for row in dumped:
        assert str(user.id) not in " ".join(row)
        assert str(member.id) not in row[1:]  # row[0] is the row's own id
    assert all(t.hour == 0 and t.minute == 0 for t in (entry.created_at, entry.updated_at))
    assert Cipher(SECRET, LINK_PURPOSE).decrypt(entry.link, str(entry.id)) == str(member.id)
    with pytest.raises(DecryptionError):
        Cipher("another-key-0123456789abcdef0123456789", LINK_PURPOSE).decrypt(
            entry.link, str(entry.id)
        )


async def test_forget_destroys_the_roster_link_and_a_new_import_gives_a_new_code(
    bot: BotHarness,
) -> None:
    codes = await issued(bot)
    user = await bot.driver.create_user("Gone")
    await user.send(f"/start join_{codes['李娜']}")
    await user.press("✅ 是我，为我登记")
    await user.send("/forget")
    await user.press("是的，删除我的数据")
    assert await member_row(bot, user) is None
    async with sessions_of(bot)() as session:
        entry = await session.scalar(select(RosterEntry).where(RosterEntry.name == "李娜"))
    assert entry is not None and entry.link is None and entry.code_hash is None
    admin = await bot.driver.user(ADMIN_ID)
    await import_roster(bot, admin, roster_csv(), "花名册.csv")
    assert list(codes_by_name(await code_list(bot, admin))) == ["李娜"]

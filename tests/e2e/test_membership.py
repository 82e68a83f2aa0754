"""Membership end to end: a real bot against the sandbox, driven like a person."""

from __future__ import annotations

from telegram import BotCommandScopeChat, BotCommandScopeChatMember

from core.i18n import translator
from tests.support.bot import BotHarness, fresh_bot, running_bot
from tests.support.chat import flat, register
from tests.support.config import CADRE_CHAT
from tests.support.members import member_row
from tests.support.outbox import delivered

ZH = translator("zh_CN").gettext
ZH_MENU = {"👤 我的资料", "🌐 语言", "❓ 帮助"}


async def test_registration_in_chinese(bot: BotHarness) -> None:
    user = await bot.driver.create_user("Xiaoming", last_name="Wang", language_code="zh-hans")
    await user.send("/start")
    welcome = await user.last_bot_message()
    assert "请选择语言" in welcome.text and "Please choose your language" in welcome.text
    assert [b[0] for b in welcome.buttons[0]] == ["简体中文", "English"]

    await user.press("简体中文")
    prompt = await user.last_bot_message()
    assert "您叫什么名字" in prompt.text
    assert "Xiaoming Wang" in flat(await user.reply_keyboard())

    await user.send("王小明")
    assert "部门" in (await user.last_bot_message()).text
    await user.send("装配车间")
    assert "生日" in (await user.last_bot_message()).text
    await user.send("1990-13-01")
    assert "日期不存在" in (await user.last_bot_message()).text
    await user.send("1990年5月3日")
    summary = await user.last_bot_message()
    assert "王小明" in summary.text and "装配车间" in summary.text and "1990-05-03" in summary.text
    await user.send("✅ 确认")

    done = await user.last_bot_message()
    assert "王小明" in done.text and "注册" in done.text
    menu = flat(await user.reply_keyboard())
    assert menu >= ZH_MENU and "🛠 管理" not in menu
    row = await member_row(bot, user.id)
    assert row is not None
    assert (row.name, row.language, row.role, str(row.birthday)) == (
        "王小明",
        "zh_CN",
        "member",
        "1990-05-03",
    )


async def test_registration_in_english_with_known_department_and_skip(bot: BotHarness) -> None:
    first = await bot.driver.create_user("First")
    await register(bot, first, "First", "Canteen")
    user = await bot.driver.create_user("Mary", language_code="en")
    await user.send("/start")
    await user.press("English")
    await user.send("Mary Major")
    assert "Canteen" in flat(await user.reply_keyboard())
    await user.send("canteen")  # case differs: still the known department
    await user.send("⏭ Skip")
    assert "Birthday: not given" in (await user.last_bot_message()).text
    await user.send("✅ Confirm")
    assert {"👤 My profile", "🌐 Language", "❓ Help"} <= flat(await user.reply_keyboard())
    row = await member_row(bot, user.id)
    assert row is not None and row.department is not None
    assert row.department.name == "Canteen" and row.birthday is None and row.language == "en"


async def test_cancel_mid_registration_saves_nothing(bot: BotHarness) -> None:
    user = await bot.driver.create_user("Lei")
    await user.send("/start")
    await user.press("简体中文")
    await user.send("李雷")
    await user.send("/cancel")
    assert "已取消" in (await user.last_bot_message()).text
    assert not flat(await user.reply_keyboard())
    assert await member_row(bot, user.id) is None
    # The department step no longer listens: the text is just unknown now.
    await user.send("装配车间")
    assert "/start" in (await user.last_bot_message()).text


async def test_cancel_button_in_profile_edit(bot: BotHarness) -> None:
    user = await bot.driver.create_user("Han")
    await register(bot, user, "韩梅梅")
    await user.send("👤 我的资料")
    await user.press("✏️ 姓名")
    await user.send("✖️ 取消")
    assert "没有任何更改" in (await user.last_bot_message()).text
    row = await member_row(bot, user.id)
    assert row is not None and row.name == "韩梅梅"


async def test_profile_edits(bot: BotHarness) -> None:
    user = await bot.driver.create_user("Han")
    await register(bot, user, "韩梅梅")
    await user.send("/profile")
    profile = await user.last_bot_message()
    assert "韩梅梅" in profile.text and "装配车间" in profile.text
    await user.press("✏️ 姓名")
    await user.send("名" * 65)
    assert "太长" in (await user.last_bot_message()).text
    await user.send("韩 梅梅")
    await user.press("🏢 部门")
    await user.send("质检科")
    await user.press("🎂 生日")
    await user.send("明天")
    assert "无法识别" in (await user.last_bot_message()).text
    await user.send("1988-02-29")
    assert "1988-02-29" in (await user.last_bot_message()).text
    await user.press("删除生日")
    await user.press(ZH("✖️ Keep it"))  # asked first: kept
    row = await member_row(bot, user.id)
    assert row is not None and str(row.birthday) == "1988-02-29"
    assert "1988-02-29" in (await user.last_bot_message()).text
    await user.press("删除生日")
    asked = ZH("Remove your birthday from your profile? You will no longer get birthday wishes.")
    assert asked in (await user.last_bot_message()).text
    await user.press(ZH("✅ Remove"))
    row = await member_row(bot, user.id)
    assert row is not None
    assert (row.name, row.department.name if row.department else None, row.birthday) == (
        "韩 梅梅",
        "质检科",
        None,
    )
    assert "未填写" in (await user.last_bot_message()).text
    # A stale or forged ✅ Remove with no birthday left changes nothing and says so.
    card = await user.last_bot_message()
    await user.press_data(card.message_id, "pedit:rmbday")
    assert ZH("Your profile has no birthday to remove.") in (await user.callback_answers())[-1].text
    assert "未填写" in (await user.last_bot_message()).text


async def test_language_switch_changes_menu(bot: BotHarness) -> None:
    user = await bot.driver.create_user("Tom")
    await register(bot, user, "Tom")
    await user.send("🌐 语言")
    await user.press("English")
    assert "Language: English" in (await user.bot_messages())[-2].text
    assert {"👤 My profile", "🌐 Language", "❓ Help"} <= flat(await user.reply_keyboard())
    await user.send("❓ Help")
    assert "/profile" in (await user.last_bot_message()).text
    row = await member_row(bot, user.id)
    assert row is not None and row.language == "en"


async def test_the_command_menu_follows_the_chosen_language(bot: BotHarness) -> None:
    """The app is in Chinese; the member picks English: their "/" menu is English."""
    user = await bot.driver.create_user("Tom", language_code="zh-hans")
    await register(bot, user, "Tom")
    assert ("profile", ZH("Your profile")) in await user.commands()
    await user.send("🌐 语言")
    await user.press("English")
    own = await bot.application.bot.get_my_commands(scope=BotCommandScopeChat(user.id))
    assert ("profile", "Your profile") in [(c.command, c.description) for c in own]
    assert "new_activity" not in {c.command for c in own}  # a member's commands only
    assert ("profile", "Your profile") in await user.commands()
    await user.send("🌐 Language")
    await user.press("简体中文")
    assert ("profile", ZH("Your profile")) in await user.commands()


async def test_an_english_app_with_chinese_chosen_gets_chinese_commands(bot: BotHarness) -> None:
    user = await bot.driver.create_user("Lin", language_code="en")
    await register(bot, user, "林")  # chooses 简体中文 at registration
    assert ("profile", ZH("Your profile")) in await user.commands()


async def test_a_promoted_cadre_gets_cadre_commands_in_their_language(bot: BotHarness) -> None:
    member = await bot.driver.create_user("Cadre", language_code="zh-hans")
    await register(bot, member, "Cadre")
    await member.send("🌐 语言")
    await member.press("English")
    admin = await bot.driver.user(900000001)
    await admin.send("/admin")
    await admin.press("👥 会员")
    await admin.press("Cadre · 装配车间")
    await admin.press("⭐ 设为干部")
    scope = BotCommandScopeChatMember(CADRE_CHAT, member.id)
    listed = await bot.application.bot.get_my_commands(scope=scope)
    assert ("cases", "Open grievances, oldest first") in [
        (c.command, c.description) for c in listed
    ]
    await admin.press("设为普通会员")
    assert await bot.application.bot.get_my_commands(scope=scope) == ()


async def test_help_explains_anonymity_in_both_languages(bot: BotHarness) -> None:
    user = await bot.driver.create_user("Anna", language_code="zh-hans")
    await register(bot, user, "安娜")
    days = bot.settings.grievance_link_retention_days
    for t in (translator("zh_CN"), translator("en")):
        if t.language == "en":
            await user.send("/language")
            await user.press("English")
        await user.send("/help")
        text = (await user.last_bot_message()).text
        assert t.gettext("How your grievance stays anonymous") in text
        assert str(days) in text and "/forget" in text
        signed = t.gettext(
            "Your name reaches cadres only if you choose to sign a case in 📂 My cases, "
            "and then on that case alone."
        )
        assert signed in text


async def test_forget_deletes_personal_data(bot: BotHarness) -> None:
    user = await bot.driver.create_user("Gone")
    await register(bot, user, "张三")
    await user.send("/forget")
    await user.press("不，保留")
    assert await member_row(bot, user.id) is not None
    await user.send("/forget")
    await user.press("是的，删除我的数据")
    assert await member_row(bot, user.id) is None
    assert not flat(await user.reply_keyboard())
    await user.send("/profile")
    assert "/start" in (await user.last_bot_message()).text


async def test_member_cannot_use_admin(bot: BotHarness) -> None:
    user = await bot.driver.create_user("Curious")
    await register(bot, user, "好奇")
    await user.send("/admin")
    assert "只有工会管理员" in (await user.last_bot_message()).text
    row = await member_row(bot, user.id)
    assert row is not None
    # A forged button press that would promote them changes nothing.
    profile_message = (await user.bot_messages())[-1]
    await user.press_data(profile_message.message_id, f"arole:{row.id}:admin")
    answers = await user.callback_answers()
    assert "只有工会管理员" in answers[-1].text
    row = await member_row(bot, user.id)
    assert row is not None and row.role == "member"


async def test_admin_promotes_a_cadre_who_gets_the_group_link(bot: BotHarness) -> None:
    member = await bot.driver.create_user("Future cadre")
    await register(bot, member, "未来干部")
    admin = await bot.driver.user(900000001)
    await admin.send("/admin")
    panel = await admin.last_bot_message()
    assert "管理面板" in panel.text
    await admin.press("👥 会员")
    await admin.press("未来干部 · 装配车间")
    await admin.press("⭐ 设为干部")
    card = await admin.last_bot_message()
    assert "干部" in card.text
    row = await member_row(bot, member.id)
    assert row is not None and row.role == "cadre"
    await delivered(bot)  # the member is told through the outbox
    note = await member.last_bot_message()
    assert "干部" in note.text and "https://t.me/+" in note.text
    # Demoted again: told, and removed from the cadre group.
    await admin.press("设为普通会员")
    row = await member_row(bot, member.id)
    assert row is not None and row.role == "member"
    await delivered(bot)
    assert "角色现在是：会员" in (await member.last_bot_message()).text
    calls = await bot.driver.calls(method="banChatMember")
    assert calls and str(calls[-1].params["user_id"]) == str(member.id)


async def test_member_stays_registered_across_restart(database_url: str) -> None:
    async with fresh_bot(database_url) as first:
        user = await first.driver.create_user("Stays", user_id=555000111)
        await register(first, user, "留下")
    async with running_bot(database_url) as second:
        user = await second.driver.create_user("Stays", user_id=555000111)
        await user.send("/start")
        assert "欢迎回来，留下" in (await user.last_bot_message()).text

"""Members and activities end to end: browse, sign up, waitlist, promotion, deadline, deep link."""

from __future__ import annotations

from dataclasses import replace

from storage import members
from storage.audiences import Audience
from storage.db import transaction
from tests.support.activities import activity_row, draft, published
from tests.support.bot import BotHarness
from tests.support.media import make_png
from tests.support.members import add_person
from tests.support.outbox import delivered


async def test_browse_sign_up_full_waitlist_and_promotion(bot: BotHarness) -> None:
    activity = await published(bot, draft(bot, capacity=2))
    wang, li, zhao = [await add_person(bot, n) for n in ("王小明", "李雷", "赵敏")]

    await wang.send("🎉 活动")
    listing = await wang.last_bot_message()
    assert "近期活动" in listing.text
    label = next(b.text for row in listing.buttons for b in row if "篮球友谊赛" in b.text)
    assert "剩 2 席" in label
    await wang.press(label)
    card = await wang.last_bot_message()
    assert "剩余席位：2 / 2" in card.text
    assert "&lt;b&gt;" not in card.text and "<b>友谊</b>" in card.text  # escaped, shown as typed
    await wang.press("✅ 报名")
    card = await wang.last_bot_message()
    assert "您已获得席位" in card.text and "剩余席位：1 / 2" in card.text

    for person in (li, zhao):
        await person.send("/activities")
        await person.press(
            next(
                b.text
                for r in (await person.last_bot_message()).buttons
                for b in r
                if "篮球" in b.text
            )
        )
    await li.press("✅ 报名")
    # Zhao's card was drawn before it filled up: the same button now queues him.
    await zhao.press("✅ 报名")
    assert "候补第 1 位" in ((await zhao.callback_answers())[-1].text or "")
    zhao_card = await zhao.last_bot_message()
    assert "候补第 1 位" in zhao_card.text and "已满" in zhao_card.text
    assert (await activity_row(bot, activity.id)).seats_taken == 2

    # Wang gives up the seat: Zhao, first in line, gets it and is told at once.
    await wang.press("❌ 取消报名")
    assert "报名" in (await wang.last_bot_message()).text
    await delivered(bot)
    notice = await zhao.last_bot_message()
    assert "空出一个席位" in notice.text and "篮球友谊赛" in notice.text
    assert (await activity_row(bot, activity.id)).seats_taken == 2


async def test_deadline_and_cancelled_activity_are_refused(bot: BotHarness) -> None:
    activity = await published(bot, draft(bot, capacity=5))
    user = await add_person(bot, "王小明")
    await user.send("/activities")
    await user.press(next(b.text for r in (await user.last_bot_message()).buttons for b in r))
    bot.clock.advance(days=2)  # past the deadline, card still shows the old button
    await user.press("✅ 报名")
    answer = (await user.callback_answers())[-1]
    assert answer.show_alert and "报名已于" in (answer.text or "") and "截止" in (answer.text or "")
    assert (await activity_row(bot, activity.id)).seats_taken == 0
    assert "报名已截止" in (await user.last_bot_message()).text


async def test_an_activity_for_a_department_is_hidden_from_others(bot: BotHarness) -> None:
    insider = await add_person(bot, "王小明", department="质检科")
    outsider = await add_person(bot, "李雷", department="装配车间")
    async with transaction(bot.runtime.sessions) as session:
        department = await members.department_by_name(session, "质检科")
    await published(
        bot,
        draft(bot, "质检技能比武", audience=Audience(items={"dept": frozenset({department.id})})),
    )
    await insider.send("/activities")
    assert "质检技能比武" in str((await insider.last_bot_message()).buttons)
    await outsider.send("/activities")
    assert "质检技能比武" not in str((await outsider.last_bot_message()).buttons)


async def test_deep_link_opens_the_activity_and_newcomers_see_it_after_registering(
    bot: BotHarness,
) -> None:
    activity = await published(bot, draft(bot, "读书分享会"))
    known = await add_person(bot, "王小明")
    await known.send(f"/start act_{activity.id}")
    assert "读书分享会" in (await known.last_bot_message()).text

    newcomer = await bot.driver.create_user("Lin")
    await newcomer.send(f"/start act_{activity.id}")
    await newcomer.press("简体中文")
    await newcomer.send("林新")
    await newcomer.send("装配车间")
    await newcomer.send("⏭ 跳过")
    await newcomer.send("✅ 确认")
    last = await newcomer.last_bot_message()
    assert "读书分享会" in last.text and last.button("✅ 报名") is not None
    await newcomer.send(f"/start act_{activity.id + 999}")
    assert "不存在" in (await newcomer.last_bot_message()).text


async def test_a_link_no_button_of_ours_could_carry_opens_the_plain_start(
    bot: BotHarness,
) -> None:
    """An id too big for the column, or a digit int() refuses, is no link: no error, no lookup."""
    known = await add_person(bot, "王小明")
    await known.send("/start")
    plain = (await known.last_bot_message()).text
    for payload in ("act_99999999999", "act_2147483648", "trn_²", "act_", "xyz_1"):
        await known.send(f"/start {payload}")
        assert (await known.last_bot_message()).text == plain, payload


async def test_interest_groups_open_their_activities(bot: BotHarness) -> None:
    async with transaction(bot.runtime.sessions) as session:
        group = await members.add_group(session, "摄影协会", "每月外拍一次")
    await published(
        bot, draft(bot, "江边晨光外拍", audience=Audience(items={"group": frozenset({group.id})}))
    )
    user = await add_person(bot, "张丽")
    await user.send("🎯 兴趣小组")
    await user.press("摄影协会 · 0")
    assert "每月外拍一次" in (await user.last_bot_message()).text
    await user.press("➕ 加入")
    assert "您已在这个小组中" in (await user.last_bot_message()).text
    await user.send("/activities")
    assert "江边晨光外拍" in str((await user.last_bot_message()).buttons)
    await user.send("/groups")
    await user.press("✅ 摄影协会 · 1")
    await user.press("退出小组")
    await user.send("/activities")
    assert "江边晨光外拍" not in str((await user.last_bot_message()).buttons)


async def test_forged_presses_do_nothing(bot: BotHarness) -> None:
    async with transaction(bot.runtime.sessions) as session:
        department = await members.department_by_name(session, "质检科")
    hidden = await published(
        bot,
        draft(bot, "质检技能比武", audience=Audience(items={"dept": frozenset({department.id})})),
    )
    user = await add_person(bot, "李雷", department="装配车间")
    await user.send("/activities")
    message_id = (await user.last_bot_message()).message_id
    for data in (
        f"acs:{hidden.id}:0",  # sign up for an activity not meant for them
        f"acm:{hidden.id}",  # open the cadres' panel
        f"acck:{hidden.id}",  # cancel it
        "acs:99999:0",  # an activity that does not exist
        f"acmk:{hidden.id}:1:0",  # tick someone present
    ):
        await user.press_data(message_id, data)
    answers = [a.text or "" for a in await user.callback_answers()]
    assert "面向其他会员群体" in answers[0]
    assert all("工会干部" in a for a in answers[1:3]) and "工会干部" in answers[4]
    assert "不存在" in answers[3]
    row = await activity_row(bot, hidden.id)
    assert (row.status, row.seats_taken) == ("published", 0)


async def test_a_link_shows_the_poster_as_the_list_does(bot: BotHarness) -> None:
    """The poster (the activity's photo) comes with the card, by link or from the list."""
    known = await add_person(bot, "王小明")
    sent = await bot.application.bot.send_photo(known.id, make_png(40, 30, (200, 40, 40)))
    poster = sent.photo[-1].file_id
    value = replace(draft(bot, "摄影外拍"), photo_file_id=poster)
    activity = await published(bot, value)

    await known.send("/activities")
    label = next(
        b.text for r in (await known.last_bot_message()).buttons for b in r if "摄影外拍" in b.text
    )
    await known.press(label)
    from_list = await known.bot_messages()
    assert from_list[-2].media is not None and from_list[-2].media.kind == "photo"
    assert "摄影外拍" in (from_list[-2].caption or "")
    assert "摄影外拍" in from_list[-1].text

    await known.send(f"/start act_{activity.id}")
    by_link = await known.bot_messages()
    assert by_link[-2].media is not None and by_link[-2].media.kind == "photo"
    assert "摄影外拍" in (by_link[-2].caption or "")
    assert "摄影外拍" in by_link[-1].text and by_link[-1].button("✅ 报名") is not None

    # A newcomer by link: registered first, then the poster and the card.
    newcomer = await bot.driver.create_user("Lin")
    await newcomer.send(f"/start act_{activity.id}")
    await newcomer.press("简体中文")
    for text in ("林新", "装配车间", "⏭ 跳过", "✅ 确认"):
        await newcomer.send(text)
    after = await newcomer.bot_messages()
    assert after[-2].media is not None and after[-2].media.kind == "photo"
    assert "摄影外拍" in after[-1].text

"""One walk per role in each language: the screens a person reaches for, as they see them.

Each test is one person in the web chat (clicks and typing only) walking their
role's main screens against the demo, taking a numbered screenshot at each one
(test-artifacts/browser/test-walk-*). In English the person first switches with
/language → English and the page's own EN toggle; from then on every bot message
and button they see must be English, except what the union itself typed (names,
departments, activity titles: the demo's data, read from bot/demo_data.py). In
Chinese every bot text must keep the house style of tests/support/copy_zh.py
(no English words, Chinese punctuation, 您), again except the union's own data.

Labels and the fragments waited for come from the message catalogue (the English
msgid, or its zh_CN translation), so both languages walk the same steps.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect

from bot.demo import CADRE_GROUP_TITLE
from bot.demo_data import ADMIN_ID, CADRE_CHAT_ID, CADRE_ID, NEWCOMER_ID
from core.i18n import translator
from sandbox import SandboxDriver
from tests.browser.conftest import Screens
from tests.support import copy_zh
from tests.support.web import BOT_TITLE, exactly, person, start_chat

pytestmark = pytest.mark.browser

WANG = 700000003  # 王小明, a member of 篮球队
SLOW = 20_000  # what comes through the outbox, paced as for Telegram
LANGUAGES = ("zh_CN", "en")
DEMO_DATA = Path(__file__).resolve().parents[2] / "bot" / "demo_data.py"
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@cache
def union_data() -> tuple[str, ...]:
    """Every string the demo's union typed (bot/demo_data.py's literals), longest first."""
    tree = ast.parse(DEMO_DATA.read_text(encoding="utf-8"))
    found = {
        node.value.strip()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    # Multi-line literals ("title\nbody") are shown line by line too.
    found |= {line.strip() for text in list(found) for line in text.splitlines()}
    # Shown text holds Chinese or is prose ("Anna Schmidt"); "en", "wages" are code.
    shown = (text for text in found if HAN.search(text) or re.search(r"[A-Za-z] [A-Za-z]", text))
    return tuple(sorted(shown, key=len, reverse=True))


def without_union_data(text: str, typed: tuple[str, ...] = ()) -> str:
    """The text with the union's own data and what the walker typed blanked out.

    A title cut short with "…" counts as the title.
    """
    for value in (*union_data(), *typed):
        text = text.replace(value, " ")
    for value in union_data():
        for cut in range(len(value) - 1, 1, -1):
            text = text.replace(value[:cut] + "…", " ")
    return text


# Case and suggestion numbers (G-7K3Q, S-1) are codes, not words.
CODE = re.compile(r"\b[A-Z]-[0-9A-Z]+\b")


def language_problems(lang: str, text: str, typed: tuple[str, ...] = ()) -> list[str]:
    rest = CODE.sub(" ", without_union_data(text, typed))
    if lang == "en":
        return [f"Chinese {run!r} on an English screen" for run in HAN.findall(rest)]
    return copy_zh.problems(rest)


@dataclass
class Walk:
    """One person walking the web chat in one language."""

    page: Page
    screens: Screens
    lang: str
    typed: list[str] = field(default_factory=list)
    checked_from: int = 0  # bot messages with a smaller id were sent before the switch

    def _(self, msgid: str) -> str:
        return translator(self.lang).gettext(msgid)

    @property
    def box(self) -> Locator:
        return self.page.get_by_test_id("message-input")

    async def say(self, text: str) -> None:
        self.typed.append(text)
        await self.box.fill(text)
        await self.box.press("Enter")

    def head(self, msgid: str) -> str:
        """The translation of ``msgid`` up to its first placeholder: what is always shown."""
        return self._(msgid).split("{")[0].rstrip(" :：(（")

    def bot_message(self, msgid: str) -> Locator:
        """The newest bot message containing the translation of ``msgid`` (up to a placeholder)."""
        return (
            self.page.locator('[data-from="bot"]')
            .filter(has=self.page.get_by_test_id("message-text").filter(has_text=self.head(msgid)))
            .last
        )

    def inline(self, label: str, within: Locator | None = None) -> Locator:
        scope = within if within is not None else self.page
        return scope.get_by_test_id("inline-button").filter(has_text=exactly(label)).last

    def inline_with(self, text: str) -> Locator:
        return self.page.get_by_test_id("inline-button").filter(has_text=text).last

    def reply(self, msgid: str) -> Locator:
        return self.page.get_by_test_id("reply-button").filter(has_text=exactly(self._(msgid)))

    async def answered(self, button: Locator) -> Locator:
        """Press ``button`` and wait for the bot's answer: the first message newer than the
        press (a message already on the screen, such as a card the demo sent at the
        start, is not an answer)."""
        before = await self.newest_id()
        await button.click()
        await self.page.wait_for_function(
            """before => [...document.querySelectorAll('[data-from="bot"]')].some(
                n => (Number(n.dataset.testid.replace('message-', '')) || 0) > before)""",
            arg=before,
        )
        first = await self.page.locator('[data-from="bot"]').evaluate_all(
            """(nodes, before) => Math.min(...nodes
                .map(n => Number(n.dataset.testid.replace('message-', '')) || 0)
                .filter(id => id > before))""",
            before,
        )
        return self.page.get_by_test_id(f"message-{first}")

    async def newest_id(self) -> int:
        ids = await self.page.locator('[data-from="bot"]').evaluate_all(
            "nodes => nodes.map(n => Number(n.dataset.testid.replace('message-', '')) || 0)"
        )
        return max(ids, default=0)

    async def visible_copy(self) -> list[str]:
        """The bot's texts and buttons on the screen, from the switch on, and the keyboard."""
        texts: list[str] = await self.page.locator('[data-from="bot"]').evaluate_all(
            """(nodes, from) => nodes
                .filter(n => (Number(n.dataset.testid.replace('message-', '')) || 0) >= from)
                .flatMap(n => [...n.querySelectorAll(
                    '[data-testid=message-text], [data-testid=inline-button]')]
                    .map(e => e.innerText))""",
            self.checked_from,
        )
        texts += await self.page.get_by_test_id("reply-button").all_inner_texts()
        return [text for text in texts if text.strip()]

    async def check_language(self) -> None:
        found = [
            f"{problem}  in: {text[:120]!r}"
            for text in await self.visible_copy()
            for problem in language_problems(self.lang, text, tuple(self.typed))
        ]
        assert not found, f"{self.lang} walk shows copy in the wrong language:\n" + "\n".join(
            dict.fromkeys(found)
        )

    async def shot(self, name: str, scroll_to: Locator | None = None) -> None:
        if scroll_to is not None:
            await scroll_to.scroll_into_view_if_needed()
        await self.check_language()
        await self.screens.shot(name)


async def open_chat(page: Page, telegram_id: int) -> None:
    """Pick the person and open their chat with the bot, pressing Start if it is new.

    A click on the people list while it re-renders (badges and previews update as
    the demo's outbox sends) can miss, so the pick is tried again, a few times.
    """
    title = page.get_by_test_id("chat-title")
    for _attempt in range(3):
        await person(page, telegram_id).locator(".person-row").click()
        try:
            await expect(title).to_have_text(BOT_TITLE, timeout=8_000)
            break
        except AssertionError:
            continue
    await start_chat(page, telegram_id)


async def begin(page: Page, screens: Screens, telegram_id: int, lang: str) -> Walk:
    """Open the person's chat; in English, switch the bot and the page to English first."""
    walk = Walk(page, screens, lang)
    await page.set_viewport_size({"width": 1280, "height": 1000})  # room for the keyboard
    await open_chat(page, telegram_id)
    await expect(walk.box).to_be_visible()
    if lang == "en":
        await page.get_by_test_id("lang-toggle").click()
        await expect(page.get_by_test_id("send-button")).to_have_text("Send")
        await walk.say("/language")
        await walk.inline("English").click()
        await expect(walk.bot_message("The menu is now in your language.")).to_be_visible()
        walk.checked_from = await walk.newest_id()
    return walk


# The newcomer ----------------------------------------------------------------

LANGUAGE_BUTTONS = {"zh_CN": "简体中文", "en": "English"}


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_walk_newcomer(page: Page, screens: Screens, lang: str) -> None:
    """A visitor registers in the language they pick at the start (no /language needed)."""
    walk = Walk(page, screens, lang)
    await page.set_viewport_size({"width": 1280, "height": 1000})
    if lang == "en":
        await page.get_by_test_id("lang-toggle").click()
        await expect(page.get_by_test_id("send-button")).to_have_text("Send")
    await open_chat(page, NEWCOMER_ID)
    await walk.screens.shot("welcome")  # bilingual on purpose: the language is not known yet
    await walk.inline(LANGUAGE_BUTTONS[lang]).click()
    await expect(
        page.get_by_test_id("reply-button").filter(has_text=exactly("林新"))
    ).to_be_visible()
    walk.checked_from = await walk.newest_id()
    await walk.shot("name")
    await page.get_by_test_id("reply-button").filter(has_text=exactly("林新")).click()
    await page.get_by_test_id("reply-button").filter(has_text=exactly("装配车间")).click()
    await walk.reply("⏭ Skip").click()
    await expect(walk.reply("✅ Confirm")).to_be_visible()
    await walk.shot("summary")
    await walk.reply("✅ Confirm").click()
    await expect(walk.reply("👤 My profile")).to_be_visible()
    await walk.shot("registered")


# The member ------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_walk_member(page: Page, screens: Screens, lang: str) -> None:
    walk = await begin(page, screens, WANG, lang)
    _ = walk._
    await walk.say("/start")
    await expect(walk.reply("👤 My profile")).to_be_visible()
    await expect(walk.reply("📖 Handbook")).to_be_visible()
    await walk.shot("main-menu")

    await walk.reply("📖 Handbook").click()
    await expect(walk.bot_message("Choose a topic, or search with 🔍 Search.")).to_be_visible()
    await walk.shot("handbook")

    await walk.reply("🎉 Activities").click()
    listing = walk.bot_message("Upcoming activities")
    await expect(listing).to_be_visible()
    await walk.shot("activities")
    await walk.inline_with("冬季职工篮球友谊赛").click()
    card = walk.page.locator('[data-from="bot"]').filter(has_text="职工活动中心篮球馆").last
    await expect(card).to_be_visible()
    await walk.shot("activity-card", scroll_to=card)

    polls = await walk.answered(walk.reply("🗳 Polls"))
    await expect(polls).to_be_visible()
    await walk.shot("polls", scroll_to=polls)

    cases = await walk.answered(walk.reply("📂 My cases"))
    await expect(cases).to_be_visible()
    await walk.shot("my-cases", scroll_to=cases)

    await walk.reply("👤 My profile").click()
    profile = walk.bot_message("Your profile")
    await expect(profile).to_contain_text("王小明")
    await walk.shot("profile")

    await walk.say("/help")
    await expect(walk.page.locator('[data-from="bot"]').last).to_contain_text("/language")
    await walk.shot("help")


# The cadre -------------------------------------------------------------------

GRIEVANCE = "二号线连续两周每天加班三小时，人手不够。"


async def submit_grievance_with_driver(driver: SandboxDriver) -> None:
    """王小明 sends a grievance (in Chinese, his language), so the cadre group has a card."""
    wang = await driver.user(WANG)
    await wang.send("/start")
    for label in ("📝 提交诉求", "⏱ 工作量", "🟢 普通", GRIEVANCE, "📝 只发文字", "✅ 匿名发送"):
        await wang.send(label)


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_walk_cadre(page: Page, screens: Screens, driver: SandboxDriver, lang: str) -> None:
    await submit_grievance_with_driver(driver)
    walk = await begin(page, screens, CADRE_ID, lang)
    walk.typed.append(GRIEVANCE)  # the member's words, shown to the cadres as written
    await walk.say("/start")
    await expect(walk.reply("👤 My profile")).to_be_visible()
    await walk.shot("main-menu")

    await walk.say("/cases")
    cases = walk.bot_message("Open cases, oldest first ({count})")
    await expect(cases).to_be_visible()
    await walk.shot("cases", scroll_to=cases)

    await walk.say("/report")
    summary = walk.bot_message("Union report: {period}")
    await expect(summary).to_be_visible()
    await expect(walk.page.locator('[data-from="bot"]').get_by_test_id("file-chip")).to_have_count(
        1
    )
    await walk.shot("report", scroll_to=summary)

    # The cadre group: the card, in the union's language (a group is shared, not personal).
    await walk.page.get_by_test_id(f"chat-{CADRE_CHAT_ID}").click()
    await expect(walk.page.get_by_test_id("chat-title")).to_have_text(CADRE_GROUP_TITLE)
    card = walk.page.locator('[data-from="bot"]').filter(has_text=GRIEVANCE).last
    await expect(card).to_be_visible(timeout=SLOW)
    await expect(card).not_to_contain_text("王小明")
    group = Walk(page, screens, "zh_CN", walk.typed)
    await group.shot("cadre-group-card", scroll_to=card)


# The admin -------------------------------------------------------------------

NOTICE = "本周五下午厂区停电检修，请提前保存工作。"
NOTICE_EN = "The site has a power cut for maintenance on Friday afternoon: save your work first."


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_walk_admin(page: Page, screens: Screens, lang: str) -> None:
    walk = await begin(page, screens, ADMIN_ID, lang)
    await walk.say("/start")
    await walk.reply("🛠 Admin").click()
    panel = walk.bot_message("Admin panel")
    await expect(panel).to_be_visible()
    await walk.shot("admin-panel", scroll_to=panel)

    await walk.inline(walk._("🔎 Find a member")).click()
    await expect(
        walk.bot_message("Send part of a name, an @username or a Telegram id:")
    ).to_be_visible()
    await walk.say("王")
    found = walk.bot_message("Members matching “{query}”:")
    await expect(found).to_be_visible()
    await expect(walk.inline_with("王小明")).to_be_visible()
    await walk.shot("member-search", scroll_to=found)
    await walk.say("/cancel")

    await walk.say("/admin")
    await walk.inline(walk._("📢 Broadcast")).click()
    await expect(
        walk.bot_message(
            "Send the announcement: a text, or a photo or document with a caption. Members "
            "receive it exactly as you send it."
        )
    ).to_be_visible()
    await walk.say(NOTICE)
    await walk.inline(walk._("➕ English version")).click()
    await walk.say(NOTICE_EN)
    picker = walk.bot_message("Who should receive it?")
    await walk.inline(walk._("👥 Everyone"), within=picker).click()
    await walk.inline(walk._("Preview ›"), within=picker).click()
    control = walk.bot_message("this is exactly what members will receive.")
    await expect(control).to_be_visible()
    await expect(walk.bot_message("Chinese-speaking members receive:")).to_be_visible()
    await walk.shot("broadcast-preview", scroll_to=control)

    await walk.say("/admin")
    await walk.inline(walk._("🎉 Greetings")).click()
    greetings = walk.bot_message("🎉 Greetings")
    await expect(greetings).to_contain_text("工会成立纪念日")
    await walk.shot("greetings", scroll_to=greetings)

    await walk.say("/pulse")
    pulse = walk.bot_message("Satisfaction pulse")
    await expect(pulse).to_be_visible()
    await walk.shot("pulse", scroll_to=pulse)

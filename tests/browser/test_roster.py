"""Roster import in the browser: the chair sends a CSV, reads the preview, applies it and
gets the code list; a newcomer then joins with one of the demo's codes."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from bot.demo_data import ADMIN_ID, NEWCOMER_ID, ROSTER_CODES
from tests.browser.conftest import Screens
from tests.support.roster import roster_csv
from tests.support.web import inline_button, reply_button, say, start_chat

pytestmark = pytest.mark.browser

FILE = roster_csv(
    [
        ["陈晓燕", "装配车间", "D2001", "1992-04-18", "新员工"],  # as on the roster
        ["刘建国", "设备维修班", "D2002", "1979-11-02", "退休返聘"],  # a tag more
        ["吴磊", "仓储物流部", "D3001", "1995-07-21", ""],
        ["郑洁", "质检科", "D3002", "", "女工"],
    ],
    encoding="gbk",  # as Excel on Chinese Windows saves it
)


async def test_admin_imports_a_roster_and_a_newcomer_joins_with_a_code(
    page: Page, screens: Screens
) -> None:
    await start_chat(page, ADMIN_ID)
    await say(page, "/roster")
    last_text = page.get_by_test_id("message-text").last
    await expect(last_text).to_contain_text("花名册现有人数：5")
    await screens.shot("prompt")

    await page.get_by_test_id("file-input").set_input_files(
        files=[{"name": "花名册.csv", "mimeType": "text/csv", "buffer": FILE}]
    )
    await expect(last_text).to_contain_text("花名册文件已检查：共 4 行，没有错误。")
    for line in ("新增：2", "更新：1", "不变：1", "花名册中有、本文件中没有：3"):
        await expect(last_text).to_contain_text(line)
    await expect(reply_button(page, "🗑 应用并删除缺少的人员")).to_be_visible()
    await screens.shot("preview")

    await reply_button(page, "✅ 应用").click()
    chip = page.get_by_test_id("file-chip").last
    await expect(chip).to_contain_text("花名册验证码")
    await expect(
        page.get_by_test_id("message-text").filter(
            has_text="花名册已保存：新增 2 人，更新 1 人，删除 0 人。"
        )
    ).to_be_visible()
    await screens.shot("applied")

    await start_chat(page, NEWCOMER_ID)
    await say(page, f"/start {ROSTER_CODES['D2003']}")
    await expect(last_text).to_contain_text("姓名：孙丽")
    await expect(last_text).to_contain_text("部门：职工食堂")
    await screens.shot("code")
    await inline_button(page, "✅ 是我，为我登记").click()
    await expect(page.get_by_test_id("message-text").last).to_contain_text("欢迎加入工会，孙丽")
    await screens.shot("joined")

"""The import's preview and summary in both languages: what happens to joined members."""

from __future__ import annotations

import pytest

from core.i18n import translator
from display import roster as show
from storage.roster import Applied, Preview

CHANGES = Preview(
    new=1,
    updated=2,
    unchanged=3,
    absent=2,
    updated_names=("张伟", "李娜"),
    absent_names=("王芳", "赵敏"),
    members_updated=1,
    absent_joined=1,
)

EXPECTED = {
    "en": [
        "Roster file checked: 6 rows, no errors.",
        "",
        "New: 1",
        "Updated: 2",
        "Joined members to update: 1 (name, department and tags as in this file; a "
        "birthday a member entered or corrected themselves is kept)",
        "Unchanged: 3",
        "On the roster but not in this file: 2",
        "Of those, members who joined: 1",
        "Updated: 张伟, 李娜",
        "Not in this file: 王芳, 赵敏",
        "",
        "Tap ✅ Apply to keep those not in the file, or 🗑 Apply and remove the missing to "
        "take them off the roster. Those who joined stay members with their details and "
        "tags; only their link to the roster is removed.",
    ],
    "zh_CN": [
        "花名册文件已检查：共 6 行，没有错误。",
        "",
        "新增：1",
        "更新：2",
        "将更新资料的已登记会员：1（姓名、部门和标签以本文件为准；会员自己填写或更正过的生日予以保留）",
        "不变：3",
        "花名册中有、本文件中没有：2",
        "其中已登记为会员的：1",
        "更新的人员：张伟、李娜",
        "本文件中没有的人员：王芳、赵敏",
        "",
        "点击“✅ 应用”将保留文件中没有的人员；点击“🗑 应用并删除缺少的人员”将把他们从花名册中"
        "删除。其中已登记的会员仍是会员，个人资料和标签不变，只是不再与花名册关联。",
    ],
}


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_preview_says_what_happens_to_joined_members(language: str) -> None:
    text = show.preview(translator(language), 6, CHANGES)
    assert text.replace("<b>", "").replace("</b>", "").split("\n") == EXPECTED[language]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_without_updates_or_missing_the_preview_has_no_member_lines(language: str) -> None:
    text = show.preview(translator(language), 3, Preview(new=3, updated=0, unchanged=0, absent=0))
    assert EXPECTED[language][4] not in text and EXPECTED[language][7] not in text
    assert len(text.split("\n")) == 8


@pytest.mark.parametrize(
    ("language", "line"),
    [("en", "Joined members updated: 1."), ("zh_CN", "已更新资料的已登记会员：1 人。")],
)
def test_the_summary_counts_the_members_updated(language: str, line: str) -> None:
    done = show.applied(translator(language), Applied(CHANGES, removed=2, codes=[]), 30)
    assert done.split("\n")[1] == line
    quiet = Preview(new=1, updated=0, unchanged=0, absent=0)
    assert "\n" not in show.applied(translator(language), Applied(quiet, 0, []), 30)

"""Chinese copy in the union's house style: the catalogue, the default handbook, the demo.

The rules are in `tests.support.copy_zh`; the first test shows the checker
catching each example the issue quoted, so it cannot silently pass everything.
The last ones render screens that display/ composes from pieces.
"""

from __future__ import annotations

import ast
import html
import re
import tokenize
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from core.i18n import LOCALES, translator
from display import broadcasts, greetings, grievances, polls, trainings
from storage import handbook_default
from storage.grievances import AuditLine, Stats
from storage.models import GrievanceCategory, TrainingSession
from storage.polls import PollSummary
from tests.support.copy_zh import problems

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = Path(LOCALES) / "zh_CN" / "LC_MESSAGES" / "union_bot.po"
# Shown before a member has a language, so it asks in both (the language picker).
BILINGUAL = frozenset({"Choose your language:"})
HAN = re.compile(r"[\u3400-\u9fff]")


@pytest.mark.parametrize(
    "text",
    [
        "截止到 2026-12-07 18:00, 未投票",
        "⛑ 安全: 🔔 1",
        "{name}, {year}, {holiday}",
        "English问候语",
        "例如 <b>bold</b>",
        "线下 · online",
        "截止到2026-12-07",
        "请核对你的信息：",
        "名额已满(候补)",
        "确定吗?",
    ],
)
def test_the_checker_catches_what_the_issue_quoted(text: str) -> None:
    assert problems(text)


@pytest.mark.parametrize(
    "text",
    [
        "截止到 2026-12-07 18:00，未投票",
        "⛑ 安全：🔔 1",
        "{name}，{year}，{holiday}",
        "English 问候语",
        "例如 <b>粗体</b>",
        "问候在当天 {hour}:00（{timezone}）起发出。",
        "请导出 XLSX 文件，或访问 https://t.me/union_bot?start=join_AB12。",
        "发送 /case G-7K3Q 查看诉求，12月30日下午2点前答复。",
        "{name}（{department}）",
    ],
)
def test_the_checker_passes_house_style(text: str) -> None:
    assert problems(text) == []


def _catalogue_strings() -> list[tuple[str, str]]:
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle, locale="zh_CN")
    pairs = []
    for message in catalogue:
        if not message.id or message.id in BILINGUAL:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        pairs += [(str(msgid), str(s)) for s in strings if s]
    return pairs


def test_catalogue_in_house_style() -> None:
    wrong = {msgid: problems(text) for msgid, text in _catalogue_strings() if problems(text)}
    assert wrong == {}, f"{len(wrong)} Chinese strings off the house style"


def test_default_handbook_in_house_style() -> None:
    texts = [title for _, title, _ in handbook_default.TOPICS]
    texts += [text for entry in handbook_default.ENTRIES for text in (entry[2], entry[4])]
    wrong = {text[:30]: problems(text) for text in texts if problems(text)}
    assert wrong == {}


def test_demo_data_in_house_style() -> None:
    """Every Chinese literal in the demo (names, departments, posts, cases, entries)."""
    tree = ast.parse((ROOT / "bot" / "demo_data.py").read_text(encoding="utf-8"))
    docstrings = {
        id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)
    }  # docstrings and comments are for us, in English
    texts = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and HAN.search(node.value)
    ]
    assert len(texts) > 20
    wrong = {text[:30]: problems(text) for text in texts if problems(text)}
    assert wrong == {}


def test_no_gettext_inside_f_strings() -> None:
    """Babel cannot extract a call inside an f-string (Python 3.11): it stays English."""
    found = []
    for package in ("bot", "core", "display", "handlers", "jobs", "notices", "storage"):
        for path in (ROOT / package).rglob("*.py"):
            with path.open("rb") as handle:
                for token in tokenize.tokenize(handle.readline):
                    if (
                        token.type == tokenize.STRING
                        and re.match(r"[rbuRBU]*[fF]", token.string)
                        and re.search(r"(gettext|\b_)\(\s*[\"']", token.string)
                    ):
                        found.append(f"{path.relative_to(ROOT)}:{token.start[0]}")
    assert found == []


# Screens composed in code from pieces: the separators go through gettext too.

ZH = translator("zh_CN")
ZONE = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_poll_list_line_in_house_style() -> None:
    summary = PollSummary(1, "食堂菜单", True, AT, None, False, False)
    text = polls.list_text(ZH, [summary], ZONE, can_create=False)
    assert "2026-12-07 18:00 截止，未投票" in text
    assert problems(text.replace("<b>", "").replace("</b>", "")) == []
    settings = polls.settings_text(ZH, cadres_may_create=False)
    assert "管理员始终可以发起投票，干部不能发起投票。" in settings and problems(settings) == []


def test_grievance_stats_and_audit_in_house_style() -> None:
    safety = GrievanceCategory(id=1, slug="safety", name=None)
    stats = Stats(total=1, categories={1: safety})
    stats.by_category_status[(1, "new")] = 1
    text = grievances.stats_text(ZH, stats)
    assert "⛑ 安全：" in text
    audit = grievances.audit_text(ZH, ZONE, [AuditLine(AT, "G-5N5A", "taken", "李干事", "备注")])
    line = audit.splitlines()[-1]
    assert "李干事：" in line and "（备注）" in line and problems(line) == []


def test_greeting_placeholders_and_online_session_in_house_style() -> None:
    assert (
        greetings.placeholders(ZH)
        == "<code>{name}</code>、<code>{year}</code>、<code>{holiday}</code>"
    )
    meeting = TrainingSession(
        starts_at=AT,
        ends_at=AT + timedelta(hours=2),
        place="三楼会议室",
        online_link="https://meeting.example.org/a",
    )
    line = trainings.session_line(ZH, ZONE, meeting)
    assert "online" not in line.split('">')[-1] and problems(line) == []


def test_broadcast_prompt_example_in_chinese() -> None:
    text = html.unescape(broadcasts.compose_prompt(ZH).replace("<b>", "").replace("</b>", ""))
    assert "例如 <b>粗体</b>" in text and problems(text) == []

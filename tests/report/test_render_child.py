"""Charts and workbooks are drawn in a child process: the bot never loads matplotlib or
openpyxl, the files still arrive and read, and a child that fails is logged once, without
what it drew, and surfaces like any failed step (`display.rendering`)."""

from __future__ import annotations

import asyncio
import io
import logging
import signal
import sys
from asyncio.subprocess import Process
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot import errors
from core.i18n import translator
from display import rendering
from display.charts import BarChart
from display.sheets import Book
from jobs import report as report_jobs
from tests.support.bot import BotHarness
from tests.support.chat import registered_cadre
from tests.support.clock import shanghai
from tests.support.outbox import delivered, outbox_rows
from tests.support.report import Case, add_cases, scheduled_report

HEAVY = ("matplotlib", "openpyxl")


def _forbid_heavy_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `import matplotlib` / `import openpyxl` (and any submodule) fail in this process:
    a `None` in `sys.modules` raises ImportError, as if the library were not installed."""
    for name in [n for n in sys.modules if n.split(".")[0] in HEAVY] + list(HEAVY):
        monkeypatch.setitem(sys.modules, name, None)


def _heavy_loaded() -> list[str]:
    return sorted(n for n, m in sys.modules.items() if n.split(".")[0] in HEAVY and m is not None)


async def _seed(bot: BotHarness) -> None:
    await add_cases(
        bot, [Case("wages", "resolved", shanghai(2026, 10, 6), 2, 20) for _ in range(6)]
    )


async def test_the_report_is_drawn_without_matplotlib_or_openpyxl_in_the_bot(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    cadre = await registered_cadre(bot)
    await _seed(bot)
    with monkeypatch.context() as blocked:
        _forbid_heavy_imports(blocked)
        bot.clock.now = shanghai(2026, 11, 2, 9, 5)
        assert await report_jobs.run(bot.runtime, bot.clock.now, bot.application)
        await delivered(bot)
        await cadre.send("/report 2026-10")
        assert _heavy_loaded() == []
    # The job's files reached the group, and the handler's the cadre, readable.
    parts = await scheduled_report(bot)
    assert [kind for kind, _ in parts] == ["text", "photo", "photo", "document"]
    sent = [m for m in await cadre.bot_messages() if m.media is not None]
    assert [m.media.kind for m in sent if m.media] == ["photo", "photo", "document"]
    for message in [m for _, m in parts[1:]] + sent:
        assert message.media is not None
        data = await bot.driver.download(message.media.url)
        if message.media.kind == "photo":
            assert data.startswith(b"\x89PNG")
        else:
            book = load_workbook(io.BytesIO(data))
            assert book.sheetnames == ["参与", "诉求", "满意度", "投票", "服务手册"]
            opened = [r for r in book["诉求"].iter_rows(values_only=True) if r[0] == "本期新增诉求"]
            assert [row[1] for row in opened] == [6]


def _child(code: str) -> list[str]:
    return [sys.executable, "-c", code]


async def test_a_child_that_dies_is_logged_once_and_the_report_is_drawn_next_time(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cadre = await registered_cadre(bot)
    await _seed(bot)
    bot.clock.now = shanghai(2026, 11, 2, 9, 5)
    with monkeypatch.context() as broken:
        broken.setattr(rendering, "command", lambda: _child("import os; os.abort()"))
        with (
            caplog.at_level(logging.ERROR, logger="display.rendering"),
            pytest.raises(rendering.RenderFailed),
        ):
            await report_jobs.run(bot.runtime, bot.clock.now, bot.application)
        failures = [r for r in caplog.records if r.name == "display.rendering"]
        assert [r.getMessage() for r in failures] == [
            "drawing BarChart,LineChart,Book in the render child failed: "
            "the child was killed by SIGABRT"
        ]
        assert [r for r in await outbox_rows(bot) if r.kind == "report"] == []  # nothing half
        # Asked by hand meanwhile: the cadre is told what to do, as for any failure.
        await cadre.send("/report 2026-10")
        last = await cadre.last_bot_message()
        assert last.text == translator("zh_CN").gettext(errors.GENERIC)
        assert not [m for m in await cadre.bot_messages() if m.media is not None]
    # The job's next tick draws it.
    assert await report_jobs.run(bot.runtime, bot.clock.now, bot.application)
    await delivered(bot)
    assert [kind for kind, _ in await scheduled_report(bot)] == [
        "text",
        "photo",
        "photo",
        "document",
    ]


CHART = BarChart("标题", ["张三的选项"], [3], 3)


@pytest.mark.parametrize(
    ("code", "how"),
    [
        ("import sys; sys.stdin.buffer.read(); sys.exit(3)", "exited with code 3"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "was killed by SIGKILL"),
        (
            "import sys; sys.stdin.buffer.read(); sys.stdout.write('PNG, honestly')",
            "answered something unreadable",
        ),
        (
            "import pickle, sys; sys.stdin.buffer.read(); "
            "sys.stdout.buffer.write(pickle.dumps(('ok', [])))",
            "answered something unreadable",  # fewer files than drawings asked
        ),
    ],
)
async def test_a_failing_child_raises_render_failed_and_is_logged_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, code: str, how: str
) -> None:
    monkeypatch.setattr(rendering, "command", lambda: _child(code))
    with (
        caplog.at_level(logging.ERROR, logger="display.rendering"),
        pytest.raises(rendering.RenderFailed, match=how),
    ):
        await rendering.draw(CHART)
    assert [r.getMessage() for r in caplog.records] == [
        f"drawing BarChart in the render child failed: the child {how}"
    ]


def _spy_on_children(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Process], asyncio.Event]:
    """The child processes `draw` starts, and an event set once one has started."""
    started: list[Process] = []
    running = asyncio.Event()
    real = asyncio.create_subprocess_exec

    async def spy(*args: Any, **kwargs: Any) -> Process:
        process = await real(*args, **kwargs)
        started.append(process)
        running.set()
        return process

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spy)
    return started, running


HANGS = "import signal; signal.pause()"


async def test_a_child_past_its_limit_is_killed_and_logged_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(rendering, "command", lambda: _child(HANGS))
    started, _ = _spy_on_children(monkeypatch)
    with (
        caplog.at_level(logging.ERROR, logger="display.rendering"),
        pytest.raises(rendering.RenderFailed, match="took longer than 0 s and was killed"),
    ):
        await rendering.draw(CHART, limit=0)  # a limit already past: no waiting in the test
    assert len(caplog.records) == 1
    assert [p.returncode for p in started] == [-signal.SIGKILL]


async def test_a_drawing_no_one_waits_for_any_more_kills_its_child(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(rendering, "command", lambda: _child(HANGS))
    started, running = _spy_on_children(monkeypatch)
    drawing = asyncio.ensure_future(rendering.draw(CHART))
    await running.wait()
    drawing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await drawing
    assert [p.returncode for p in started] == [-signal.SIGKILL]
    assert caplog.records == []  # cancelled, not failed: nothing to log


async def test_an_error_in_the_child_is_named_by_its_class_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    book = Book()
    book.sheet("名单").rows.append(["张三", complex(1, 2)])  # openpyxl refuses a complex
    with (
        caplog.at_level(logging.ERROR, logger="display.rendering"),
        pytest.raises(rendering.RenderFailed, match="raised ValueError"),
    ):
        await rendering.draw(book)
    (line,) = [r.getMessage() for r in caplog.records]
    assert "张三" not in line and "1+2j" not in line


async def test_the_child_draws_in_the_order_asked() -> None:
    book = Book("书")
    sheet = book.sheet("第一页")
    sheet.header(["姓名", "票数"])
    sheet.row(["=1+1", 2])
    png, xlsx, again = await rendering.draw(CHART, book, CHART)
    assert png.startswith(b"\x89PNG") and again.startswith(b"\x89PNG")
    read = load_workbook(io.BytesIO(xlsx))
    assert read.properties.title == "书"
    rows = list(read["第一页"].iter_rows(values_only=True))
    assert rows == [("姓名", "票数"), ("'=1+1", 2)]
    assert read["第一页"]["A1"].font.bold and not read["第一页"]["A2"].font.bold


async def test_a_child_that_cannot_start_is_a_render_failure(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setattr(rendering, "command", lambda: [str(tmp_path / "no-python")])
    with (
        caplog.at_level(logging.ERROR, logger="display.rendering"),
        pytest.raises(rendering.RenderFailed, match=r"could not be started \(FileNotFoundError\)"),
    ):
        await rendering.draw(CHART)
    assert len(caplog.records) == 1

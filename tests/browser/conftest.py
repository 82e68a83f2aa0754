"""The demo in-process and Debian's Chromium driven by Playwright, for walking the web chat.

Chromium comes from the system (`make test` installs Debian's package when it is
missing); Playwright's own browser download is never used. Screenshots of each
step go to `test-artifacts/browser/` so a person can look at what the test saw.

Starting Playwright and Chromium takes seconds, so one browser serves every test
here; each test still gets its own demo (fresh data) and its own browser context.
That needs one event loop for all of them: the tests of this folder run in the
session's loop (see ``pytest_collection_modifyitems``).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright, expect
from pytest_asyncio import is_async_test

from bot.demo import DEMO_TOKEN, Demo, DemoOptions
from bot.processor import PerChatUpdateProcessor
from core.runtime import runtime_of
from sandbox import SandboxDriver
from storage import outbox
from tests.support.bot import UpdateTracker

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Every wait here waits for something to appear, never for time to pass, so a busy
# machine only makes it take longer: the limits are generous, not tight.
WAIT_MS = 30_000
expect.set_options(timeout=WAIT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run this folder's async tests in the session loop, where the shared browser lives."""
    here = Path(__file__).parent
    in_session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if is_async_test(item) and item.path.is_relative_to(here):
            item.add_marker(in_session_loop, append=False)


@pytest_asyncio.fixture(loop_scope="session")
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    """The whole demo (sandbox, bot, page, example data) on a free port."""
    running = Demo(DemoOptions(port=0, data_dir=tmp_path / "demo"))
    try:
        await running.start()
        await _seeded_messages_delivered(running)
        yield running
    finally:
        await running.stop()


async def _seeded_messages_delivered(demo: Demo) -> None:
    """Wait until what the demo queued at its start (this month's pulse question to
    everyone, notices) has gone out: paced a second apart in each chat, it would
    otherwise land in the middle of a test, below the answer the test looks for."""
    assert demo.application is not None
    runtime = runtime_of(demo.application)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_MS / 1000
    while True:
        async with runtime.sessions() as session:
            behind = await outbox.oldest_due(session, runtime.now())
            depth = await outbox.depth(session)
        if behind is None and not any(depth[status] for status in outbox.IN_HAND):
            return
        if loop.time() > deadline:
            raise TimeoutError(f"the demo's seeded messages still going out: {depth}")
        await asyncio.sleep(0.1)  # polling for a condition, with a deadline


@pytest_asyncio.fixture(loop_scope="session")
async def driver(demo: Demo) -> AsyncIterator[SandboxDriver]:
    """The test driver on the demo's sandbox, to set the stage without the page.

    Each action waits until the demo's bot has finished handling it (the update
    processor tells), so the next step sees the bot's answer.
    """
    assert demo.application is not None
    processor = demo.application.update_processor
    assert isinstance(processor, PerChatUpdateProcessor)
    tracker = UpdateTracker(processor)
    async with SandboxDriver(demo.url.rstrip("/"), DEMO_TOKEN, settle=tracker.wait) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium)")
    return CHROMIUM


def _browser_env() -> dict[str, str]:
    """The environment without faketime's preload: `make test-dates` moves the clock of
    the bot and the sandbox, and Chromium does not load pages with it preloaded."""
    return {
        key: value
        for key, value in os.environ.items()
        if key != "LD_PRELOAD" and not key.startswith("FAKETIME")
    }


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS, env=_browser_env()
        )
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Screens:
    """Numbered screenshots of one test, for people to look at after a run."""

    page: Page
    prefix: str
    count: int = 0
    paths: list[Path] = field(default_factory=list)

    async def shot(self, name: str) -> Path:
        self.count += 1
        path = ARTIFACTS / f"{self.prefix}-{self.count}-{name}.png"
        await self.page.screenshot(path=str(path))
        self.paths.append(path)
        return path


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, demo: Demo) -> AsyncIterator[Page]:
    """A fresh browser page on the web chat, failing the test on any script error."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.set_default_timeout(WAIT_MS)
    await opened.goto(demo.url)
    await opened.wait_for_selector("body[data-ready=true]")
    try:
        yield opened
    finally:
        await context.close()
    assert not errors, f"script errors on the page: {errors}"


@pytest.fixture
def screens(page: Page, request: pytest.FixtureRequest) -> Screens:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    prefix = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    for old in ARTIFACTS.glob(f"{prefix}-*.png"):
        old.unlink()
    return Screens(page, prefix)

"""`union-bot demo` as a person runs it: starts, prints the URL, stops on Ctrl-C, keeps data."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.demo import DATABASE_FILE, DEMO_TOKEN
from bot.demo_data import NEWCOMER_ID
from sandbox import SandboxDriver
from tests.support.processes import answered, free_port

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"(http://127\.0\.0\.1:\d+/)")
START_TIMEOUT = 60


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def registered_members(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / DATABASE_FILE) as connection:
        return [row[0] for row in connection.execute("select name from members order by id")]


@dataclass
class DemoProcess:
    process: asyncio.subprocess.Process
    url: str
    output: list[str]


async def _read_until_url(process: asyncio.subprocess.Process, output: list[str]) -> str:
    assert process.stdout is not None
    while True:
        raw = await process.stdout.readline()
        if not raw:
            raise AssertionError("the demo ended before printing its URL:\n" + "".join(output))
        line = raw.decode()
        output.append(line)
        found = URL_LINE.search(line)
        if found:
            return found.group(1)


async def _demo_process(port: int, data_dir: Path, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "demo",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        *extra,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


@asynccontextmanager
async def demo_command(port: int, data_dir: Path, *extra: str) -> AsyncIterator[DemoProcess]:
    """Run the demo, yield once it printed its URL; on exit, Ctrl-C it and check it ended well."""
    process = await _demo_process(port, data_dir, *extra)
    output: list[str] = []
    try:
        url = await asyncio.wait_for(_read_until_url(process, output), START_TIMEOUT)
        yield DemoProcess(process, url, output)
        process.send_signal(signal.SIGINT)
        assert process.stdout is not None
        rest = await asyncio.wait_for(process.stdout.read(), 30)
        output.append(rest.decode())
        code = await asyncio.wait_for(process.wait(), 10)
        text = "".join(output)
        assert code == 0, text
        assert "Demo stopped." in text
        assert "Traceback" not in text and "Task was destroyed" not in text, text
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert port_is_free(port), f"port {port} is still taken after the demo stopped"


async def get_json(url: str) -> Any:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        return await response.json()


async def register(base_url: str) -> None:
    async with SandboxDriver(base_url, DEMO_TOKEN, auto_settle=False) as driver:
        newcomer = await driver.user(NEWCOMER_ID)
        await answered(newcomer, newcomer.send("/start"))
        await answered(newcomer, newcomer.press("简体中文"))
        for text in ("林新", "装配车间", "⏭ 跳过", "✅ 确认"):
            await answered(newcomer, newcomer.send(text))


def newcomer_of(people: list[dict[str, Any]]) -> dict[str, Any]:
    return next(p for p in people if p["id"] == NEWCOMER_ID)


async def test_demo_starts_stops_and_keeps_its_data(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "demo"
    async with demo_command(port, data_dir) as first:
        assert first.url == f"http://127.0.0.1:{port}/"
        async with aiohttp.ClientSession() as session, session.get(first.url) as page:
            assert page.status == 200 and "沙盒聊天" in await page.text()
        await register(first.url.rstrip("/"))
        assert newcomer_of(await get_json(first.url + "sandbox/api/people"))["info"]["role"] == (
            "member"
        )
    printed = "".join(first.output)
    assert "林新" in printed and "--reset" in printed  # what to try, and how to start over
    members_after_first = registered_members(data_dir)
    assert members_after_first.count("林新") == 1

    async with demo_command(port, data_dir) as second:
        people = await get_json(second.url + "sandbox/api/people")
        newcomer = newcomer_of(people)
        assert newcomer["info"]["role"] == "member"  # the database kept them
        assert newcomer["chats"][0]["started"]  # and the sandbox kept their chat
        history = await get_json(f"{second.url}sandbox/api/chats/{NEWCOMER_ID}/messages")
        assert any(m["text"] == "✅ 确认" for m in history)
    assert registered_members(data_dir) == members_after_first  # nothing seeded twice

    async with demo_command(port, data_dir, "--reset") as fresh:
        newcomer = newcomer_of(await get_json(fresh.url + "sandbox/api/people"))
        assert newcomer["info"]["role"] == "visitor"
        assert not newcomer["chats"][0]["started"]

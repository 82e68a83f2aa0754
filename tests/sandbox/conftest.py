"""Fixtures for the sandbox tests: a running server, a PTB Bot pointed at it, a driver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram
from sandbox_samples import BOT_USERNAME, TOKEN, make_bot

from sandbox import SandboxDriver, SandboxOptions, SandboxServer


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    sandbox = SandboxServer(SandboxOptions(bots={TOKEN: BOT_USERNAME}))
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@pytest.fixture
def base_url(server: SandboxServer) -> str:
    assert server.base_url is not None
    return server.base_url


@pytest.fixture
async def bot(base_url: str) -> AsyncIterator[telegram.Bot]:
    ptb = make_bot(base_url)
    async with ptb:
        yield ptb


@pytest.fixture
async def driver(base_url: str) -> AsyncIterator[SandboxDriver]:
    """A driver that does not wait for a bot: these tests fetch updates themselves."""
    async with SandboxDriver(base_url, TOKEN, auto_settle=False) as sb:
        yield sb

"""The grievance tests' `world`: a member and a cadre with the bot (see `tests.support.grievances`)."""

from __future__ import annotations

import pytest

from tests.support.bot import BotHarness
from tests.support.grievances import World, make_world


@pytest.fixture
async def world(bot: BotHarness) -> World:
    return await make_world(bot)

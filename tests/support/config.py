"""The bot's settings and runtime as the tests configure them: one token, one key, one cadre group."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from core.runtime import Runtime
from core.settings import Settings, load_settings
from storage.db import make_session_factory
from tests.support.clock import FakeClock

TOKEN = "987654321:TEST-union-bot-token-abcdefghijklmnop"
SECRET = "test-secret-key-0123456789abcdef0123456789"
ADMIN_ID = 900000001
CADRE_CHAT = -1001000000001
ESCALATION_CHAT = -1001000000002


def bot_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings as `union-bot` would load them, with the tests' token and key."""
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "secret_key": SECRET,
        "database_url": database_url,
    }
    values.update(overrides)
    return load_settings(**values)


def make_runtime(
    engine: AsyncEngine, clock: Callable[[], datetime] | None = None, **overrides: Any
) -> Runtime:
    """What jobs and services get from a running bot, on ``engine`` and a fake clock (T0)."""
    url = engine.url.render_as_string(hide_password=False)
    return Runtime(
        settings=bot_settings(url, **overrides),
        engine=engine,
        sessions=make_session_factory(engine),
        clock=clock or FakeClock(),
    )

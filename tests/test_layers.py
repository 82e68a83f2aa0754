"""The composition root starts jobs without features: a worker builds no handler."""

from __future__ import annotations

import pytest

from bot.app import JOBS, build_application
from core.settings import Settings, load_settings


@pytest.fixture
def settings() -> Settings:
    return load_settings(
        telegram_bot_token="987654321:TEST-union-bot-token-abcdefghijklmnop",
        database_url="sqlite+aiosqlite:///:memory:",
        secret_key="k" * 32,
    )


def _job_names(application: object) -> set[str]:
    queue = application.job_queue  # type: ignore[attr-defined]
    return {job.name for job in queue.jobs()}


def test_a_worker_registers_no_handler_but_runs_every_job(settings: Settings) -> None:
    worker = build_application(settings, rate_limiter=False, takes_updates=False)
    bot = build_application(settings, rate_limiter=False)
    registered = [h for group in worker.handlers.values() for h in group]
    assert registered == []
    assert sum(len(group) for group in bot.handlers.values()) > 100
    # The same scheduled work either way: jobs are the composition root's, not the features'.
    assert _job_names(worker) == _job_names(bot) - {"conversation-timeouts"}
    assert len(_job_names(worker)) >= len(JOBS)


def test_every_conversation_has_its_state_diagram_beside_it(settings: Settings) -> None:
    """A `.mmd` beside the conversation's module names it (ARCHITECTURE.md, "Adding a feature")."""
    import re
    import sys
    from pathlib import Path

    from telegram.ext import ConversationHandler

    application = build_application(settings, rate_limiter=False)
    conversations = [
        h
        for group in application.handlers.values()
        for h in group
        if isinstance(h, ConversationHandler)
    ]
    assert len(conversations) >= 12
    for conversation in conversations:
        module = sys.modules[conversation.entry_points[0].callback.__module__]
        folder = Path(module.__file__ or "").parent
        diagrams = [p.read_text() for p in folder.glob("*.mmd")]
        named = re.compile(rf"\b{re.escape(conversation.name or '')}\b")
        assert any(named.search(text) for text in diagrams), conversation.name

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

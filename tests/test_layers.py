"""The composition root starts jobs without features: a worker builds no handler."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import JOBS, build_application
from core.settings import Settings, SettingsError, load_settings


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


def test_jobs_check_seconds_replaces_every_jobs_cadence(settings: Settings) -> None:
    """JOBS_CHECK_SECONDS (jobs.cadence): each job looks that often, and first that soon."""
    from datetime import timedelta

    def triggers(application: object) -> dict[str, Any]:
        queue = application.job_queue  # type: ignore[attr-defined]
        found = {job.name: job.job.trigger for job in queue.jobs()}
        return {name: t for name, t in found.items() if hasattr(t, "interval")}

    def cadences(application: object) -> dict[str, timedelta]:
        return {name: trigger.interval for name, trigger in triggers(application).items()}

    checked = ("greetings", "report", "pulse", "polls", "activity-reminders")
    production = build_application(settings, rate_limiter=False, takes_updates=False)
    own = cadences(production)
    assert own["greetings"] == timedelta(minutes=5) and own["report"] == timedelta(minutes=10)
    quick = settings.model_copy(update={"jobs_check_seconds": 2.0})
    application = build_application(quick, rate_limiter=False, takes_updates=False)
    fast = cadences(application)
    for name in (*checked, "broadcasts: start due"):
        assert fast[name] == timedelta(seconds=2), name
    # Only the looks for due work: the broadcasts' progress edits keep their own pace.
    assert fast["broadcasts: progress"] == own["broadcasts: progress"]
    # And the first look comes as soon: two seconds, not the job's own minute or more.
    starts = [triggers(application)[name].start_date for name in checked]
    own_start = triggers(production)["greetings"].start_date
    assert max(starts) - min(starts) < timedelta(seconds=1)
    assert own_start - max(starts) > timedelta(seconds=50)


def test_jobs_check_seconds_is_optional_and_bounded() -> None:
    base = {
        "telegram_bot_token": "987654321:TEST-union-bot-token-abcdefghijklmnop",
        "secret_key": "k" * 32,
    }
    assert load_settings(**base, jobs_check_seconds="").jobs_check_seconds is None
    assert load_settings(**base, jobs_check_seconds="0.5").jobs_check_seconds == 0.5
    for wrong in ("0", "-1", "7200"):
        with pytest.raises(SettingsError):
            load_settings(**base, jobs_check_seconds=wrong)

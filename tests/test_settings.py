"""Settings: defaults, parsing, and the one clear line on bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core.settings import SettingsError, load_settings

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345"
KEY = "k" * 40


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in list(os.environ):
        if name.startswith(
            (
                "TELEGRAM_",
                "DATABASE_",
                "ADMIN_",
                "CADRE_",
                "ESCALATION_",
                "SECRET_",
                "TIMEZONE",
                "DEFAULT_LANG",
                "WEBHOOK_",
                "LOG_LEVEL",
            )
        ):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]


def test_defaults() -> None:
    settings = load_settings(telegram_bot_token=TOKEN, secret_key=KEY)
    assert settings.telegram_api_base_url == "https://api.telegram.org"
    assert settings.api_url == "https://api.telegram.org/bot{token}"
    assert settings.file_url == "https://api.telegram.org/file/bot{token}"
    assert settings.database_url.startswith("sqlite+aiosqlite:///./data/")
    assert settings.timezone == "Asia/Shanghai"
    assert settings.default_language == "zh_CN"
    assert settings.admin_ids == frozenset()
    assert TOKEN not in repr(settings) and KEY not in repr(settings)


def test_environment_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SECRET_KEY", KEY)
    monkeypatch.setenv("ADMIN_IDS", "11, 22,33")
    monkeypatch.setenv("CADRE_CHAT_ID", "-1001234567890")
    monkeypatch.setenv("ESCALATION_CHAT_ID", "")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/union")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/")
    settings = load_settings()
    assert settings.admin_ids == {11, 22, 33}
    assert settings.cadre_chat_id == -1001234567890
    assert settings.escalation_chat_id is None
    assert settings.database_url == "postgresql+asyncpg://u@db.example/union"
    assert settings.api_url == "http://127.0.0.1:8081/bot{token}"


def test_pool_settings_reach_the_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from bot.app import engine_for

    defaults = load_settings(telegram_bot_token=TOKEN, secret_key=KEY)
    assert (
        defaults.database_pool_size,
        defaults.database_max_overflow,
        defaults.database_pool_timeout,
        defaults.database_lock_timeout,
    ) == (10, 10, 30.0, 30.0)
    monkeypatch.setenv("DATABASE_POOL_SIZE", "4")
    monkeypatch.setenv("DATABASE_MAX_OVERFLOW", "2")
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT", "7.5")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/union")
    settings = load_settings(telegram_bot_token=TOKEN, secret_key=KEY)
    pool = engine_for(settings).pool
    assert (pool.size(), pool._max_overflow, pool._timeout) == (4, 2, 7.5)  # type: ignore[attr-defined]
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite3")
    pool = engine_for(load_settings(telegram_bot_token=TOKEN, secret_key=KEY)).pool
    assert (pool.size(), pool._max_overflow, pool._timeout) == (4, 2, 7.5)  # type: ignore[attr-defined]


def test_dotenv_file(tmp_path: object) -> None:
    from pathlib import Path

    Path(".env").write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nSECRET_KEY={KEY}\nTIMEZONE=Europe/Paris\n"
    )
    assert load_settings().timezone == "Europe/Paris"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "nonsense"}, "TELEGRAM_BOT_TOKEN is malformed"),
        ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is malformed"),
        ({"ADMIN_IDS": "12,abc"}, "ADMIN_IDS is malformed"),
        ({"CADRE_CHAT_ID": "the cadres"}, "CADRE_CHAT_ID is malformed"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE is malformed"),
        ({"DEFAULT_LANGUAGE": "fr"}, "DEFAULT_LANGUAGE is malformed"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL is malformed"),
        ({"TELEGRAM_API_BASE_URL": "ftp://x"}, "TELEGRAM_API_BASE_URL is malformed"),
        ({"WEBHOOK_PORT": "99999"}, "WEBHOOK_PORT is malformed"),
        ({"METRICS_PORT": "none"}, "METRICS_PORT is malformed"),
        ({"HEALTH_MAX_OUTBOX_LAG_SECONDS": "0"}, "HEALTH_MAX_OUTBOX_LAG_SECONDS is malformed"),
        ({"DATABASE_POOL_SIZE": "0"}, "DATABASE_POOL_SIZE is malformed"),
        ({"DATABASE_POOL_TIMEOUT": "soon"}, "DATABASE_POOL_TIMEOUT is malformed"),
    ],
)
def test_bad_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str | None], expected: str
) -> None:
    base: dict[str, str | None] = {"TELEGRAM_BOT_TOKEN": TOKEN, "SECRET_KEY": KEY}
    if env == {}:
        base = {}
    base.update(env)
    for name, value in base.items():
        if value is not None:
            monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message
    assert "expected" in message


@pytest.mark.parametrize("command", [["run"], ["webhook"]])
def test_cli_prints_one_line_and_exits_non_zero(command: list[str], tmp_path: object) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SECRET_"))}
    env["TELEGRAM_BOT_TOKEN"] = "not-a-token"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "union-bot: TELEGRAM_BOT_TOKEN is malformed: expected the bot token from @BotFather, "
        "like 123456:ABC-DEF1234ghIkl-zyx57W2v1u."
    ]
    assert "Traceback" not in result.stderr


def test_metrics_port_is_off_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty means no server of its own (the webhook's port serves /healthz anyway)."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SECRET_KEY", KEY)
    assert load_settings().metrics_port is None
    monkeypatch.setenv("METRICS_PORT", "")
    assert load_settings().metrics_port is None
    monkeypatch.setenv("METRICS_PORT", "9100")
    settings = load_settings()
    assert settings.metrics_port == 9100 and settings.metrics_listen == "127.0.0.1"


def test_webhook_refuses_metrics_on_its_own_port() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SECRET_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        SECRET_KEY=KEY,
        WEBHOOK_URL="https://bot.example.org/telegram",
        WEBHOOK_PORT="8443",
        METRICS_PORT="8443",
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "webhook"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "union-bot: METRICS_PORT is the webhook's port, which serves /healthz and /metrics "
        "already: leave METRICS_PORT empty or pick another port."
    ]


def test_the_readmes_configuration_table_names_every_setting_and_no_other() -> None:
    """The README's table is how an operator learns a setting exists: it must stay true."""
    import re
    from pathlib import Path

    from core.settings import Settings

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[
        readme.index("## Configuration") : readme.index(
            "\n## ", readme.index("## Configuration") + 1
        )
    ]
    listed = re.findall(r"^\| `([A-Z0-9_]+)` \|", section, re.MULTILINE)
    assert len(listed) == len(set(listed)), "a setting is listed twice"
    assert set(listed) == {name.upper() for name in Settings.model_fields}

"""Typed settings from the environment (and an optional `.env`).

The variable names are a public interface documented in the README: keep them.
Settings are built once in `main()` and passed along; nothing reads the
environment at import time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_API_BASE_URL = "https://api.telegram.org"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/union-bot.sqlite3"
SUPPORTED_LANGUAGES: tuple[str, ...] = ("zh_CN", "en")

_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")

# What each variable expects, for the one-line start-up error.
EXPECTATIONS: dict[str, str] = {
    "TELEGRAM_BOT_TOKEN": "the bot token from @BotFather, like 123456:ABC-DEF1234ghIkl-zyx57W2v1u",
    "TELEGRAM_API_BASE_URL": "an http(s) URL of a Bot API server, like https://api.telegram.org",
    "DATABASE_URL": "an SQLAlchemy URL, like sqlite+aiosqlite:///./data/union-bot.sqlite3 "
    "or postgresql+asyncpg://user@host/db",
    "DATABASE_POOL_SIZE": "how many database connections are kept open, like 10 (1-200)",
    "DATABASE_MAX_OVERFLOW": "how many more connections may be opened in a rush, like 10 (0-200)",
    "DATABASE_POOL_TIMEOUT": "seconds an update waits for a free database connection, like 30",
    "DATABASE_LOCK_TIMEOUT": "seconds a change waits for a row (or SQLite's write) lock, like 30",
    "ADMIN_IDS": "comma-separated numeric Telegram user ids, like 11111,22222",
    "CADRE_CHAT_ID": "the numeric id of the cadre group, like -1001234567890",
    "ESCALATION_CHAT_ID": "the numeric id of the escalation group, like -1009876543210",
    "SECRET_KEY": "a random secret of at least 32 characters (e.g. from `openssl rand -hex 32`)",
    "TIMEZONE": "an IANA time zone name, like Asia/Shanghai",
    "DEFAULT_LANGUAGE": "one of: " + ", ".join(SUPPORTED_LANGUAGES),
    "WEBHOOK_URL": "the public https URL Telegram posts updates to",
    "WEBHOOK_LISTEN": "the address the webhook server binds, like 0.0.0.0",
    "WEBHOOK_PORT": "a TCP port number, like 8443",
    "WEBHOOK_PATH": "the URL path of the webhook, like telegram",
    "WEBHOOK_SECRET_TOKEN": "1-256 characters of A-Z, a-z, 0-9, _ and -",
    "METRICS_PORT": "a TCP port for /healthz and /metrics, like 9100, or empty for none "
    "(the webhook's port serves them anyway)",
    "METRICS_LISTEN": "the address the /healthz and /metrics server binds, like 127.0.0.1",
    "HEALTH_MAX_UPDATE_SECONDS": "seconds an update may be in hand before /healthz fails, like 120",
    "HEALTH_MAX_OUTBOX_LAG_SECONDS": "seconds a notice may wait past due before /healthz "
    "fails, like 300",
    "LOG_LEVEL": "one of DEBUG, INFO, WARNING, ERROR",
    "REPLY_CHAT_BURST": "how many messages one private chat may get at once before the bot "
    "paces the rest at one a second, like 3 (0-20; 0: no pacing)",
    "DELIVERY_ENABLED": "true or false: whether this instance runs the delivery worker",
    "TELEGRAM_RATE": "messages per second Telegram allows the whole bot, like 30 "
    "(more than 0, at most 1000; above 30 only with paid broadcasts)",
    "TELEGRAM_REPLY_RESERVE": "messages per second of TELEGRAM_RATE the delivery workers "
    "leave to direct replies to members, like 5 (0 or more, less than TELEGRAM_RATE)",
    "DELIVERY_RATE": "an optional cap on the messages per second this instance delivers, "
    "like 10 (more than 0, at most 1000), or empty for none: instances share "
    "TELEGRAM_RATE without a split",
    "DELIVERY_BATCH": "how many due messages the worker takes at once, like 50 (1-5000)",
    "DELIVERY_CONCURRENCY": "how many requests the worker has in flight, like 16 (1-512)",
    "DELIVERY_MAX_ATTEMPTS": "tries before a message fails for good, like 8 (1-100)",
    "DELIVERY_POLL_SECONDS": "seconds between checks for due messages when idle, like 5",
    "DELIVERY_LEASE_SECONDS": "seconds after which a silent instance's messages are "
    "taken over, like 60 (at least 3)",
    "DELIVERY_TIMEOUT_SECONDS": "seconds to wait for Telegram's answer to one message, like 15",
    "DELIVERY_BROADCAST_INTERVAL": "seconds between two messages of a broadcast, 0 to 1, like 0",
    "GRIEVANCE_LINK_RETENTION_DAYS": "days after a grievance is closed before the link to its "
    "author is destroyed, like 90 (1-3650)",
    "GRIEVANCE_CHECK_SECONDS": "seconds between checks of grievance deadlines, like 60 (10-3600)",
    "GRIEVANCE_ADDITIONS_PER_HOUR": "how many messages a member may add to one case in an "
    "hour, like 20 (1-1000)",
    "GRIEVANCE_OFFER_HOURS": "hours after the union's answer during which a member's plain "
    "text is offered to be added to that case, like 72 (1-720)",
    "GREETING_HOUR": "the local hour (0-23, in TIMEZONE) greetings go out from, like 9",
    "PULSE_HOUR": "the local hour (0-19, in TIMEZONE) the monthly satisfaction pulse goes "
    "out from, on weekdays, like 10",
    "REMINDER_OFFSETS": "how long before an activity or training session reminders go out, "
    "comma-separated, like 24h,1h (minutes as 30m; at most 4, each up to 14 days)",
}


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


class Settings(BaseSettings):
    """Everything the bot needs to know about its deployment."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: str = Field(repr=False)
    telegram_api_base_url: str = DEFAULT_API_BASE_URL
    database_url: str = DEFAULT_DATABASE_URL
    # The connection pool (storage.db.make_engine). Handlers hold a connection only
    # while they talk to the database, never while Telegram answers (bot.request),
    # so a small pool serves a large rush; waits beyond the timeouts are "busy".
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_max_overflow: int = Field(default=10, ge=0, le=200)
    database_pool_timeout: float = Field(default=30.0, gt=0, le=600)
    database_lock_timeout: float = Field(default=30.0, gt=0, le=600)
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    cadre_chat_id: int | None = None
    escalation_chat_id: int | None = None
    secret_key: str = Field(repr=False)
    timezone: str = "Asia/Shanghai"
    default_language: Literal["zh_CN", "en"] = "zh_CN"
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_path: str = "telegram"
    webhook_secret_token: str | None = Field(default=None, repr=False)
    # /healthz and /metrics (bot.health): always on the webhook's port; on a port of their
    # own when this is set (for `union-bot run` and `worker`, which have no server).
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_listen: str = "127.0.0.1"
    health_max_update_seconds: float = Field(default=120.0, gt=0, le=86400)
    health_max_outbox_lag_seconds: float = Field(default=300.0, gt=0, le=86400)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Replies, edits and menus to one private chat (bot.request.ChatPacer): Telegram allows
    # a short burst, then about one a second; past that it answers 429 and PTB's limiter
    # then holds every chat's replies. 0 turns the pacing off (the tests' fast sandbox).
    reply_chat_burst: int = Field(default=3, ge=0, le=20)
    # Telegram's sending budget for the whole bot, however many instances send: the
    # delivery workers share TELEGRAM_RATE less the reserve (in the database on
    # PostgreSQL, storage.budget); the reserve is left for the replies to members' updates.
    telegram_rate: float = Field(default=30.0, gt=0, le=1000)
    telegram_reply_reserve: float = Field(default=5.0, ge=0, le=1000)
    # The delivery worker (jobs.delivery); DELIVERY_RATE optionally caps this instance.
    delivery_enabled: bool = True
    delivery_rate: float | None = Field(default=None, gt=0, le=1000)
    delivery_batch: int = Field(default=50, ge=1, le=5000)
    delivery_concurrency: int = Field(default=16, ge=1, le=512)
    delivery_max_attempts: int = Field(default=8, ge=1, le=100)
    delivery_poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    delivery_lease_seconds: float = Field(default=60.0, ge=3, le=86400)
    delivery_timeout_seconds: float = Field(default=15.0, gt=0, le=600)
    # Seconds between two messages of a broadcast (0: as fast as DELIVERY_RATE allows). For
    # the demo, so a broadcast's progress can be watched; at most 1 s, so a claimed batch
    # is sent well within its lease.
    delivery_broadcast_interval: float = Field(default=0.0, ge=0, le=1.0)
    # Grievances (jobs.grievances): how long a closed case stays linkable to its author,
    # and how often deadlines, waiting cards and that retention are checked.
    grievance_link_retention_days: int = Field(default=90, ge=1, le=3650)
    grievance_check_seconds: float = Field(default=60.0, ge=10, le=3600)
    # How many messages a member may add to one case in an hour (more would flood the
    # cadre group), and how long after the union's answer plain text is offered to a case.
    grievance_additions_per_hour: int = Field(default=20, ge=1, le=1000)
    grievance_offer_hours: int = Field(default=72, ge=1, le=720)
    # Holiday and birthday greetings (jobs.greetings) go out from this hour, local time.
    greeting_hour: int = Field(default=9, ge=0, le=23)
    # Roster import (handlers.roster): how long a one-time code works, and how many wrong
    # codes one Telegram account may try in an hour.
    roster_code_days: int = Field(default=30, ge=1, le=365)
    roster_code_attempts_per_hour: int = Field(default=5, ge=1, le=100)
    # The monthly satisfaction pulse (jobs.pulse) goes out on a weekday from this hour.
    pulse_hour: int = Field(default=10, ge=0, le=19)
    # Activity and training reminders (jobs.reminders), in minutes before the start.
    reminder_offsets: Annotated[tuple[int, ...], NoDecode] = (24 * 60, 60)
    # Seconds between two looks of every scheduled job (greetings, report, pulse, polls,
    # reminders, due broadcasts), replacing each one's own cadence (jobs.cadence). Unset in
    # production; a demo or a test sets it so that what is due goes out within seconds.
    jobs_check_seconds: float | None = Field(default=None, gt=0, le=3600)

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: str) -> str:
        value = value.strip()
        if not _TOKEN_RE.match(value):
            raise ValueError("malformed token")
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("not an http(s) URL")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        # Accept the URLs hosting providers hand out and pick the async driver.
        for plain in ("postgres://", "postgresql://"):
            if value.startswith(plain):
                return "postgresql+asyncpg://" + value[len(plain) :]
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value[len("sqlite:///") :]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("unsupported database URL")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admin_ids(cls, value: Any) -> frozenset[int]:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            if not all(re.fullmatch(r"\d{1,20}", p) for p in parts):
                raise ValueError("not a list of numeric ids")
            return frozenset(int(p) for p in parts)
        return frozenset(value or ())

    @field_validator("telegram_reply_reserve")
    @classmethod
    def _reserve_below_rate(cls, value: float, info: ValidationInfo) -> float:
        rate = info.data.get("telegram_rate")
        if rate is not None and value >= rate:
            raise ValueError("the reserve leaves nothing to deliver")
        return value

    @field_validator(
        "cadre_chat_id",
        "escalation_chat_id",
        "metrics_port",
        "delivery_rate",
        "jobs_check_seconds",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("reminder_offsets", mode="before")
    @classmethod
    def _reminder_offsets(cls, value: Any) -> tuple[int, ...]:
        """ "24h,1h" (or minutes as "30m", or bare minutes) into minutes, largest first."""
        parts = value.replace("，", ",").split(",") if isinstance(value, str) else list(value)
        minutes: set[int] = set()
        for part in parts:
            text = str(part).strip().lower()
            match = re.fullmatch(r"(\d{1,5})\s*([hm]?)", text)
            if not match:
                raise ValueError("not a list of durations")
            amount = int(match.group(1)) * (60 if match.group(2) == "h" else 1)
            if not 0 < amount <= 14 * 24 * 60:
                raise ValueError("duration out of range")
            minutes.add(amount)
        if not 0 < len(minutes) <= 4:
            raise ValueError("one to four durations")
        return tuple(sorted(minutes, reverse=True))

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, value: str) -> str:
        if len(value) < 32:
            raise ValueError("too short")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return value

    @field_validator("webhook_secret_token")
    @classmethod
    def _webhook_secret(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("bad characters")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _webhook_path(cls, value: str) -> str:
        return value.strip("/")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def delivery_budget(self) -> float:
        """Messages per second the delivery workers of all instances share."""
        return self.telegram_rate - self.telegram_reply_reserve

    @property
    def delivery_pace(self) -> float:
        """The most one instance's worker sends per second: the shared budget or its own cap."""
        if self.delivery_rate is None:
            return self.delivery_budget
        return min(self.delivery_rate, self.delivery_budget)

    @property
    def api_url(self) -> str:
        """Bot API base for PTB, with PTB's own `{token}` placeholder."""
        return f"{self.telegram_api_base_url}/bot{{token}}"

    @property
    def file_url(self) -> str:
        return f"{self.telegram_api_base_url}/file/bot{{token}}"

    @property
    def sqlite_path(self) -> Path | None:
        """The database file for the embedded default, so its folder can be created."""
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix):
            path = self.database_url[len(prefix) :].split("?", 1)[0]
            if path and path != ":memory:":
                return Path(path)
        return None


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning the first validation problem into one clear line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else "?"
    name = field.upper()
    expected = EXPECTATIONS.get(name, "a valid value")
    if error["type"] == "missing":
        return f"{name} is not set: expected {expected}."
    return f"{name} is malformed: expected {expected}."

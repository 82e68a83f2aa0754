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

from pydantic import Field, ValidationError, field_validator
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
    "LOG_LEVEL": "one of DEBUG, INFO, WARNING, ERROR",
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
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

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

    @field_validator("cadre_chat_id", "escalation_chat_id", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

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

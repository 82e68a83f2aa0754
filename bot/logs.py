"""Logging: INFO by default, never a token, never request parameters.

httpx logs every URL (which carries the bot token) and PTB's DEBUG output
includes request bodies (which carry member ids and text); both are capped so
even LOG_LEVEL=DEBUG leaks neither. A filter also scrubs the token from any
record as a last line of defence.
"""

from __future__ import annotations

import logging

NOISY = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,
    "apscheduler": logging.WARNING,
    "aiohttp.access": logging.WARNING,
    # aiosqlite logs every statement with its parameters (member ids, names) at DEBUG.
    "aiosqlite": logging.INFO,
}


class RedactFilter(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


def configure_logging(level: str, secrets: list[str]) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    handler.addFilter(RedactFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, floor in NOISY.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLevelName(level)))

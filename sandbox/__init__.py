"""A local Telegram Bot API server for tests and demos, and a driver to act as its users.

``SandboxServer`` speaks the Bot API subset the bot uses over real HTTP, so the
real python-telegram-bot ``Application`` runs against it unchanged;
``SandboxDriver`` plays the people on the other side.
"""

from sandbox.driver import SandboxDriver, SandboxUser
from sandbox.server import (
    DEFAULT_BOT_USERNAME,
    DEFAULT_TOKEN,
    SandboxOptions,
    SandboxServer,
    serve,
)

__all__ = [
    "DEFAULT_BOT_USERNAME",
    "DEFAULT_TOKEN",
    "SandboxDriver",
    "SandboxOptions",
    "SandboxServer",
    "SandboxUser",
    "serve",
]

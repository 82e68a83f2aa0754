"""The sandbox server: one aiohttp application with the Bot API, the control API and the page.

``SandboxServer`` owns the world and every service around it (limiter, faults,
webhook delivery, the HTTP client used for webhooks and URL uploads) and their
life cycle: :meth:`SandboxServer.start` binds a port (a free one for port 0) and
:meth:`SandboxServer.stop` releases waiting long polls at once, stops webhook
delivery and closes everything, so tests can start and stop servers freely.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp import web

from sandbox.actions import Actions
from sandbox.bot_api import BotApi
from sandbox.control import PREFIX, ControlApi
from sandbox.files import MAX_UPLOAD_BYTES
from sandbox.limits import FaultInjector, LimitSettings, RateLimiter
from sandbox.people import UserInfo
from sandbox.persist import StateKeeper
from sandbox.state import World
from sandbox.webhook import WebhookDelivery

DEFAULT_TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
DEFAULT_BOT_USERNAME = "UnionSandboxBot"
STATIC_DIR = Path(__file__).with_name("static")
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_URL_FETCH_TIMEOUT = 10.0


def _default_bots() -> dict[str, str]:
    return {DEFAULT_TOKEN: DEFAULT_BOT_USERNAME}


@dataclass
class SandboxOptions:
    """How to run a sandbox server. ``bots`` maps each accepted token to the bot's username.

    ``bot_names`` optionally gives a bot (by token) the display name people see.
    ``state_file`` keeps the world across restarts (loaded at start, saved every
    ``save_interval`` seconds when it changed and at stop; see
    :mod:`sandbox.persist`). ``user_info`` lets the program around the sandbox
    add what it knows about a person to the web chat's people list (e.g. a role).
    """

    host: str = "127.0.0.1"
    port: int = 0
    bots: dict[str, str] = field(default_factory=_default_bots)
    enforce_limits: bool = False
    global_rate: float = 30.0
    per_chat_rate: float = 1.0
    per_chat_burst: int = 3
    group_per_minute: int = 20
    static_dir: Path | None = STATIC_DIR
    webhook_initial_backoff: float = 0.1
    webhook_max_backoff: float = 5.0
    webhook_timeout: float = 10.0
    shutdown_timeout: float = 2.0
    bot_names: dict[str, str] = field(default_factory=dict)
    state_file: Path | None = None
    save_interval: float = 2.0
    user_info: UserInfo | None = None
    # Unix seconds "now" for message dates and invite-link expiry. Tests hand in the
    # bot's own fake clock so both sides agree on the date whatever the machine's is.
    clock: Callable[[], float] = time.time


class SandboxServer:
    """A local Telegram Bot API server with a scriptable world behind it."""

    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        if not self.options.bots:
            raise ValueError("configure at least one bot token")
        for token in self.options.bots:
            if not _TOKEN.match(token):
                raise ValueError(f"bot token {token!r} is not of the form <bot id>:<secret>")
        self.state = World(
            self.options.bots, clock=self.options.clock, names=self.options.bot_names
        )
        self.actions = Actions(self.state)
        self.limiter = RateLimiter(
            LimitSettings(
                enforce=self.options.enforce_limits,
                global_rate=self.options.global_rate,
                per_chat_rate=self.options.per_chat_rate,
                per_chat_burst=self.options.per_chat_burst,
                group_per_minute=self.options.group_per_minute,
            )
        )
        self.faults = FaultInjector()
        self.webhooks = WebhookDelivery(
            self.state,
            self._client,
            initial_backoff=self.options.webhook_initial_backoff,
            max_backoff=self.options.webhook_max_backoff,
            timeout=self.options.webhook_timeout,
        )
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._loaded = False
        self.keeper: StateKeeper | None = None
        if self.options.state_file is not None:
            self.keeper = StateKeeper(
                self.state, self.options.state_file, self.options.save_interval
            )
        self.base_url: str | None = None

    # ------------------------------------------------------------------ services

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _fetch_url(self, url: str) -> tuple[bytes, str | None, str | None]:
        """Download a file a bot passed by URL: (data, content type, error or None)."""
        try:
            async with self._client().get(
                url, timeout=aiohttp.ClientTimeout(total=_URL_FETCH_TIMEOUT)
            ) as response:
                if response.status != 200:
                    return b"", None, f"HTTP status {response.status}"
                data = await response.content.read(MAX_UPLOAD_BYTES + 1)
                if len(data) > MAX_UPLOAD_BYTES:
                    return b"", None, "file is too big"
                return data, response.content_type, None
        except (aiohttp.ClientError, TimeoutError) as error:
            return b"", None, type(error).__name__

    # ------------------------------------------------------------------ application

    def build_app(self) -> web.Application:
        """The complete aiohttp application (also usable with aiohttp's test client)."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        bot_api = BotApi(
            self.state, self.actions, self.limiter, self.faults, self.webhooks, self._fetch_url
        )
        app.add_routes(bot_api.routes())
        control = ControlApi(
            self.state,
            self.actions,
            self.limiter,
            self.faults,
            self.options.user_info,
            self.webhooks,
        )
        app.add_subapp(PREFIX, control.app())
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{path:.*}", self._static)
        return app

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return self._static_file("index.html")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        return self._static_file(request.match_info["path"])

    def _static_file(self, relative: str) -> web.StreamResponse:
        """Serve a file of the web chat page if the static folder has it (never outside it)."""
        root = self.options.static_dir
        if root is None or not root.is_dir():
            raise web.HTTPNotFound(text="the web chat page is not installed")
        base = root.resolve()
        target = (base / relative).resolve()
        if not target.is_relative_to(base) or not target.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(target)

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> str:
        """Load the saved world (if any), start serving; return the base URL.

        The URL looks like ``http://127.0.0.1:8081``. A port in use raises
        ``OSError`` and leaves nothing running.
        """
        if self._runner is not None:
            raise RuntimeError("the sandbox server is already running")
        if self.state.closed:
            raise RuntimeError("a stopped sandbox server can't be restarted; make a new one")
        if self.keeper is not None and not self._loaded:
            self.keeper.load()
            self._loaded = True
        runner = web.AppRunner(
            self.build_app(),
            handler_cancellation=True,
            shutdown_timeout=self.options.shutdown_timeout,
            access_log=None,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.options.host, self.options.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{port}"
        if self.keeper is not None:
            self.keeper.start()
        return self.base_url

    async def stop(self) -> None:
        """Answer pending long polls, stop webhook delivery, close the server, save the world."""
        self.state.close()
        await self.webhooks.close()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
            if self.keeper is not None:
                await self.keeper.stop()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def run_forever(self) -> None:
        """Run (starting if needed) until cancelled, then stop cleanly."""
        if self._runner is None:
            await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def bot_url(self, token: str | None = None) -> str:
        """The ``base_url`` to give a Bot API client (PTB replaces ``{token}``)."""
        if self.base_url is None:
            raise RuntimeError("the sandbox server is not running")
        return f"{self.base_url}/bot{token or '{token}'}"

    def file_url(self, token: str | None = None) -> str:
        """The ``base_file_url`` to give a Bot API client."""
        if self.base_url is None:
            raise RuntimeError("the sandbox server is not running")
        return f"{self.base_url}/file/bot{token or '{token}'}"


async def serve(
    options: SandboxOptions, on_started: Callable[[SandboxServer], None] | None = None
) -> None:
    """Run a sandbox until cancelled. Prints nothing; ``on_started`` gets the running server."""
    server = SandboxServer(options)
    await server.start()
    if on_started is not None:
        on_started(server)
    await server.run_forever()

"""`union-bot demo`: the sandbox, the bot and the web chat in one process, with example data.

A newcomer without a Telegram token opens the web chat and can be a member,
the cadre and the admin. The bot runs exactly as `union-bot run` would (same
application, real HTTP to the sandbox); only the data is made up.

Everything lives in one data folder: the SQLite database (the bot's side), the
sandbox state file with its files (Telegram's side: people, groups, chat
history) and the secret key. Running the demo again continues where it stopped;
`--reset` deletes the folder first.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import secrets
import shutil
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build_application
from bot.demo_data import (
    ADMIN_ID,
    CADRE_CHAT_ID,
    CADRE_ID,
    ESCALATION_CHAT_ID,
    PEOPLE,
    SEEDERS,
)
from core.i18n import translator
from core.runtime import runtime_of
from core.settings import Settings, load_settings
from handlers.menu import main_menu
from handlers.scope import Scope
from sandbox import SandboxOptions, SandboxServer
from storage import members
from storage.db import transaction
from storage.models import Role

log = logging.getLogger(__name__)

DEMO_TOKEN = "7000000000:DEMO-union-bot-sandbox-token-abcdefgh"
DEMO_BOT_USERNAME = "UnionDemoBot"
DEMO_BOT_NAME = "工会助手"
CADRE_GROUP_TITLE = "工会干部群"
ESCALATION_GROUP_TITLE = "上级工会督办群"
SEEDED_MARKER = ".seeded"
DATABASE_FILE = "union-bot.sqlite3"
STATE_FILE = "sandbox.json"
ROLE_LABELS = {
    Role.MEMBER: "会员 · member",
    Role.CADRE: "干部 · cadre",
    Role.ADMIN: "管理员 · admin",
}


class DemoError(Exception):
    """The demo cannot start; the message says why and what to do, in one line."""


@dataclass
class DemoOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = field(default_factory=lambda: Path("data/demo"))
    reset: bool = False
    log_level: str = "WARNING"
    # Seconds between two messages of a broadcast (DELIVERY_BROADCAST_INTERVAL). The demo's
    # 12 members would get a broadcast in half a second at the real pace, too fast to see its
    # progress or to press Pause, Resume or Stop; at 1 s it takes about 12 seconds. Other
    # messages (replies, notices) keep the real pace.
    broadcast_interval: float = 1.0


class Demo:
    """Start and stop the whole demo; `url` is the web chat once started."""

    def __init__(self, options: DemoOptions) -> None:
        self.options = options
        self.server: SandboxServer | None = None
        self.application: Application | None = None
        self.url = ""
        self._ready = False

    @property
    def data_dir(self) -> Path:
        return self.options.data_dir

    def _secret_key(self) -> str:
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def settings(self, base_url: str) -> Settings:
        return load_settings(
            telegram_bot_token=DEMO_TOKEN,
            telegram_api_base_url=base_url,
            database_url=f"sqlite+aiosqlite:///{self.data_dir.resolve() / DATABASE_FILE}",
            secret_key=self._secret_key(),
            admin_ids=frozenset({ADMIN_ID}),
            cadre_chat_id=CADRE_CHAT_ID,
            escalation_chat_id=ESCALATION_CHAT_ID,
            log_level=self.options.log_level,
            delivery_broadcast_interval=self.options.broadcast_interval,
        )

    def _prepare_data_dir(self) -> None:
        if self.options.reset and self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not (self.data_dir / DATABASE_FILE).exists():
            # A database deleted by hand gets its example data again.
            (self.data_dir / SEEDED_MARKER).unlink(missing_ok=True)

    async def start(self) -> str:
        """Start sandbox, bot and page; return the web chat URL. Raises DemoError."""
        self._prepare_data_dir()
        server = SandboxServer(
            SandboxOptions(
                host=self.options.host,
                port=self.options.port,
                bots={DEMO_TOKEN: DEMO_BOT_USERNAME},
                bot_names={DEMO_TOKEN: DEMO_BOT_NAME},
                state_file=self.data_dir / STATE_FILE,
                user_info=self._user_info,
            )
        )
        try:
            base_url = await server.start()
        except OSError as error:
            raise DemoError(self._listen_problem(error)) from None
        self.server = server
        self.url = base_url + "/"
        self._seed_world(server)
        application = build_application(self.settings(base_url))
        self.application = application
        await application.initialize()
        assert application.post_init is not None
        await application.post_init(application)  # migrations, commands, delivery
        await self._seed_database(application)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, allowed_updates=ALLOWED_UPDATES)
        self._ready = True
        return self.url

    def _listen_problem(self, error: OSError) -> str:
        host, port = self.options.host, self.options.port
        if error.errno == errno.EADDRINUSE:
            return (
                f"port {port} on {host} is already in use (another demo?); "
                f"choose another with --port, e.g. --port {port + 1 if port else 8081}"
            )
        return f"cannot listen on {host}:{port} ({error.strerror or error}); try --host or --port"

    async def stop(self) -> None:
        """Stop the bot, then the sandbox (which saves the world). Safe to call twice."""
        self._ready = False
        application, self.application = self.application, None
        if application is not None:
            await _stop_application(application)
        server, self.server = self.server, None
        if server is not None:
            await server.stop()

    def _seed_world(self, server: SandboxServer) -> None:
        """The people and groups on the Telegram side; only what the saved world lacks."""
        world = server.state
        actions = server.actions
        bot_id = world.default_bot_id
        for person in PEOPLE:
            if person.telegram_id not in world.users:
                first, _, last = person.name.partition(" ")
                actions.create_user(
                    first,
                    last or None,
                    username=person.username,
                    language_code="en" if person.language == "en" else "zh-hans",
                    user_id=person.telegram_id,
                )
            if person.registered:
                actions.open_private(bot_id, person.telegram_id)
        if CADRE_CHAT_ID not in world.groups:
            actions.create_group(
                CADRE_GROUP_TITLE, chat_id=CADRE_CHAT_ID, members=[CADRE_ID], creator=ADMIN_ID
            )
        if ESCALATION_CHAT_ID not in world.groups:
            actions.create_group(
                ESCALATION_GROUP_TITLE, chat_id=ESCALATION_CHAT_ID, creator=ADMIN_ID
            )

    async def _seed_database(self, application: Application) -> None:
        marker = self.data_dir / SEEDED_MARKER
        if marker.exists():
            return
        async with transaction(runtime_of(application).sessions) as session:
            secret = runtime_of(application).settings.secret_key
            for seed in SEEDERS:
                await seed(session, secret)
        # Committed: now the bot may talk. Done before the marker, so a crash greets again.
        await self._greet_seeded(application)
        marker.write_text("seeded\n")

    async def _greet_seeded(self, application: Application) -> None:
        """Each seeded member's chat opens with a word from the bot and their main menu.

        A reply keyboard exists in a chat only once the bot sends one; a member who
        registered through the chat got it with the welcome, the seeded ones get it here.
        """
        runtime = runtime_of(application)
        welcomes: list[tuple[int, str, Any]] = []
        async with runtime.sessions() as session:
            for person in PEOPLE:
                member = await members.get_member(session, person.telegram_id)
                if member is None:
                    continue
                role = members.effective_role(
                    member, member.telegram_id, runtime.settings.admin_ids
                )
                scope = Scope(session, runtime, member, role, translator(member.language))
                text = scope._(
                    "Hello, {name}! You are registered with the union. The menu below has "
                    "what you can do; /help explains it."
                ).format(name=escape(member.name))
                welcomes.append((member.telegram_id, text, main_menu(scope)))
        for telegram_id, text, keyboard in welcomes:
            await application.bot.send_message(telegram_id, text, reply_markup=keyboard)

    async def _user_info(self, telegram_id: int) -> dict[str, Any]:
        """What the web chat shows beside a person: their role in the union."""
        application = self.application
        if application is None or not self._ready:
            return {}
        runtime = runtime_of(application)
        async with runtime.sessions() as session:
            member = await members.get_member(session, telegram_id)
        role = members.effective_role(member, telegram_id, runtime.settings.admin_ids)
        if member is None and role is Role.MEMBER:
            return {"role": "visitor", "role_label": "未注册 · not registered"}
        return {
            "role": role.value,
            "role_label": ROLE_LABELS[role],
            "department": member.department.name if member and member.department else None,
        }


async def _stop_application(application: Application) -> None:
    """Each step on its own: one failing must not leave the others (and their tasks) running."""
    updater = application.updater
    if updater is not None and updater.running:
        with contextlib.suppress(Exception):
            await updater.stop()
    if application.running:
        with contextlib.suppress(Exception):
            await application.stop()
    if application.post_shutdown is not None:
        with contextlib.suppress(Exception):
            await application.post_shutdown(application)
    with contextlib.suppress(Exception):
        await application.shutdown()


WHAT_TO_TRY = """\
Union Bot demo is running — open the web chat:

    {url}

What to try (pick a person on the left, then a chat under them):
  * 林新 (not registered yet): press 开始 / Start and register in a minute.
  * 王小明 and the other members: 📝 提交诉求 (an anonymous grievance), 🎉 活动 (sign up
    for the basketball match), 🗳 投票 (the canteen poll), 💡 意见建议, 👤 我的资料,
    🌐 语言 (English too). Anna Schmidt reads everything in English.
  * 李干事 (cadre) in 工会干部群: take and answer the grievance — the member gets the answer
    from "the union", the cadre never learns who wrote; reply to the waiting suggestion.
  * 周主席 (admin): 🛠 管理 → 📢 发通知 (a broadcast with preview and progress; the demo
    sends one message a second, so ⏸ Pause, ▶️ Resume and ✖️ Stop can be tried),
    🎉 节日问候 (greetings calendar and templates), 👥 会员 → 林新 → ⭐ 设为干部,
    then as 林新 open the invite link in the bot's message to join 工会干部群;
    📋 导入花名册 takes a CSV or XLSX roster (preview, then apply) and sends the codes.
  * A one-time code from the roster: as 林新 send "/start JZ8K3M7Q" (also WX4P9R2T,
    HN6F5V3C) and confirm: registered with the roster's data.

Data is kept in {data} (--reset starts over). Ctrl-C stops everything.
"""


async def run_demo(options: DemoOptions, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set; print the URL and what to try. Raises DemoError."""
    demo = Demo(options)
    stop = stop or asyncio.Event()
    try:
        url = await demo.start()
    except BaseException:
        await demo.stop()
        raise
    try:
        print(WHAT_TO_TRY.format(url=url, data=options.data_dir), flush=True)
        await stop.wait()
    finally:
        await demo.stop()
        print("Demo stopped.", flush=True)

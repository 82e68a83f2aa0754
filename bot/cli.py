"""`union-bot`: run (polling), webhook, sandbox, db upgrade."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import logging
import sys
from collections.abc import Iterator, Sequence

from bot.logs import configure_logging
from core.settings import Settings, SettingsError, load_settings

log = logging.getLogger("union_bot")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"union-bot: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


@contextlib.contextmanager
def loading() -> Iterator[None]:
    """The garbage collector off while the bot's modules load and the bot is built.

    Loading makes some hundreds of thousands of objects and next to no garbage, yet
    the collector went over them again and again: 0.1 s of the 0.75 s `import bot.app`
    takes on a quiet machine, 0.06 s of a 1 s start-up at 100,000 members. What
    loading leaves is collected as usual afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# glibc's mallopt parameter for the number of heaps (<malloc.h>: M_ARENA_MAX).
_M_ARENA_MAX = -8


def fewer_heaps(arenas: int = 2) -> bool:
    """Ask glibc's malloc for at most ``arenas`` heaps (before any thread starts).

    glibc gives each thread that allocates a heap of its own, up to eight per core,
    and a heap keeps what was freed in it. aiosqlite runs a thread per connection
    (20 with the pool full), and SQLite's page caches and the rows it reads are
    allocated there, so the bot held the leftovers of many heaps. With two:
    `scale.py --quick --database sqlite` VmHWM 162 -> 156 MiB, all of it in the
    poll rush, with every connection busy. Elsewhere than glibc, nothing changes.
    """
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # no such C library, or no mallopt in it
        return False


def cmd_run(args: argparse.Namespace) -> int:
    with loading():
        from bot.app import ALLOWED_UPDATES, build_application

        settings = _settings()
        configure_logging(settings.log_level, [settings.telegram_bot_token, settings.secret_key])
        application = build_application(settings)
    log.info("polling %s for updates", settings.telegram_api_base_url)
    application.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
    return 0


def cmd_webhook(args: argparse.Namespace) -> int:
    with loading():
        from bot.app import ALLOWED_UPDATES, build_application
        from bot.webhook import serve

        settings = _settings()
        configure_logging(settings.log_level, [settings.telegram_bot_token, settings.secret_key])
    if not settings.webhook_url:
        print(
            "union-bot: WEBHOOK_URL is not set: expected the public https URL "
            "Telegram posts updates to.",
            file=sys.stderr,
        )
        return 2
    if settings.metrics_port == settings.webhook_port:
        print(
            "union-bot: METRICS_PORT is the webhook's port, which serves /healthz and "
            "/metrics already: leave METRICS_PORT empty or pick another port.",
            file=sys.stderr,
        )
        return 2
    with loading():
        application = build_application(settings)
    url = settings.webhook_url.rstrip("/")
    if not url.endswith("/" + settings.webhook_path):
        url = f"{url}/{settings.webhook_path}"
    log.info(
        "serving the webhook on %s:%s/%s",
        settings.webhook_listen,
        settings.webhook_port,
        settings.webhook_path,
    )
    # Our own server, not PTB's run_webhook: it skips an update it cannot parse
    # after one line instead of answering 400 and logging the update (bot.webhook).
    asyncio.run(
        serve(
            application,
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            path=settings.webhook_path,
            url=url,
            secret_token=settings.webhook_secret_token,
            allowed_updates=ALLOWED_UPDATES,
        )
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """An instance that delivers and runs scheduled jobs but takes no updates.

    Telegram hands updates to one consumer; more instances on the same
    PostgreSQL add delivery throughput and keep jobs running if one stops.
    """
    import signal

    with loading():
        from bot.app import build_application

        settings = _settings()
        configure_logging(settings.log_level, [settings.telegram_bot_token, settings.secret_key])
        application = build_application(settings, takes_updates=False)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with application:
            assert application.post_init is not None and application.post_shutdown is not None
            await application.post_init(application)
            await application.start()
            log.info("worker running: delivery and scheduled jobs, no updates")
            await stop.wait()
            await application.stop()
            await application.post_shutdown(application)

    asyncio.run(main())
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sandbox.server import SandboxOptions, serve

    configure_logging("INFO", [args.token])
    options = SandboxOptions(
        host=args.host,
        port=args.port,
        bots={args.token: args.bot_username},
        enforce_limits=args.enforce_limits,
        state_file=Path(args.state_file) if args.state_file else None,
    )
    print(f"Sandbox Bot API on http://{args.host}:{args.port}")
    print(f"  TELEGRAM_API_BASE_URL=http://{args.host}:{args.port}")
    print(f"  TELEGRAM_BOT_TOKEN={args.token}")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(options))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import signal
    from pathlib import Path

    from bot.demo import DemoError, DemoOptions, run_demo

    configure_logging("WARNING", [])
    options = DemoOptions(
        host=args.host, port=args.port, data_dir=Path(args.data_dir), reset=args.reset
    )

    async def main() -> None:
        # Signals only set an event: the demo then stops in order (bot, sandbox, save),
        # instead of a KeyboardInterrupt tearing through whatever is running.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_demo(options, stop)

    try:
        asyncio.run(main())
    except DemoError as exc:
        print(f"union-bot: the demo could not start: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"union-bot: the demo could not start: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from storage.db import make_engine
    from storage.migrate import current_revision, upgrade

    try:
        settings = load_settings(telegram_bot_token="0:" + "x" * 35, secret_key="x" * 32)
    except SettingsError as exc:
        print(f"union-bot: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, [])

    async def go() -> str | None:
        engine = make_engine(settings.database_url)
        try:
            await upgrade(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    revision = asyncio.run(go())
    print(f"database at revision {revision}")
    return 0


SANDBOX_TOKEN = "123456789:SANDBOX-union-bot-token-0000000000000"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="union-bot", description="Union Bot for Telegram.")
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot with long polling").set_defaults(func=cmd_run)
    sub.add_parser("webhook", help="run the bot behind a webhook").set_defaults(func=cmd_webhook)
    sub.add_parser(
        "worker", help="deliver messages and run scheduled jobs, without taking updates"
    ).set_defaults(func=cmd_worker)
    sandbox = sub.add_parser("sandbox", help="run the local Bot API sandbox alone")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8081)
    sandbox.add_argument("--token", default=SANDBOX_TOKEN)
    sandbox.add_argument("--bot-username", default="UnionSandboxBot")
    sandbox.add_argument(
        "--enforce-limits", action="store_true", help="answer 429 past Telegram's rate limits"
    )
    sandbox.add_argument(
        "--state-file", help="keep people, groups and chat history in this JSON file across runs"
    )
    sandbox.set_defaults(func=cmd_sandbox)
    demo = sub.add_parser("demo", help="sandbox + bot + web chat with example data")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080, help="web chat and sandbox port")
    demo.add_argument("--data-dir", default="data/demo", help="where the demo keeps its data")
    demo.add_argument("--reset", action="store_true", help="start over with fresh example data")
    demo.set_defaults(func=cmd_demo)
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    fewer_heaps()
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())

"""One delivery worker in its own process, for the crash test (and by hand).

    python tests/delivery/worker_process.py --api-url http://127.0.0.1:8081 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1/db --token 123:abc…
    (or --database-url sqlite+aiosqlite:///path/to/union.sqlite3)

Prints "ready" once it has recovered the outbox and started; SIGTERM stops it
cleanly, SIGKILL is what the crash test does to it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from jobs.delivery import DeliveryConfig, DeliveryWorker
from jobs.sender import BotSender
from storage.db import make_engine, make_session_factory
from storage.outbox import outbox_cipher


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--api-url", required=True, help="Bot API base URL (the sandbox)")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--secret", default="test-secret-key-0123456789abcdef0123456789")
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--per-chat-interval", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--lease", type=float, default=60.0)
    parser.add_argument("--poll", type=float, default=1.0)
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    engine = make_engine(args.database_url)
    config = DeliveryConfig(
        rate=args.rate,
        per_chat_interval=args.per_chat_interval,
        batch=args.batch,
        concurrency=args.concurrency,
        lease=args.lease,
        poll=args.poll,
        backoff_base=0.1,
    )
    worker = DeliveryWorker(
        make_session_factory(engine),
        BotSender.for_api(args.token, args.api_url, config),
        config=config,
        cipher=outbox_cipher(args.secret),
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await worker.start()
    print("ready", flush=True)
    try:
        await stop.wait()
    finally:
        await worker.stop()
        await engine.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(parse()))

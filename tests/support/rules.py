"""House rules every e2e test checks on the side, whatever it asserts itself."""

from __future__ import annotations

import logging


class RuleWatch(logging.Handler):
    """Collects the "Bot API request made while holding a connection" errors (storage.db.report_if_holding).

    Every bot in the e2e tests runs under one: a test that makes the bot (a
    handler or a job) talk to Telegram inside a transaction fails, whatever it
    asserts itself.
    """

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.breaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.breaks.append(record.getMessage())

    def __enter__(self) -> RuleWatch:
        logging.getLogger("storage.db").addHandler(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        logging.getLogger("storage.db").removeHandler(self)

    def assert_kept(self) -> None:
        assert not self.breaks, "commit, then talk to Telegram (ARCHITECTURE.md): " + "; ".join(
            sorted(set(self.breaks))
        )

"""What every handler and job reaches through `context.bot_data`: `runtime_of(context)`.

The one key in ``bot_data`` is `RUNTIME_KEY`; everything shared lives on typed
fields of :class:`Runtime` instead of string keys.

Built once in `bot.app.build_application`; tests build their own with a fake
clock or another database. No module globals, no import-time side effects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.clock import utcnow
from core.metrics import Metrics
from core.settings import Settings

if TYPE_CHECKING:
    from telegram.ext import Application, CallbackContext

Audience = Literal["member", "cadre", "admin"]
CommandScope = Literal["private", "admin", "cadre_group"]


@dataclass(frozen=True)
class MenuItem:
    """A main-menu button; shown only once its feature has registered it."""

    key: str
    label: str  # msgid, translated when the keyboard is drawn
    order: int
    audience: Audience = "member"


@dataclass(frozen=True)
class CommandSpec:
    """A command offered by `setMyCommands`, with its description msgid."""

    name: str
    description: str
    scopes: frozenset[CommandScope]
    order: int


# A feature's offer for private text or files no handler took ("add this to your case?"):
# called by `handlers.fallback` in the update's scope; True when it answered.
FreeTextClaim = Callable[[Any, Any, Any], Awaitable[bool]]

# Names the line an update stands in (a hashable key) or None: updates of one line
# start in the order they arrived (`bot.processor`), e.g. sign-ups to one activity.
LineKey = Callable[[Any], Hashable | None]

# Opens what a shared link names (`/start act_12`): called with the update, the
# context, the update's scope and the target's id, after the member registered.
DeepLinkOpener = Callable[[Any, Any, Any, int], Awaitable[None]]
# Opens a link that carries a code (`/start join_K7M2P9QX`), called with the code as
# sent; unlike id links it opens for newcomers too, before any registration.
CodeLinkOpener = Callable[[Any, Any, Any, str], Awaitable[None]]


class Stoppable(Protocol):
    """A server of this instance's (`bot.health.HealthServer`), stopped at shutdown."""

    async def stop(self) -> None: ...


class Waker(Protocol):
    """The delivery worker as the layers above jobs see it: told when new outbox rows commit.

    A Protocol because core imports nothing of ours; `jobs.delivery.DeliveryWorker`
    is the one implementation.
    """

    def wake(self) -> None: ...


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime] = utcnow
    # False for `union-bot worker`: jobs and delivery only, no handlers registered.
    takes_updates: bool = True
    menu: list[MenuItem] = field(default_factory=list)
    commands: list[CommandSpec] = field(default_factory=list)
    free_text: list[FreeTextClaim] = field(default_factory=list)
    lines: list[LineKey] = field(default_factory=list)
    deep_links: dict[str, DeepLinkOpener] = field(default_factory=dict)
    code_links: dict[str, CodeLinkOpener] = field(default_factory=dict)
    # Groups grievance categories route to: union groups too, for the guards
    # (commands, replies). Kept current by `jobs.grievances.refresh_groups` and
    # by the category editor.
    routed_groups: frozenset[int] = frozenset()
    # Reply prompts posted under cards, per chat: prompt message id → the card's message
    # id, so an answer to a prompt refreshes its card (Telegram does not nest replies).
    # This instance's memory only, lost on restart (then the card is not refreshed).
    prompt_cards: dict[int, dict[int, int]] = field(default_factory=dict)
    # "job:ErrorClass" of job failures already logged, so each is logged once until the
    # job succeeds again (a job every few seconds would flood the log otherwise).
    logged_job_errors: set[str] = field(default_factory=set)
    # This instance's delivery worker while it runs (`jobs.delivery.start_delivery`).
    delivery: Waker | None = None
    # This instance's counters for /metrics (`core.metrics`), a registry of its own.
    metrics: Metrics = field(default_factory=Metrics)
    # `/healthz` and `/metrics` on METRICS_PORT while this instance runs (None: not served).
    health_server: Stoppable | None = None

    def add_menu(self, item: MenuItem) -> None:
        self.menu.append(item)
        self.menu.sort(key=lambda i: i.order)

    def add_command(self, spec: CommandSpec) -> None:
        self.commands.append(spec)
        self.commands.sort(key=lambda c: c.order)

    def add_free_text(self, claim: FreeTextClaim) -> None:
        """Offer ``claim`` private messages no handler understood, before "not understood"."""
        self.free_text.append(claim)

    def add_line(self, key_of: LineKey) -> None:
        """Make the updates ``key_of`` names stand in line by arrival."""
        self.lines.append(key_of)

    def add_deep_link(self, kind: str, opener: DeepLinkOpener) -> None:
        """Let ``opener`` show what links of ``kind`` name (`display.links`)."""
        if kind in self.deep_links:
            raise ValueError(f"deep link kind {kind!r} registered twice")
        self.deep_links[kind] = opener

    def add_code_link(self, kind: str, opener: CodeLinkOpener) -> None:
        """Let ``opener`` take links of ``kind`` that carry a code (`display.links.CODE_KINDS`)."""
        if kind in self.code_links:
            raise ValueError(f"code link kind {kind!r} registered twice")
        self.code_links[kind] = opener

    def now(self) -> datetime:
        return self.clock()


RUNTIME_KEY = "runtime"


def runtime_of(
    context: CallbackContext[Any, Any, Any, Any] | Application[Any, Any, Any, Any, Any, Any],
) -> Runtime:
    runtime: Runtime = context.bot_data[RUNTIME_KEY]
    return runtime

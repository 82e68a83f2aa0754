"""The authorization matrix: every admin and cadre command and button, tried by whoever may not.

The rows come from the registries — the runtime's commands (`CommandSpec`) and
the callback codec's actions (`display.callbacks.all_actions`) — and this
module says, for each, who may use it (`COMMANDS`, `BUTTONS`). A command or
button added without saying so fails `test_every_command_and_button_has_a_rule`,
so a new admin screen is covered the day it is written.

Each row is tried by a member, by someone who never registered and, where only
admins may, by a cadre; private buttons and commands are also tried in the cadre
group, and the cadre group's buttons in a private chat. Buttons are pressed with
forged data naming real rows (an activity, a poll, a case, a scheduled broadcast,
a training and its enrolment, handbook entries, …), so a refusal is for the role
and never for a missing row. Every row must be answered with a refusal that says
what to do next (not silence, not "not understood"), in the presser's language,
and leave every table as it was.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from dataclasses import dataclass
from typing import Literal

from babel.messages.pofile import read_po

from bot.app import build_application
from core.i18n import LOCALES
from core.runtime import runtime_of
from core.settings import load_settings
from display import callbacks as cb
from sandbox.driver import ChatMessage, SandboxUser
from tests.support.authz import ROW_KINDS, World, changed, make_world, settled, snapshot
from tests.support.bot import BotHarness
from tests.support.config import CADRE_CHAT, SECRET, TOKEN
from tests.support.refusals import REFUSAL

Need = Literal["member", "cadre", "admin"]
Where = Literal["private", "group"]


@dataclass(frozen=True)
class Rule:
    """Who may use a command or press a button, and in which chat a command lives.

    ``draft``: the button acts only inside its conversation (a draft's step),
    whose entry point checks the role; outside it, "no longer valid" is the answer.
    """

    need: Need
    where: Where = "private"
    draft: bool = False


MEMBER = Rule("member")
CADRE = Rule("cadre")
ADMIN = Rule("admin")
CADRE_GROUP = Rule("cadre", "group")
ADMIN_DRAFT = Rule("admin", draft=True)
CADRE_DRAFT = Rule("cadre", draft=True)

# Commands by name. Member commands are listed so that a new command must say who may.
COMMANDS: dict[str, Rule] = {
    **dict.fromkeys(
        ["start", "profile", "language", "help", "cancel", "forget", "groups", "activities"],
        MEMBER,
    ),
    **dict.fromkeys(
        ["trainings", "my_trainings", "suggest", "polls", "grievance", "mycases", "handbook"],
        MEMBER,
    ),
    **dict.fromkeys(
        [
            "admin",
            "roster",
            "greetings",
            "broadcast",
            "broadcasts",
            "grievance_audit",
            "grievance_settings",
            "newpoll",  # cadres too once an admin allows it; not by default
            "pulse",
        ],
        ADMIN,
    ),
    **dict.fromkeys(
        ["new_activity", "new_training", "report", "handbook_misses", "handbook_synonyms"], CADRE
    ),
    **dict.fromkeys(["cases", "case", "grievance_stats"], CADRE_GROUP),
}

# Buttons by callback prefix; the chat they are pressed in is the action's own (`chat`).
BUTTONS: dict[str, Rule] = {
    # Membership, and what every member presses
    **dict.fromkeys(["lang", "pedit", "fgok", "fgno", "cancel"], MEMBER),
    **dict.fromkeys(["gvlist", "gvcase", "gvadd", "gvoffr", "gvcls", "gvclsy"], MEMBER),
    **dict.fromkeys(["gvsign", "gvsgny", "gvrate", "gvreop", "gvfls", "gvfile"], MEMBER),
    **dict.fromkeys(["pv", "pres", "popen", "plist", "ppv"], MEMBER),
    **dict.fromkeys(["sgnew", "sgmine", "sgsend"], MEMBER),
    **dict.fromkeys(["acl", "aco", "acs", "acx", "acci", "acr"], MEMBER),
    **dict.fromkeys(["trl", "tro", "tre", "trw", "trr"], MEMBER),
    **dict.fromkeys(
        ["igl", "igo", "igj", "igx", "rjn", "rjx", "plst", "hbt", "hbe", "hbs"], MEMBER
    ),
    # The admin panel
    **dict.fromkeys(["adm", "amem", "amone", "arole", "afind", "atags"], ADMIN),
    **dict.fromkeys(["adeps", "adep", "adepa", "adepr", "adepd", "adepx"], ADMIN),
    **dict.fromkeys(["agrps", "agrp", "agrpa", "agrpr", "agrpd", "agrpx"], ADMIN),
    # Broadcasts
    **dict.fromkeys(["bcnew", "bcpau", "bcres", "bcstop", "bcstpy", "bcstpn"], ADMIN),
    **dict.fromkeys(["bclist", "bcview"], ADMIN),
    **dict.fromkeys(["bcaud", "bcnext", "bcen", "bcnoen", "bcfmt", "bcback"], ADMIN_DRAFT),
    **dict.fromkeys(["bcened", "bcendr", "bcenbk"], ADMIN_DRAFT),
    **dict.fromkeys(["bcsend", "bcsch", "bcquit"], ADMIN_DRAFT),
    # Greetings
    **dict.fromkeys(["gr", "gro", "grt", "gre", "grp", "grr", "gra", "grd", "grx"], ADMIN),
    **dict.fromkeys(["grn", "gru"], ADMIN),
    # Grievances: the case's card in the cadre group, and the admins' settings
    **dict.fromkeys(["gvtake", "gvrep", "gvres", "gvresy", "gvesc", "gvmute"], CADRE),
    **dict.fromkeys(["gvunm", "gvcard", "gvpass"], CADRE),
    **dict.fromkeys(["gvset", "gvcat", "gvcadd", "gvcren", "gvcsla", "gvcrt"], ADMIN),
    **dict.fromkeys(["gvcurg", "gvcact", "gvlim"], ADMIN),
    # Polls: an admin's poll is managed by admins (and the cadre who made theirs)
    **dict.fromkeys(["pnew", "pman", "pdept", "pxls", "pext", "pclose"], ADMIN),
    **dict.fromkeys(["pclx", "pdel", "pdelx", "pset", "pcadr"], ADMIN),
    **dict.fromkeys(["pds", "pdaud"], ADMIN_DRAFT),
    # Suggestions: the cadre group's card
    **dict.fromkeys(["sgst", "sgrep"], CADRE),
    # Activities and trainings: cadres manage them
    **dict.fromkeys(["acn", "aca", "acm", "ace", "acp", "acro"], CADRE),
    **dict.fromkeys(["acmk", "acex", "acln", "acc", "acck"], CADRE),
    **dict.fromkeys(["acau", "acaud"], CADRE_DRAFT),
    **dict.fromkeys(["trn", "tra", "trm", "trp", "trq", "trok"], CADRE),
    **dict.fromkeys(["trno", "trs", "trss", "trmk", "trx", "trln"], CADRE),
    **dict.fromkeys(["trc", "trck"], CADRE),
    # Roster import, the pulse, the monthly report
    **dict.fromkeys(["rst", "pls", "plsw"], ADMIN),
    "rpm": CADRE,
    # The handbook's editor
    **dict.fromkeys(["hbne", "hbnt", "hbee", "hbrt", "hbme", "hbmet", "hbmt"], ADMIN),
    **dict.fromkeys(["hbmtt", "hbde", "hbdey", "hbdt", "hbdty", "hbr"], ADMIN),
    **dict.fromkeys(["hbrx", "hbrp", "hbrc"], ADMIN_DRAFT),
    # A time proposed while composing (a broadcast, a poll, an activity, a training)
    **dict.fromkeys(["tmok", "tmre"], CADRE_DRAFT),
}

# A field's value when a field name alone does not say which row it names.
OVERRIDES: dict[str, dict[str, int | str]] = {
    **{p: {"item": "group"} for p in ["agrp", "agrpr", "agrpd", "agrpx"]},
    **{p: {"item": "category"} for p in ["gvcat", "gvcren", "gvcsla", "gvcrt", "gvcurg"]},
    "gvcact": {"item": "category"},
    "trp": {"parent": "training"},
    "hbmet": {"topic": "topic"},
    "hbmtt": {"parent": 0},
}
# Plain values of fields that name no row.
PLAIN: dict[str, int | str] = {
    "page": 0,
    "role": "cadre",
    "nonce": 1,
    "source": "all",
    "to_card": 1,
    "language": "en",
    "days": 3,
    "seq": 1,
    "stars": 5,
    "position": 0,
    "hours": 24,
    "setting": "anon",
    "on": 1,
    "status": "adopted",
    "guests": 0,
    "field": "title",
    "announce": 1,
    "format": "csv",
    "year": 2026,
    "month": 11,
    "at": 29_000_000,
}


def forged(action: cb.CallbackAction, ids: dict[str, int | str]) -> str:
    """The action's data, each field naming a real row (``World.ids``) or a plain value."""
    values: list[int | str] = []
    for name in action.fields:
        pick = OVERRIDES.get(action.prefix, {}).get(name, name)
        if isinstance(pick, int):
            values.append(pick)
        elif pick in ids:
            values.append(ids[pick])
        elif pick in PLAIN:
            values.append(PLAIN[pick])
        else:
            raise AssertionError(f"no value for {action.prefix}.{name}")
    if action.prefix in ("bcaud", "pdaud", "acau"):
        values[-1] = 0  # the audience source's first entry
    return action.pack(*values)


# What counts as a refusal ---------------------------------------------------------------
# A permission refusal (the msgids tests/test_refusals.py holds to "say what to do next"),
# the pointer to /start for strangers, and the answers for the wrong chat.
EXTRA = {
    "Please register first: send /start.",
    "Please use /{command} in a private chat with me: @{bot}",
}
# A draft's button outside its conversation: there is no draft of the presser's to act on.
STALE = {
    "This button is no longer valid. Please use the menu or send /start.",
    "This draft is no longer active. Start a new poll from 🗳 Polls.",
}


def _patterns(msgids: set[str] | None) -> dict[str, list[re.Pattern[str]]]:
    """Each chosen msgid by language (en, zh_CN), placeholders matching anything."""
    path = f"{LOCALES}/zh_CN/LC_MESSAGES/union_bot.po"
    with open(path, "rb") as handle:
        catalogue = read_po(handle)
    found: dict[str, list[re.Pattern[str]]] = {"en": [], "zh_CN": []}
    for message in catalogue:
        english = str(message.id) if message.id and not message.pluralizable else ""
        wanted = english in msgids if msgids is not None else bool(REFUSAL.match(english))
        if not english or not wanted:
            continue
        for language, version in (("en", english), ("zh_CN", str(message.string))):
            parts = re.split(r"\{[a-z_]*\}", version)
            pattern = re.compile(".+?".join(re.escape(p) for p in parts), re.DOTALL)
            found[language].append(pattern)
    return found


REFUSALS = {k: v + _patterns(EXTRA)[k] for k, v in _patterns(None).items()}
STALE_ANSWERS = _patterns(STALE)
# The presser's language: the members chose Chinese; the stranger's app is in English.
LANGUAGE = {"admin": "zh_CN", "cadre": "zh_CN", "member": "zh_CN", "stranger": "en"}


def is_refusal(answer: str, language: str, *, draft: bool) -> bool:
    """A refusal (or, for a draft's button, "no longer valid") in that language."""
    candidates = REFUSALS[language] + (STALE_ANSWERS[language] if draft else [])
    return any(p.fullmatch(answer.strip()) for p in candidates)


# The registries -------------------------------------------------------------------------


def _application_commands() -> set[str]:
    settings = load_settings(
        telegram_bot_token=TOKEN, database_url="sqlite+aiosqlite:///:memory:", secret_key=SECRET
    )
    application = build_application(settings, rate_limiter=False)
    return {spec.name for spec in runtime_of(application).commands}


def test_every_command_and_button_has_a_rule() -> None:
    """A command or button without a row here is one nobody has said who may use."""
    assert set(COMMANDS) == _application_commands()
    assert set(BUTTONS) == {action.prefix for action in cb.all_actions()}


def test_every_guarded_button_can_be_forged_against_real_rows() -> None:
    """Each field of an admin's or cadre's button names a kind of row the world makes."""
    ids: dict[str, int | str] = dict.fromkeys(ROW_KINDS, 1)
    for action in cb.all_actions():
        if BUTTONS[action.prefix].need != "member":
            assert cb.action_of(forged(action, ids)) is action


# The matrix -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    what: str  # "/command" or the button's data
    who: str
    where: Where
    draft: bool

    def __str__(self) -> str:
        return f"{self.what} by {self.who} in the {self.where} chat"


def rows(world: World) -> list[tuple[Row, SandboxUser]]:
    """Every attempt that must be refused, from the tables above."""
    people = {"member": world.member, "stranger": world.stranger, "cadre": world.cadre}
    found: list[tuple[Row, SandboxUser]] = []

    def tried_by(need: Need) -> list[str]:
        return ["member", "stranger", "cadre"] if need == "admin" else ["member", "stranger"]

    for name, rule in sorted(COMMANDS.items()):
        if rule.need == "member":
            continue
        for who in tried_by(rule.need):
            found.append((Row(f"/{name}", who, rule.where, False), people[who]))
        if rule.where == "private":
            # The right person in the wrong chat: sent in the cadre group.
            admin = Row(f"/{name}", "admin", "group", False)
            found.append((admin, world.admin))
    for action in cb.all_actions():
        rule = BUTTONS[action.prefix]
        if rule.need == "member":
            continue
        data = forged(action, world.ids)
        for who in tried_by(rule.need):
            found.append((Row(data, who, action.chat, rule.draft), people[who]))
        if rule.draft:
            continue
        if action.chat == "private":
            found.append((Row(data, "admin", "group", False), world.admin))
        else:
            found.append((Row(data, "cadre", "private", False), world.cadre))
    return found


@dataclass
class Attempt:
    """One row tried: the press's query id, or the command message's id, to find the answer by."""

    row: Row
    user: SandboxUser
    chat: int | None
    query_id: str | None = None
    message_id: int | None = None


async def _try(user: SandboxUser, row: Row, targets: dict[tuple[int, int | None], int]) -> Attempt:
    """Send the command or press the forged button (under the same bot message each time)."""
    chat = CADRE_CHAT if row.where == "group" else None
    attempt = Attempt(row, user, chat)
    if row.what.startswith("/"):
        attempt.message_id = (await user.send(row.what, chat=chat)).message_id
        return attempt
    if (user.id, chat) not in targets:
        targets[user.id, chat] = (await user.bot_messages(chat))[-1].message_id
    press = await user.press_data(targets[user.id, chat], row.what, chat)
    attempt.query_id = press.callback_query_id
    return attempt


async def _answers(attempts: list[Attempt]) -> dict[int, str]:
    """What the bot answered each attempt: its alert, or its replies to the command.

    Read once at the end: nothing else writes to these chats while the matrix runs
    (no deliveries are due and the jobs are paused). In the group, where several
    people's rows run side by side, a reply is found by the message it quotes; in a
    private chat, it is what came before the person's next command.
    """
    alerts: dict[int, dict[str, str]] = {}
    messages: dict[tuple[int, int | None], list[ChatMessage]] = {}
    sent_by: dict[tuple[int, int | None], list[int]] = {}
    for attempt in attempts:
        user, chat = attempt.user, attempt.chat
        if user.id not in alerts:
            answered = await user.callback_answers()
            alerts[user.id] = {a.query_id: a.text or "" for a in answered}
        if attempt.message_id is not None:
            if (user.id, chat) not in messages:
                messages[user.id, chat] = await user.bot_messages(chat)
            sent_by.setdefault((user.id, chat), []).append(attempt.message_id)
    found: dict[int, str] = {}
    for index, attempt in enumerate(attempts):
        if attempt.query_id is not None:
            found[index] = alerts[attempt.user.id].get(attempt.query_id, "")
            continue
        sent = attempt.message_id
        assert sent is not None
        key = (attempt.user.id, attempt.chat)
        if attempt.chat is not None:
            replies = [m for m in messages[key] if m.reply_to == sent]
        else:
            until = min((m for m in sent_by[key] if m > sent), default=None)
            replies = [
                m
                for m in messages[key]
                if m.message_id > sent and (until is None or m.message_id < until)
            ]
        found[index] = "\n".join(m.content for m in replies)
    return found


def _batches(table: list[tuple[Row, SandboxUser]]) -> list[list[tuple[Row, SandboxUser]]]:
    """The rows in rounds of at most one per person and chat, tried at once.

    The bot handles different chats side by side, so a round takes about as long as
    one row; the snapshot after each round names at most one row per chat. Within a
    chat the rows keep their order, so each answer is found by what came before it.
    """
    lanes: dict[tuple[str, str], list[tuple[Row, SandboxUser]]] = {}
    for row, user in table:
        lanes.setdefault((row.who, row.where), []).append((row, user))
    return [
        [entry for entry in round_ if entry is not None]
        for round_ in itertools.zip_longest(*lanes.values())
    ]


async def _matrix(bot: BotHarness) -> None:
    world = await make_world(bot)
    for person in (world.admin, world.cadre, world.member, world.stranger):
        await person.send("/help")  # each has a bot message to press on, and a language
    await bot.driver.wait_idle()
    table = rows(world)
    assert len(table) > 300, len(table)
    # Scheduled jobs wait while the matrix runs (a card's countdown redrawn is no row's doing).
    assert bot.application.job_queue is not None
    scheduler = bot.application.job_queue.scheduler
    scheduler.pause()
    before = await settled(bot)
    failures: list[str] = []
    targets: dict[tuple[int, int | None], int] = {}
    attempts: list[Attempt] = []
    started = time.perf_counter()
    for batch in _batches(table):
        attempts += await asyncio.gather(*(_try(user, row, targets) for row, user in batch))
        after = await snapshot(bot)
        if after != before:
            tried = "; ".join(str(row) for row, _ in batch)
            failures.append(f"one of [{tried}]: changed {changed(before, after)}")
            before = after
    scheduler.resume()
    answers = await _answers(attempts)
    for index, attempt in enumerate(attempts):
        row = attempt.row
        if not is_refusal(answers[index], LANGUAGE[row.who], draft=row.draft):
            failures.append(f"{attempt.row}: answered {answers[index]!r}")
    # Printed for the README's figure, never asserted: time is the machine's, not the code's.
    print(f"{len(table)} rows in {time.perf_counter() - started:.1f}s")
    assert not failures, "\n".join(failures)


async def test_the_matrix_is_refused_and_changes_nothing(bot: BotHarness) -> None:
    await _matrix(bot)

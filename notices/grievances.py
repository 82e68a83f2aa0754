"""Grievance traffic to other people: cards and relays to union groups, notices to members.

Shared by the handlers and `jobs.grievances`. Everything sent to someone other
than the person acting goes through the outbox in the caller's transaction,
as sensitive rows: the payload (case text, and for voice notes the member's
chat in ``from_chat_id``) is sealed and erased once sent. Rows to a member get
a key that is a keyed hash of (case, event) and the generic kind ``notice``,
so the outbox names neither the case nor the feature next to the member's chat.

Handlers and jobs decide (with `storage.grievances`) what happened; the
functions here say it to whoever should hear: the case's groups, the group
upstairs, the author, the admins. The wording of those messages lives here or
in `display.grievances`, never in a handler.

Edits in place (the card's status line, a member's edited message) are not
outbox methods, so they are made directly and only logged when they fail:
the database already holds the truth, and the next change re-renders it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from html import escape
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, TelegramError

from core import dates
from core.i18n import N_, Translator, translator
from core.runtime import Runtime
from display import grievances as display
from storage import grievances as service
from storage import members, outbox
from storage.crypto import Cipher
from storage.grievance_rules import REOPEN_LIMIT, Escalation
from storage.grievances import Sealer
from storage.models import Grievance, GrievanceCategory, GrievanceMessage, GrievancePost, Member

log = logging.getLogger(__name__)

GROUP_KIND = "grievance"
MEMBER_KIND = "notice"
ADMIN_KIND = "admin_alert"

# What admins are told about the bot's groups (`alert_admins`).
POST_FAILED = N_(
    "⚠️ The bot could not post grievance {code} to the group {chat} ({reason}). "
    "Was the bot removed from the group? The case is kept and waits; add the bot back "
    "and it is posted again automatically."
)
GROUP_LOST = N_(
    "⚠️ The bot was removed from the union group {chat}. Grievances routed there wait "
    "until it is added back; members are still served."
)
GROUP_BACK = N_(
    "✅ The bot is back in the union group {chat}; waiting grievances are being posted there."
)
NO_GROUP = N_(
    "⚠️ Grievance {code} is waiting: no cadre group is set for it. Add the bot to the "
    "cadre group, send any command there to learn the group's id, set CADRE_CHAT_ID "
    "and restart the bot. Waiting cases are posted as soon as a group is set."
)


def sealer(runtime: Runtime) -> Sealer:
    return service.sealer_for(runtime.settings.secret_key)


def cipher(runtime: Runtime) -> Cipher:
    return outbox.outbox_cipher(runtime.settings.secret_key)


def group_t(runtime: Runtime) -> Translator:
    """Union groups read the union's default language."""
    return translator(runtime.settings.default_language)


def route_chat(runtime: Runtime, category: GrievanceCategory | None) -> int | None:
    if category is not None and category.chat_id is not None:
        return category.chat_id
    return runtime.settings.cadre_chat_id


def case_chats(runtime: Runtime, case: Grievance) -> set[int]:
    """Groups whose cadres may act on this case: its own, the cadre group, the escalation one."""
    settings = runtime.settings
    return {
        c
        for c in (case.route_chat_id, settings.cadre_chat_id, settings.escalation_chat_id)
        if c is not None
    }


async def _send(
    session: AsyncSession,
    runtime: Runtime,
    *,
    key: str,
    kind: str,
    chat_id: int,
    body: dict[str, Any],
    now: datetime,
    priority: int = outbox.PRIORITY_NOTICE,
) -> bool:
    return await outbox.enqueue(
        session,
        key=key,
        kind=kind,
        chat_id=chat_id,
        payload=body,
        now=now,
        sensitive=True,
        priority=priority,
        at_most_once=False,  # a case is worth a rare duplicate, never a loss
        cipher=cipher(runtime),
    )


# Cards ------------------------------------------------------------------------------


async def render_card(
    session: AsyncSession, runtime: Runtime, case: Grievance, now: datetime, note: str | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    t = group_t(runtime)
    keys = sealer(runtime)
    messages = await service.thread(session, case.id)
    first = messages[0] if messages else None
    body = (keys.body(case, first) if first else None) or ""
    attachments = sum(
        1
        for m in messages
        if m.author == "member" and m.kind != "text" and m.created_at == case.created_at
    )
    names = await service.cadre_names(session, {case.taken_by} if case.taken_by else set())
    text = display.card_text(
        t,
        runtime.settings.tz,
        case,
        body=body,
        attachments=attachments,
        cadre=names.get(case.taken_by or 0),
        signature=keys.open(case.code, "signature", case.signature),
        now=now,
        note=note,
    )
    return text, display.card_keyboard(t, case, now)


async def render_copy(
    session: AsyncSession,
    runtime: Runtime,
    case: Grievance,
    now: datetime,
    t: Translator,
    *,
    with_buttons: bool,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """A card re-posted with /case: the card, then the whole thread in ``t``.

    Its buttons only where they may be pressed (the case's own groups).
    """
    text, markup = await render_card(session, runtime, case, now)
    keys = sealer(runtime)
    messages = await service.thread(session, case.id)
    bodies = {m.id: keys.body(case, m) for m in messages[1:]}
    lines = display.thread_lines(
        t, runtime.settings.tz, case, messages[1:], bodies, member_view=False, limit=1000
    )
    if lines:
        text += "\n" + display.LINE + "\n" + "\n\n".join(lines)
    return text, markup if with_buttons else None


async def copy_language(session: AsyncSession, runtime: Runtime, chat_id: int) -> Translator:
    """A copy in a group reads the union's language; in a cadre's own chat, theirs."""
    if chat_id < 0:
        return group_t(runtime)
    member = await members.get_member(session, chat_id)
    return translator(member.language) if member is not None else group_t(runtime)


async def keep_copy(
    session: AsyncSession, case: Grievance, chat_id: int, message_id: int, now: datetime
) -> None:
    """Record a /case copy where it landed, so every change redraws it like the card."""
    await service.add_post(
        session,
        case,
        chat_id=chat_id,
        role="copy",
        key=f"gc:{case.id}:{chat_id}:{message_id}",
        now=now,
        state="sent",
        telegram_message_id=message_id,
    )


def _file_body(
    kind: str,
    file_id: str | None,
    caption: str,
    *,
    origin: tuple[int, int] | None,
    reply_to: int | None,
    protect: bool,
) -> dict[str, Any] | None:
    extra: dict[str, Any] = {"caption": caption, "parse_mode": "HTML"}
    if protect:
        extra["protect_content"] = True
    if reply_to is not None:
        extra["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
    if kind == "photo" and file_id:
        return outbox.payload("sendPhoto", photo=file_id, **extra)
    if kind == "document" and file_id:
        return outbox.payload("sendDocument", document=file_id, **extra)
    if origin is not None:  # voice: the outbox cannot sendVoice, so copy the original
        return outbox.payload("copyMessage", from_chat_id=origin[0], message_id=origin[1], **extra)
    return None


async def card_message_id(session: AsyncSession, case: Grievance, chat_id: int) -> int | None:
    """The newest card of the case in that chat that has landed, for replies under it."""
    posts = [
        p for p in await service.posts_of(session, case.id, role="card") if p.chat_id == chat_id
    ]
    await service.sync_posts(session, posts)
    sent = [p for p in posts if p.state == "sent" and p.telegram_message_id]
    return sent[-1].telegram_message_id if sent else None


async def _relay_body(
    runtime: Runtime,
    case: Grievance,
    message: GrievanceMessage,
    *,
    reply_to: int | None,
    index: int | None = None,
    total: int | None = None,
    edited: bool = False,
) -> dict[str, Any] | None:
    t = group_t(runtime)
    keys = sealer(runtime)
    body = keys.body(case, message)
    reply = (
        {"reply_parameters": {"message_id": reply_to, "allow_sending_without_reply": True}}
        if reply_to is not None
        else {}
    )
    if message.kind == "text":
        text = display.member_message_text(t, case.code, body or "", edited=edited)
        return outbox.payload("sendMessage", text=text, protect_content=True, **reply)
    if index is not None and total is not None:
        caption = display.attachment_caption(t, case.code, index, total, body)
    else:
        caption = display.member_file_caption(t, case.code, message.kind, body, edited=edited)
    return _file_body(
        message.kind,
        message.file_id,
        caption,
        origin=keys.origin(case, message),
        reply_to=reply_to,
        protect=True,
    )


async def post_case(
    session: AsyncSession,
    runtime: Runtime,
    case: Grievance,
    chat_id: int,
    now: datetime,
    *,
    note: str | None = None,
    with_thread: bool = True,
) -> None:
    """Queue the card (and the member's files and later messages) for one union group."""
    earlier = [p for p in await service.posts_of(session, case.id) if p.chat_id == chat_id]
    attempt = sum(1 for p in earlier if p.role == "card")
    text, markup = await render_card(session, runtime, case, now, note)
    key = f"gp:{case.id}:{chat_id}:card:{attempt}"
    body = outbox.payload(
        "sendMessage",
        text=text,
        protect_content=True,
        **({"reply_markup": markup.to_dict()} if markup else {}),
    )
    await _send(session, runtime, key=key, kind=GROUP_KIND, chat_id=chat_id, body=body, now=now)
    await service.add_post(session, case, chat_id=chat_id, role="card", key=key, now=now)
    if not with_thread:
        return
    messages = [m for m in await service.thread(session, case.id) if m.author == "member"][1:]
    initial = [m for m in messages if m.created_at == case.created_at]
    for position, message in enumerate(messages, start=1):
        is_initial = message in initial
        relay = await _relay_body(
            runtime,
            case,
            message,
            reply_to=None,
            index=position if is_initial else None,
            total=len(initial) if is_initial else None,
        )
        if relay is None:
            continue
        relay_key = f"gp:{case.id}:{chat_id}:m{message.id}:{attempt}"
        await _send(
            session, runtime, key=relay_key, kind=GROUP_KIND, chat_id=chat_id, body=relay, now=now
        )
        await service.add_post(
            session, case, chat_id=chat_id, role="relay", key=relay_key, message=message, now=now
        )


async def relay_member_message(
    session: AsyncSession,
    runtime: Runtime,
    case: Grievance,
    message: GrievanceMessage,
    now: datetime,
) -> int:
    """Queue a member's later message to every group holding the case's card, under it."""
    chats = {p.chat_id for p in await service.posts_of(session, case.id, role="card")}
    sent = 0
    for chat_id in sorted(chats):
        reply_to = await card_message_id(session, case, chat_id)
        body = await _relay_body(runtime, case, message, reply_to=reply_to)
        if body is None:
            continue
        key = f"gp:{case.id}:{chat_id}:m{message.id}:0"
        await _send(session, runtime, key=key, kind=GROUP_KIND, chat_id=chat_id, body=body, now=now)
        await service.add_post(
            session, case, chat_id=chat_id, role="relay", key=key, message=message, now=now
        )
        sent += 1
    return sent


async def group_note(
    session: AsyncSession, runtime: Runtime, case: Grievance, event: str, text: str, now: datetime
) -> None:
    """A short line under the card in every group that has it (member closed, signed, rated)."""
    chats = {p.chat_id for p in await service.posts_of(session, case.id, role="card")}
    for chat_id in sorted(chats):
        reply_to = await card_message_id(session, case, chat_id)
        extra = (
            {"reply_parameters": {"message_id": reply_to, "allow_sending_without_reply": True}}
            if reply_to
            else {}
        )
        body = outbox.payload(
            "sendMessage",
            text=display.group_notice(group_t(runtime), case.code, text),
            protect_content=True,
            **extra,
        )
        await _send(
            session,
            runtime,
            key=f"gn:{case.id}:{chat_id}:{event}",
            kind=GROUP_KIND,
            chat_id=chat_id,
            body=body,
            now=now,
        )


async def announce_case(
    session: AsyncSession, runtime: Runtime, case: Grievance, route: int | None, now: datetime
) -> None:
    """A new case: its card to its group, or, with no group set, a clear note to admins."""
    if route is not None:
        await post_case(session, runtime, case, route, now)
    else:
        await alert_no_group(session, runtime, case, now)


async def post_safety_upstairs(
    session: AsyncSession, runtime: Runtime, case: Grievance, route: int | None, now: datetime
) -> None:
    """An urgent safety case escalated on arrival: its card upstairs too (unless it went there)."""
    upstairs = runtime.settings.escalation_chat_id
    if upstairs is None or upstairs == route:
        return
    note = group_t(runtime).gettext("🚨 Urgent safety case")
    await post_case(session, runtime, case, upstairs, now, note=note)


async def escalated_by_cadre(
    session: AsyncSession, runtime: Runtime, case: Grievance, upstairs: int, now: datetime
) -> None:
    """A cadre escalated: the card upstairs (with the thread if it is new there), the author told."""
    chats = {p.chat_id for p in await service.posts_of(session, case.id, role="card")}
    note = group_t(runtime).gettext("⬆️ Escalated by a cadre")
    await post_case(
        session, runtime, case, upstairs, now, note=note, with_thread=upstairs not in chats
    )
    await notify_member(session, runtime, case, "escalated", now)


async def escalated_overdue(
    session: AsyncSession,
    runtime: Runtime,
    case: Grievance,
    missed: list[Escalation],
    now: datetime,
) -> None:
    """A deadline missed: the card again in its group and upstairs, the author told."""
    t = group_t(runtime)
    upstairs = runtime.settings.escalation_chat_id
    note = (
        t.gettext("⏰ Not taken in time: re-posted and escalated")
        if Escalation.TAKE in missed
        else t.gettext("⏰ Not answered in time: re-posted and escalated")
    )
    chats = {p.chat_id for p in await service.posts_of(session, case.id, role="card")}
    if case.route_chat_id is not None:
        await post_case(
            session, runtime, case, case.route_chat_id, now, note=note, with_thread=False
        )
    if upstairs is not None:
        await post_case(
            session, runtime, case, upstairs, now, note=note, with_thread=upstairs not in chats
        )
    await notify_member(session, runtime, case, "escalated", now)


async def member_closed(
    session: AsyncSession, runtime: Runtime, case: Grievance, now: datetime
) -> None:
    text = group_t(runtime).gettext("🔒 The member closed this case.")
    await group_note(session, runtime, case, "closed", text, now)


async def member_signed(
    session: AsyncSession, runtime: Runtime, case: Grievance, name: str, now: datetime
) -> None:
    text = group_t(runtime).gettext("✍️ The member chose to sign this case: {name}")
    await group_note(session, runtime, case, "signed", text.format(name=escape(name)), now)


async def member_commented(
    session: AsyncSession, runtime: Runtime, case: Grievance, comment: str, now: datetime
) -> None:
    """The author's comment on their rating, under the card."""
    text = group_t(runtime).gettext("⭐ The member rated it {stars}/5 and wrote: {comment}")
    text = text.format(stars=case.rating, comment=escape(comment))
    await group_note(session, runtime, case, "comment", text, now)


async def member_reopened(
    session: AsyncSession,
    runtime: Runtime,
    case: Grievance,
    reason: str | None,
    round_: int,
    now: datetime,
) -> None:
    """The author reopened a resolved case: the card again (waiting to be taken) in every
    group that had it, with the reason on top; the old cards are redrawn by the caller."""
    t = group_t(runtime)
    note = t.gettext("🔄 The member reopened this case ({round} of {limit}).").format(
        round=round_, limit=REOPEN_LIMIT
    )
    if reason:
        note += "\n" + t.gettext("Reason: {reason}").format(reason=escape(reason))
    chats = sorted({p.chat_id for p in await service.posts_of(session, case.id, role="card")})
    if not chats:  # it never reached a group: the first card now, thread and all
        route = route_chat(runtime, case.category)
        if route is None:
            await alert_no_group(session, runtime, case, now)
        else:
            await post_case(session, runtime, case, route, now, note=note)
        return
    for chat_id in chats:
        await post_case(session, runtime, case, chat_id, now, note=note, with_thread=False)


# The member ------------------------------------------------------------------------------


async def author_of(session: AsyncSession, runtime: Runtime, case: Grievance) -> Member | None:
    """The member who wrote the case, while the link lasts and they have not left."""
    member_id = sealer(runtime).open_link(case)
    return await session.get(Member, member_id) if member_id is not None else None


async def notify_member(
    session: AsyncSession,
    runtime: Runtime,
    case: Grievance,
    event: str,
    now: datetime,
    *,
    moment: datetime | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> bool:
    """Tell the author about a change (taken, escalated, resolved…). False if unreachable."""
    member = await author_of(session, runtime, case)
    if member is None:
        return False
    t = translator(member.language)
    text = display.notice(t, event, case.code, runtime.settings.tz, moment)
    if event == "resolved" and markup is None:
        markup = display.rating_keyboard(t, case.id)
    body = outbox.payload(
        "sendMessage", text=text, **({"reply_markup": markup.to_dict()} if markup else {})
    )
    # A reopened case is taken, escalated and resolved again: each round's notice is new.
    round_ = await service.reopen_count(session, case)
    key = sealer(runtime).member_key(case.id, f"{event}:r{round_}" if round_ else event)
    await _send(
        session, runtime, key=key, kind=MEMBER_KIND, chat_id=member.telegram_id, body=body, now=now
    )
    return True


async def relay_union_message(
    session: AsyncSession,
    runtime: Runtime,
    case: Grievance,
    message: GrievanceMessage,
    *,
    from_chat: int,
    from_message: int,
    now: datetime,
) -> bool:
    """A cadre's answer, to the member as "the union": text re-sent, files copied, no name."""
    member = await author_of(session, runtime, case)
    if member is None:
        return False
    t = translator(member.language)
    body_text = sealer(runtime).body(case, message)
    if message.kind == "text":
        body = outbox.payload(
            "sendMessage", text=display.union_reply_text(t, case.code, body_text or "")
        )
    else:
        body = outbox.payload(
            "copyMessage",
            from_chat_id=from_chat,
            message_id=from_message,
            caption=display.union_file_caption(t, case.code, body_text),
            parse_mode="HTML",
        )
    key = sealer(runtime).member_key(case.id, f"reply:{message.seq}")
    await _send(
        session, runtime, key=key, kind=MEMBER_KIND, chat_id=member.telegram_id, body=body, now=now
    )
    return True


# Admins -------------------------------------------------------------------------------------


async def alert_admins(
    session: AsyncSession, runtime: Runtime, key: str, msgid: str, now: datetime, **fields: Any
) -> int:
    """A clear note to every admin, once per ``key`` (e.g. per problem and day)."""
    admins = await members.admin_telegram_ids(session, runtime.settings.admin_ids)
    count = 0
    for telegram_id in sorted(admins):
        member = await members.get_member(session, telegram_id)
        t = translator(member.language if member else runtime.settings.default_language)
        body = outbox.payload("sendMessage", text=t.gettext(msgid).format(**fields))
        count += await outbox.enqueue(
            session,
            key=f"ga:{key}:{telegram_id}",
            kind=ADMIN_KIND,
            chat_id=telegram_id,
            payload=body,
            now=now,
            priority=outbox.PRIORITY_NOTICE,
        )
    return count


def _day(runtime: Runtime, now: datetime) -> str:
    return dates.day_text(now, runtime.settings.tz)


async def alert_no_group(
    session: AsyncSession, runtime: Runtime, case: Grievance, now: datetime
) -> None:
    """Once a day at most: a case waits because no cadre group is set."""
    key = f"nogroup:{_day(runtime, now)}"
    await alert_admins(session, runtime, key, NO_GROUP, now, code=case.code)


async def alert_post_failed(
    session: AsyncSession, runtime: Runtime, case: Grievance, chat_id: int, now: datetime
) -> None:
    """Once per group and day: Telegram refused a card there."""
    await alert_admins(
        session,
        runtime,
        f"postfail:{chat_id}:{_day(runtime, now)}",
        POST_FAILED,
        now,
        code=case.code,
        chat=chat_id,
        reason=group_t(runtime).gettext("Telegram refused it"),
    )


async def alert_group_lost(
    session: AsyncSession, runtime: Runtime, chat_id: int, now: datetime
) -> None:
    """Once per group and day: the bot was removed from a union group."""
    key = f"lost:{chat_id}:{_day(runtime, now)}"
    await alert_admins(session, runtime, key, GROUP_LOST, now, chat=chat_id)


async def alert_group_back(
    session: AsyncSession, runtime: Runtime, chat_id: int, now: datetime
) -> None:
    """The bot is back in a group where cards had failed: each return is told."""
    key = f"back:{chat_id}:{now.isoformat()}"
    await alert_admins(session, runtime, key, GROUP_BACK, now, chat=chat_id)


# Edits in place ------------------------------------------------------------------------------


async def _edit(bot: Bot, post: GrievancePost, **kwargs: Any) -> None:
    assert post.telegram_message_id is not None
    try:
        if "caption" in kwargs:
            await bot.edit_message_caption(
                chat_id=post.chat_id, message_id=post.telegram_message_id, **kwargs
            )
        else:
            await bot.edit_message_text(
                chat_id=post.chat_id, message_id=post.telegram_message_id, **kwargs
            )
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            log.warning("grievance post %s not edited: %s", post.id, error.message)
    except TelegramError as error:
        log.warning("grievance post %s not edited: %s", post.id, type(error).__name__)


async def refresh_cards(
    bot: Bot,
    session: AsyncSession,
    runtime: Runtime,
    case: Grievance,
    now: datetime,
    *,
    skip: tuple[int, int] | None = None,
) -> None:
    """Re-render the status line of every card of the case that has landed, and of
    every copy a cadre re-posted with /case (with its thread, as it was posted)."""
    posts = await service.posts_of(session, case.id, role="card")
    await service.sync_posts(session, posts)
    text, markup = await render_card(session, runtime, case, now)
    for post in posts:
        if post.state != "sent" or not post.telegram_message_id:
            continue
        if skip is not None and (post.chat_id, post.telegram_message_id) == skip:
            continue
        await _edit(bot, post, text=text, reply_markup=markup)
    chats = case_chats(runtime, case)
    for post in await service.posts_of(session, case.id, role="copy"):
        if not post.telegram_message_id:
            continue
        if skip is not None and (post.chat_id, post.telegram_message_id) == skip:
            continue
        t = await copy_language(session, runtime, post.chat_id)
        copy_text, copy_markup = await render_copy(
            session, runtime, case, now, t, with_buttons=post.chat_id in chats
        )
        await _edit(bot, post, text=copy_text, reply_markup=copy_markup)


async def relay_edit(
    bot: Bot,
    session: AsyncSession,
    runtime: Runtime,
    case: Grievance,
    message: GrievanceMessage,
    now: datetime,
) -> None:
    """A member edited a message: edit its copies in the groups (and the card for the text)."""
    t = group_t(runtime)
    body = sealer(runtime).body(case, message)
    if message.seq == 1:
        await refresh_cards(bot, session, runtime, case, now)
        return
    posts = await service.posts_for_message(session, message.id)
    await service.sync_posts(session, posts)
    for post in posts:
        if post.state != "sent" or not post.telegram_message_id:
            continue
        if message.kind == "text":
            await _edit(
                bot, post, text=display.member_message_text(t, case.code, body or "", edited=True)
            )
        else:
            await _edit(
                bot,
                post,
                caption=display.member_file_caption(t, case.code, message.kind, body, edited=True),
                parse_mode="HTML",
            )

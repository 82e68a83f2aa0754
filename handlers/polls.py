"""Quick polls in the chat: create (admins, and cadres when allowed), vote, see results,
and manage (close early, extend, delete, department breakdown, XLSX export).

Rules live in `storage.polls` / `storage.poll_rules`; text in `display.polls`;
closing, reminders and the chart in `jobs.polls`. Every poll button names the
poll and is checked again here: voting needs the poll open, the option real
and the presser in the audience; managing needs an admin or the cadre who
created it.
"""

from __future__ import annotations

import asyncio
import html
import secrets
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core.i18n import N_, translator
from core.runtime import CommandSpec, MenuItem, runtime_of
from display import broadcasts as audience_display
from display import callbacks as cb
from display import charts
from display import polls as display
from handlers.common import (
    CANCEL_LABEL,
    OTHER_INPUT,
    PRIVATE,
    TEXT_INPUT,
    ask_for_text,
    cancel_handlers,
    cancel_keyboard,
    choice_keyboard,
    explain,
    is_label,
    pressed_args,
    reply,
    show_working,
)
from handlers.menu import button_filter, main_menu
from handlers.scope import Context, Scope, admin_only, registered
from jobs import polls as poll_jobs
from jobs.delivery import wake_after_commit
from storage import audiences, polls
from storage.audiences import SOURCES, Audience
from storage.models import Poll, PollStatus
from storage.poll_rules import (
    MAX_OPTIONS,
    MIN_OPTIONS,
    OPTION_MAX,
    QUESTION_MAX,
    VoteRefused,
    check_closing,
    chosen,
    clean_option,
    clean_question,
    parse_closing,
    results_shown,
)
from storage.polls import PollKeys, PollView
from storage.profile_rules import InvalidInput

POLLS_ITEM = MenuItem("polls", N_("🗳 Polls"), order=40)
DONE_LABEL = N_("✅ Done")
QUESTION, OPTIONS, SETTINGS, CLOSING = range(4)
DRAFT = "draft_poll"
CONVERSATION_TIMEOUT = 30 * 60


def _keys(scope: Scope) -> PollKeys:
    return PollKeys.from_secret(scope.settings.secret_key)


_args = pressed_args


async def _alert(update: Update, text: str) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await reply(update, text)


def _refusal(scope: Scope, code: str, limit: int = 0) -> str:
    return scope._(display.REFUSALS[code]).format(limit=limit)


async def _edit(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit the pressed message in place, unless it already reads exactly so."""
    query = update.callback_query
    assert query is not None
    message = query.message
    if (
        message is not None
        and getattr(message, "text_html", None) == text
        and getattr(message, "reply_markup", None) == markup
    ):
        return
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


async def _load(update: Update, scope: Scope, poll_id: int) -> PollView | None:
    try:
        return await polls.get(scope.session, poll_id)
    except polls.PollNotFound:
        await _alert(update, _refusal(scope, "gone"))
        return None


async def _managed(update: Update, scope: Scope, poll_id: int) -> PollView | None:
    """The poll, if the presser may manage it; otherwise a clear refusal and None."""
    view = await _load(update, scope, poll_id)
    if view is None:
        return None
    member_id = scope.member.id if scope.member is not None else None
    if not polls.may_manage(view.poll, scope.role, member_id):
        await _alert(
            update, scope._("Only union admins, or the cadre who created it, can do that.")
        )
        return None
    return view


# Creating: question, options, settings card, preview, publish ---------------------------


def _draft(context: Context, nonce: int | None = None) -> dict[str, Any] | None:
    draft = (context.user_data or {}).get(DRAFT)
    if draft is None or (nonce is not None and draft.get("nonce") != nonce):
        return None
    return draft  # type: ignore[no-any-return]


async def _stale_draft(update: Update, scope: Scope) -> None:
    await _alert(
        update,
        scope._("This draft is no longer active. Start a new poll from 🗳 Polls."),
    )


@registered
async def start_new(update: Update, context: Context, scope: Scope) -> int:
    if not await polls.may_create(scope.session, scope.role):
        await _alert(
            update,
            scope._("Only union admins can create polls (and cadres, if the admins allow it)."),
        )
        return ConversationHandler.END
    if update.callback_query is not None:
        await update.callback_query.answer()
    assert context.user_data is not None
    context.user_data[DRAFT] = {
        "nonce": secrets.randbelow(10**9),
        "options": [],
        "multiple": False,
        "max_choices": 2,
        "anonymous": True,
        "audience": Audience(everyone=True).to_json(),
        "closing_hours": 72,
        "closes_at": None,
        "results_visible": False,
        "share_results": True,
        "remind": True,
    }
    await reply(
        update,
        scope._("New poll. What is the question? (at most {limit} characters)").format(
            limit=QUESTION_MAX
        ),
        reply_markup=cancel_keyboard(scope),
    )
    return QUESTION


def _explain(scope: Scope, error: InvalidInput, limit: int = 0) -> str:
    if error.code in display.POLL_INPUT_ERRORS:
        now = scope.runtime.now()
        return scope._(display.POLL_INPUT_ERRORS[error.code]).format(
            example=display.example_time(now + timedelta(days=3), scope.settings.tz)
        )
    return explain(scope, error, limit)


@registered
async def receive_question(update: Update, context: Context, scope: Scope) -> int:
    draft = _draft(context)
    if draft is None:
        await reply(update, scope._("Sorry, I lost the draft. Please start again."))
        return ConversationHandler.END
    try:
        draft["question"] = clean_question(update.effective_message.text or "")  # type: ignore[union-attr]
    except InvalidInput as error:
        await reply(update, _explain(scope, error, QUESTION_MAX))
        return QUESTION
    await reply(update, display.options_prompt(scope.t, []), reply_markup=cancel_keyboard(scope))
    return OPTIONS


def _options_keyboard(scope: Scope, options: list[str]) -> ReplyKeyboardMarkup:
    return choice_keyboard(scope, [scope._(DONE_LABEL)] if len(options) >= MIN_OPTIONS else [])


@registered
async def receive_option(update: Update, context: Context, scope: Scope) -> int:
    draft = _draft(context)
    if draft is None:
        await reply(update, scope._("Sorry, I lost the draft. Please start again."))
        return ConversationHandler.END
    text = update.effective_message.text or ""  # type: ignore[union-attr]
    options: list[str] = draft["options"]
    if is_label(text, DONE_LABEL):
        if len(options) < MIN_OPTIONS:
            await reply(update, scope._("A poll needs at least 2 options. Please send another."))
            return OPTIONS
        return await _to_settings(update, scope, draft)
    for line in [part for part in text.splitlines() if part.strip()] or [text]:
        try:
            options.append(clean_option(line, options))
        except InvalidInput as error:
            await reply(
                update,
                _explain(scope, error, OPTION_MAX),
                reply_markup=_options_keyboard(scope, options),
            )
            return OPTIONS
    if len(options) >= MAX_OPTIONS:
        await reply(update, scope._("That makes 10 options, the most a poll can have."))
        return await _to_settings(update, scope, draft)
    await reply(
        update,
        display.options_prompt(scope.t, options),
        reply_markup=_options_keyboard(scope, options),
    )
    return OPTIONS


async def _to_settings(update: Update, scope: Scope, draft: dict[str, Any]) -> int:
    draft["max_choices"] = min(draft["max_choices"], len(draft["options"]))
    await reply(update, scope._("Options saved."), reply_markup=cancel_keyboard(scope))
    await _show_card(update, scope, draft, edit=False)
    return SETTINGS


def _closes_at(draft: dict[str, Any], now: datetime) -> datetime | None:
    if draft.get("closing_hours"):
        return now + timedelta(hours=int(draft["closing_hours"]))
    if draft.get("closes_at"):
        return datetime.fromisoformat(draft["closes_at"])
    return None


async def _draft_view(scope: Scope, draft: dict[str, Any]) -> display.DraftView:
    audience = Audience.from_json(draft["audience"])
    return display.DraftView(
        nonce=draft["nonce"],
        question=draft["question"],
        options=draft["options"],
        multiple=draft["multiple"],
        max_choices=draft["max_choices"],
        anonymous=draft["anonymous"],
        audience=await audiences.describe(scope.session, audience),
        recipients=await audiences.count(scope.session, audience),
        closes_at=_closes_at(draft, scope.runtime.now()),
        closing_hours=draft.get("closing_hours") or None,
        results_visible=draft["results_visible"],
        share_results=draft["share_results"],
        remind=draft["remind"],
    )


async def _show_card(update: Update, scope: Scope, draft: dict[str, Any], *, edit: bool) -> None:
    view = await _draft_view(scope, draft)
    text = display.draft_text(scope.t, view, scope.settings.tz)
    markup = display.draft_keyboard(scope.t, view, scope.settings.tz)
    if edit and update.callback_query is not None:
        await update.callback_query.answer()
        await _edit(update, text, markup)
    else:
        await reply(update, text, reply_markup=markup)


async def _show_picker(update: Update, scope: Scope, draft: dict[str, Any]) -> None:
    session = scope.session
    sources = [(source, await source.choices(session)) for source in SOURCES.ordered()]
    tags = await audiences.tags_in_use(session)
    draft["tags"] = tags
    audience = Audience.from_json(draft["audience"])
    text = display.audience_text(
        scope.t,
        await audiences.describe(session, audience),
        await audiences.count(session, audience),
    )
    items = audience_display.picker_items(scope.t, audience, sources, tags)
    assert update.callback_query is not None
    await update.callback_query.answer()
    await _edit(update, text, display.audience_keyboard(scope.t, draft["nonce"], items))


@registered
async def draft_setting(update: Update, context: Context, scope: Scope) -> int | None:
    nonce, what = _args(update, cb.POLL_DRAFT)
    draft = _draft(context, int(nonce))
    if draft is None or "question" not in draft:
        await _stale_draft(update, scope)
        return None
    if not await polls.may_create(scope.session, scope.role):
        await _alert(update, scope._("You may no longer create polls."))
        return ConversationHandler.END
    count = len(draft["options"])
    if what == "kind":
        draft["multiple"] = not draft["multiple"]
    elif what == "max" and draft["multiple"]:
        draft["max_choices"] = draft["max_choices"] + 1 if draft["max_choices"] < count else 2
    elif what == "anon":
        draft["anonymous"] = not draft["anonymous"]
    elif what == "aud":
        await _show_picker(update, scope, draft)
        return SETTINGS
    elif what == "close":
        presets = display.CLOSING_PRESETS
        current = draft.get("closing_hours") or 0
        following = (
            presets[(presets.index(current) + 1) % len(presets)] if current in presets else 0
        )
        draft["closing_hours"], draft["closes_at"] = following, None
    elif what == "closet":
        assert update.callback_query is not None
        await update.callback_query.answer()
        example = display.example_time(scope.runtime.now() + timedelta(days=3), scope.settings.tz)
        await reply(
            update,
            scope._("Type the closing time, like {example} ({zone} time):").format(
                example=example, zone=scope.settings.timezone
            ),
            reply_markup=cancel_keyboard(scope),
        )
        return CLOSING
    elif what == "vis":
        draft["results_visible"] = not draft["results_visible"]
    elif what == "share":
        draft["share_results"] = not draft["share_results"]
    elif what == "remind":
        draft["remind"] = not draft["remind"]
    elif what == "prev":
        return await _preview(update, scope, draft)
    elif what == "pub":
        return await _publish(update, context, scope, draft)
    elif what != "card":
        await _stale_draft(update, scope)
        return None
    await _show_card(update, scope, draft, edit=True)
    return SETTINGS


@registered
async def draft_audience(update: Update, context: Context, scope: Scope) -> int | None:
    nonce, source, item = _args(update, cb.POLL_AUDIENCE)
    draft = _draft(context, int(nonce))
    if draft is None or "question" not in draft:
        await _stale_draft(update, scope)
        return None
    audience = Audience.from_json(draft["audience"])
    source, item = str(source), int(item)
    changed: Audience | None = None
    if source == audience_display.EVERYONE:
        changed = audience.toggle_everyone()
    elif source == audience_display.TAG:
        tags = draft.get("tags") or []
        changed = audience.toggle_tag(tags[item]) if 0 <= item < len(tags) else None
    elif source in SOURCES:
        known = {i for i, _name in await SOURCES.get(source).choices(scope.session)}
        if item in known or item in audience.chosen(source):
            changed = audience.toggle_item(source, item)
    if changed is None:
        await _stale_draft(update, scope)
        return None
    draft["audience"] = changed.to_json()
    await _show_picker(update, scope, draft)
    return SETTINGS


@registered
async def receive_closing(update: Update, context: Context, scope: Scope) -> int:
    draft = _draft(context)
    if draft is None or "question" not in draft:
        await reply(update, scope._("Sorry, I lost the draft. Please start again."))
        return ConversationHandler.END
    try:
        closes_at = parse_closing(
            update.effective_message.text or "",  # type: ignore[union-attr]
            scope.runtime.now(),
            scope.settings.tz,
        )
    except InvalidInput as error:
        await reply(update, _explain(scope, error))
        return CLOSING
    draft["closing_hours"], draft["closes_at"] = 0, closes_at.isoformat()
    await _show_card(update, scope, draft, edit=False)
    return SETTINGS


@registered
async def use_the_card(update: Update, context: Context, scope: Scope) -> int:
    await reply(update, scope._("Please use the buttons on the card above, or tap ✖️ Cancel."))
    return SETTINGS


def _draft_poll(draft: dict[str, Any], now: datetime) -> polls.PollDraft:
    return polls.PollDraft(
        question=draft["question"],
        options=tuple(draft["options"]),
        multiple=draft["multiple"],
        max_choices=draft["max_choices"] if draft["multiple"] else 1,
        anonymous=draft["anonymous"],
        audience=Audience.from_json(draft["audience"]),
        closes_at=_closes_at(draft, now),
        results_visible=draft["results_visible"],
        share_results=draft["share_results"],
        remind=draft["remind"],
    )


async def _check_publishable(update: Update, scope: Scope, draft: dict[str, Any]) -> bool:
    audience = Audience.from_json(draft["audience"])
    if not await audiences.count(scope.session, audience):
        await _alert(update, scope._("Nobody is in that audience. Please choose who may vote."))
        return False
    closes_at = _closes_at(draft, scope.runtime.now())
    if closes_at is not None:
        try:
            check_closing(closes_at, scope.runtime.now())
        except InvalidInput as error:
            await _alert(update, _explain(scope, error))
            return False
    return True


async def _preview(update: Update, scope: Scope, draft: dict[str, Any]) -> int:
    if not await _check_publishable(update, scope, draft):
        return SETTINGS
    now = scope.runtime.now()
    sample = _draft_poll(draft, now)
    poll = Poll(
        id=0,
        question=sample.question,
        multiple=sample.multiple,
        max_choices=sample.max_choices,
        anonymous=sample.anonymous,
        results_visible=sample.results_visible,
        status=PollStatus.OPEN.value,
        closes_at=sample.closes_at,
    )
    view = PollView(poll, sample.options)
    assert update.callback_query is not None
    await update.callback_query.answer()
    await reply(
        update,
        display.poll_text(scope.t, view, scope.settings.tz, 0),
        reply_markup=display.poll_keyboard(scope.t, view, 0, preview=True),
    )
    recipients = await audiences.count(scope.session, sample.audience)
    await reply(
        update,
        display.preview_note(scope.t, recipients, anonymous=sample.anonymous),
        reply_markup=display.preview_keyboard(scope.t, draft["nonce"]),
    )
    return SETTINGS


async def _publish(update: Update, context: Context, scope: Scope, draft: dict[str, Any]) -> int:
    if not await _check_publishable(update, scope, draft):
        return SETTINGS
    assert scope.member is not None and update.callback_query is not None
    now = scope.runtime.now()
    zone = scope.settings.tz
    view = await polls.create(
        scope.session, _draft_poll(draft, now), creator_id=scope.member.id, now=now
    )
    sent = await polls.publish(
        scope.session,
        view,
        now=now,
        message_for=lambda language: display.poll_payload(translator(language), view, zone),
    )
    wake_after_commit(scope.session, context)
    context.user_data.pop(DRAFT, None)  # type: ignore[union-attr]
    await update.callback_query.answer()
    await _edit(
        update,
        scope._("✅ Published: the poll is on its way to {count} members.").format(count=sent),
        None,
    )
    await reply(update, scope._("Done."), reply_markup=main_menu(scope))
    await _send_manage_card(update, scope, view)
    return ConversationHandler.END


async def draft_timeout(update: Update, context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)


@registered
async def preview_button(update: Update, context: Context, scope: Scope) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(scope._("This is only a preview."))


# Voting and results ------------------------------------------------------------------


async def _member_view(scope: Scope, view: PollView) -> tuple[str, InlineKeyboardMarkup]:
    assert scope.member is not None
    mask = await polls.current_choice(scope.session, view.id, scope.member.id, _keys(scope))
    tally = await polls.tally(scope.session, view) if display.results_visible(view.poll) else None
    zone = scope.settings.tz
    return (
        display.poll_text(scope.t, view, zone, mask, tally),
        display.poll_keyboard(scope.t, view, mask),
    )


@registered
async def vote(update: Update, context: Context, scope: Scope) -> None:
    query = update.callback_query
    assert query is not None and scope.member is not None
    poll_id, position = _args(update, cb.POLL_VOTE)
    try:
        outcome = await polls.vote(
            scope.session,
            int(poll_id),
            scope.member,
            int(position),
            now=scope.runtime.now(),
            keys=_keys(scope),
        )
    except VoteRefused as refusal:
        limit = 0
        if refusal.code == "too_many":
            view = await polls.get(scope.session, int(poll_id))
            limit = view.poll.max_choices
        await query.answer(_refusal(scope, refusal.code, limit), show_alert=True)
        if refusal.code == "closed":
            view = await polls.get(scope.session, int(poll_id))
            text, markup = await _member_view(scope, view)
            await _edit(update, text, markup)
        return
    view = outcome.view
    picked = [view.options[i] for i in chosen(outcome.after)]
    if not picked:
        toast = scope._("Your vote was withdrawn.")
    elif outcome.changed:
        toast = scope._("Saved: {choice}").format(
            choice=scope._(display.CHOICE_SEPARATOR).join(picked)
        )[:190]
    else:
        toast = scope._("That is already your choice.")
    await query.answer(toast)
    text, markup = await _member_view(scope, view)
    await _edit(update, text, markup)


async def _send_results(update: Update, scope: Scope, view: PollView) -> None:
    tally = await polls.tally(scope.session, view)
    await reply(update, display.results_text(scope.t, view, tally, scope.settings.tz))
    message = update.effective_message
    assert message is not None
    if not results_shown(view.poll.anonymous, tally.voters):
        return  # no chart either: its bars would be the counts
    caption = display.chart_caption(scope.t, view)
    if not view.is_open and view.poll.chart_file_id:
        await message.reply_photo(view.poll.chart_file_id, caption=caption)
        return
    await show_working(update, ChatAction.UPLOAD_PHOTO)
    png = await asyncio.to_thread(charts.render, display.chart(scope.t, view, tally))
    await message.reply_photo(png, caption=caption, filename=f"poll-{view.id}.png")


@registered
async def results(update: Update, context: Context, scope: Scope) -> None:
    assert scope.member is not None and update.callback_query is not None
    (poll_id,) = _args(update, cb.POLL_RESULTS)
    view = await _load(update, scope, int(poll_id))
    if view is None:
        return
    if not polls.may_manage(view.poll, scope.role, scope.member.id):
        if not await polls.in_audience(scope.session, view.poll, scope.member.id):
            await _alert(update, _refusal(scope, "not_in_audience"))
            return
        if not display.results_visible(view.poll):
            await _alert(update, _refusal(scope, "hidden"))
            return
    await update.callback_query.answer()
    await _send_results(update, scope, view)


@registered
async def open_poll(update: Update, context: Context, scope: Scope) -> None:
    assert scope.member is not None and update.callback_query is not None
    (poll_id,) = _args(update, cb.POLL_OPEN)
    view = await _load(update, scope, int(poll_id))
    if view is None:
        return
    manager = polls.may_manage(view.poll, scope.role, scope.member.id)
    if not manager and not await polls.in_audience(scope.session, view.poll, scope.member.id):
        await _alert(update, _refusal(scope, "not_in_audience"))
        return
    await update.callback_query.answer()
    text, markup = await _member_view(scope, view)
    await reply(update, text, reply_markup=markup)


# The list --------------------------------------------------------------------------------


@registered
async def list_polls(update: Update, context: Context, scope: Scope) -> None:
    assert scope.member is not None
    found = await polls.for_member(
        scope.session, scope.member, scope.role, now=scope.runtime.now(), keys=_keys(scope)
    )
    can_create = await polls.may_create(scope.session, scope.role)
    text = display.list_text(scope.t, found, scope.settings.tz, can_create)
    markup = display.list_keyboard(scope.t, found, can_create, scope.is_admin)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await _edit(update, text, markup)
    else:
        await reply(update, text, reply_markup=markup)


# Managing ------------------------------------------------------------------------------


async def _manage_parts(scope: Scope, view: PollView) -> tuple[str, InlineKeyboardMarkup]:
    tally = await polls.tally(scope.session, view)
    described = await audiences.describe(scope.session, Audience.from_json(view.poll.audience))
    return (
        display.manage_text(scope.t, view, tally, described, scope.settings.tz),
        display.manage_keyboard(scope.t, view),
    )


async def _send_manage_card(update: Update, scope: Scope, view: PollView) -> None:
    text, markup = await _manage_parts(scope, view)
    await reply(update, text, reply_markup=markup)


async def _show_manage_card(update: Update, scope: Scope, view: PollView) -> None:
    text, markup = await _manage_parts(scope, view)
    await _edit(update, text, markup)


@registered
async def manage(update: Update, context: Context, scope: Scope) -> None:
    (poll_id,) = _args(update, cb.POLL_MANAGE)
    view = await _managed(update, scope, int(poll_id))
    if view is None:
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await _show_manage_card(update, scope, view)


@registered
async def breakdown(update: Update, context: Context, scope: Scope) -> None:
    (poll_id,) = _args(update, cb.POLL_BREAKDOWN)
    view = await _managed(update, scope, int(poll_id))
    if view is None:
        return
    assert update.callback_query is not None
    if view.is_open:
        # While votes still come in, two looks a minute apart would differ by exactly
        # the votes in between: departments are shown for the final count only.
        await update.callback_query.answer(
            scope._("Results by department are shown once the poll has closed."),
            show_alert=True,
        )
        return
    await update.callback_query.answer()
    rows = await polls.department_breakdown(
        scope.session, view, _keys(scope), no_department=scope._("No department")
    )
    await reply(update, display.breakdown_text(scope.t, view, rows))


@registered
async def export(update: Update, context: Context, scope: Scope) -> None:
    (poll_id,) = _args(update, cb.POLL_EXPORT)
    view = await _managed(update, scope, int(poll_id))
    if view is None:
        return
    assert update.callback_query is not None and update.effective_message is not None
    await update.callback_query.answer()
    await show_working(update)
    tally = await polls.tally(scope.session, view)
    votes = None if view.poll.anonymous else await polls.named_votes(scope.session, view)
    rows = (
        None
        if view.is_open
        else await polls.department_breakdown(
            scope.session, view, _keys(scope), no_department=scope._("No department")
        )
    )
    data = display.export_xlsx(scope.t, view, tally, scope.settings.tz, votes, rows)
    caption = (
        scope._("Totals only: the poll is anonymous, so nobody's vote can be exported.")
        if view.poll.anonymous
        else scope._("Who voted what, with the totals.")
    )
    await update.effective_message.reply_document(
        data, filename=display.export_name(view), caption=caption
    )


@registered
async def extend(update: Update, context: Context, scope: Scope) -> None:
    poll_id, hours = _args(update, cb.POLL_EXTEND)
    view = await _managed(update, scope, int(poll_id))
    if view is None:
        return
    if int(hours) not in display.EXTEND_CHOICES:
        await _alert(update, scope._("This button is no longer valid."))
        return
    try:
        view = await polls.extend(
            scope.session, view.id, timedelta(hours=int(hours)), now=scope.runtime.now()
        )
    except VoteRefused:
        await _alert(update, _refusal(scope, "closed"))
        return
    assert update.callback_query is not None and view.poll.closes_at is not None
    await update.callback_query.answer(
        scope._("Now open until {when}.").format(
            when=display.local_time(view.poll.closes_at, scope.settings.tz)
        )
    )
    await _show_manage_card(update, scope, view)


@registered
async def ask_close(update: Update, context: Context, scope: Scope) -> None:
    (poll_id,) = _args(update, cb.POLL_CLOSE)
    view = await _managed(update, scope, int(poll_id))
    if view is None:
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await _edit(
        update,
        scope._("Close “{question}” now? Votes stop and the results go out.").format(
            question=html.escape(view.poll.question)
        ),
        display.confirm_keyboard(
            scope.t, cb.POLL_CLOSE_CONFIRM.pack(view.id), cb.POLL_MANAGE.pack(view.id)
        ),
    )


@registered
async def close_now(update: Update, context: Context, scope: Scope) -> None:
    (poll_id,) = _args(update, cb.POLL_CLOSE_CONFIRM)
    view = await _managed(update, scope, int(poll_id))
    if view is None:
        return
    assert update.callback_query is not None
    closed = await poll_jobs.close_and_notify(
        scope.session, view.id, now=scope.runtime.now(), runtime=scope.runtime
    )
    if closed is None:
        await _alert(update, scope._("This poll is already closed."))
    else:
        await update.callback_query.answer(scope._("Closed. The results are on their way."))
        wake_after_commit(scope.session, context)
        # The chart needs the committed closing: render it right after.
        application = context.application
        poll_jobs.after_commit(scope.session, lambda: poll_jobs.run_soon(application))
        view = closed
    await _show_manage_card(update, scope, await polls.get(scope.session, view.id))


@registered
async def ask_delete(update: Update, context: Context, scope: Scope) -> None:
    (poll_id,) = _args(update, cb.POLL_DELETE)
    view = await _managed(update, scope, int(poll_id))
    if view is None:
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await _edit(
        update,
        scope._(
            "Delete “{question}” with all its votes? Members' buttons will stop working. "
            "This cannot be undone."
        ).format(question=html.escape(view.poll.question)),
        display.confirm_keyboard(
            scope.t, cb.POLL_DELETE_CONFIRM.pack(view.id), cb.POLL_MANAGE.pack(view.id)
        ),
    )


@registered
async def delete(update: Update, context: Context, scope: Scope) -> None:
    (poll_id,) = _args(update, cb.POLL_DELETE_CONFIRM)
    view = await _managed(update, scope, int(poll_id))
    if view is None:
        return
    assert update.callback_query is not None
    await polls.remove(scope.session, view.id, now=scope.runtime.now())
    await update.callback_query.answer(scope._("Deleted."))
    await _edit(
        update,
        scope._("The poll “{question}” was deleted.").format(
            question=html.escape(view.poll.question)
        ),
        InlineKeyboardMarkup(
            [[InlineKeyboardButton(scope._("« Polls"), callback_data=cb.POLL_LIST.pack())]]
        ),
    )


# Settings (from the admin panel) ----------------------------------------------------------


async def _render_settings(update: Update, scope: Scope) -> None:
    allowed = await polls.cadres_may_create(scope.session)
    text = display.settings_text(scope.t, allowed)
    markup = display.settings_keyboard(scope.t, allowed)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await _edit(update, text, markup)
    else:
        await reply(update, text, reply_markup=markup)


@admin_only
async def settings(update: Update, context: Context, scope: Scope) -> None:
    await _render_settings(update, scope)


@admin_only
async def set_cadres(update: Update, context: Context, scope: Scope) -> None:
    (value,) = _args(update, cb.POLL_CADRES)
    if int(value) not in (0, 1):
        await _alert(update, scope._("This button is no longer valid."))
        return
    await polls.set_cadres_may_create(scope.session, bool(value))
    await _render_settings(update, scope)


def register(application: Application) -> None:
    runtime = runtime_of(application)
    runtime.add_menu(POLLS_ITEM)
    runtime.add_command(
        CommandSpec("polls", N_("Open and recent polls"), frozenset({"private"}), 40)
    )
    runtime.add_command(CommandSpec("newpoll", N_("Create a poll"), frozenset({"admin"}), 105))
    text_step = TEXT_INPUT & ~button_filter(CANCEL_LABEL)
    application.add_handler(
        ConversationHandler(
            entry_points=[
                CommandHandler("newpoll", start_new, filters=PRIVATE),
                CallbackQueryHandler(start_new, pattern=cb.POLL_NEW.pattern),
            ],
            states={
                QUESTION: [MessageHandler(text_step, receive_question)],
                OPTIONS: [MessageHandler(text_step, receive_option)],
                SETTINGS: [
                    CallbackQueryHandler(draft_setting, pattern=cb.POLL_DRAFT.pattern),
                    CallbackQueryHandler(draft_audience, pattern=cb.POLL_AUDIENCE.pattern),
                    MessageHandler(text_step, use_the_card),
                ],
                CLOSING: [
                    MessageHandler(text_step, receive_closing),
                    CallbackQueryHandler(draft_setting, pattern=cb.POLL_DRAFT.pattern),
                ],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, draft_timeout)],
            },
            fallbacks=[*cancel_handlers(), MessageHandler(OTHER_INPUT, ask_for_text)],
            name="new_poll",
            persistent=True,
            conversation_timeout=CONVERSATION_TIMEOUT,
            allow_reentry=True,
        )
    )
    # Draft buttons outside the conversation (after /cancel or a timeout) are stale.
    application.add_handler(CallbackQueryHandler(draft_setting, pattern=cb.POLL_DRAFT.pattern))
    application.add_handler(CallbackQueryHandler(draft_audience, pattern=cb.POLL_AUDIENCE.pattern))
    application.add_handler(CommandHandler("polls", list_polls, filters=PRIVATE))
    application.add_handler(MessageHandler(button_filter(POLLS_ITEM.label) & PRIVATE, list_polls))
    for action, callback in (
        (cb.POLL_LIST, list_polls),
        (cb.POLL_VOTE, vote),
        (cb.POLL_RESULTS, results),
        (cb.POLL_OPEN, open_poll),
        (cb.POLL_PREVIEW, preview_button),
        (cb.POLL_MANAGE, manage),
        (cb.POLL_BREAKDOWN, breakdown),
        (cb.POLL_EXPORT, export),
        (cb.POLL_EXTEND, extend),
        (cb.POLL_CLOSE, ask_close),
        (cb.POLL_CLOSE_CONFIRM, close_now),
        (cb.POLL_DELETE, ask_delete),
        (cb.POLL_DELETE_CONFIRM, delete),
        (cb.POLL_SETTINGS, settings),
        (cb.POLL_CADRES, set_cadres),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=action.pattern))

"""Activities: members browse, sign up, wait in line, check in and rate; cadres run them.

Telegram-facing only: the rules are in `storage.activities` (seats through
`storage.seating`), the words in `display.activities`, and anything
sent to someone other than the person tapping goes through the outbox
(`jobs.reminders` builds those notices). Every button names an activity id;
each handler checks again that the presser may see it (its audience) or
manage it (a cadre), so a forged press does nothing its presser could not.
"""

from __future__ import annotations

import logging
from datetime import datetime
from html import escape
from typing import Any

from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core.i18n import N_
from core.runtime import CommandSpec, MenuItem, runtime_of
from display import activities as show
from display import callbacks as cb
from display.broadcasts import EVERYONE, TAG, describe_audience, picker_items
from handlers.common import (
    CANCEL_LABEL,
    OTHER_INPUT,
    PRIVATE,
    SKIP_LABEL,
    TEXT_INPUT,
    ask_for_text,
    cancel_handlers,
    cancel_keyboard,
    choice_keyboard,
    explain,
    is_label,
    reply,
    show_panel,
    show_working,
)
from handlers.common import pressed_args as callback_args
from handlers.enrolment_common import (
    PUBLISH_ANNOUNCE_LABEL,
    SAVE_DRAFT_LABEL,
    UNLIMITED_LABEL,
    UNTIL_START_LABEL,
    answer,
    confirm_choice,
    confirm_keyboard,
    created_text,
    draft_of,
    lost_answers,
    publish_toast,
    read_capacity,
    read_deadline,
    read_description,
    read_end,
    read_start,
    read_title,
    schedule_error,
    text_of,
)
from handlers.enrolment_common import now_of as _now
from handlers.menu import button_filter, main_menu
from handlers.scope import Context, Scope, cadre_only, registered, scoped
from jobs import reminders
from storage import activities, audiences
from storage import enrolment_rules as rules
from storage.activities import Draft, Refused
from storage.audiences import Audience
from storage.members import NotFound
from storage.models import Activity, OfferingStatus
from storage.profile_rules import InvalidInput

log = logging.getLogger(__name__)

ACTIVITIES_ITEM = MenuItem("activities", N_("🎉 Activities"), order=30)
DRAFT = "draft_activity"
CHECKIN = "draft_checkin"
RATING = "draft_rating"
TIMEOUT = 30 * 60
PICKER_SOURCES = ("dept", "group")

GUESTS_YES_LABEL = N_("👥 Yes, +1 allowed")
GUESTS_NO_LABEL = N_("🚶 No guests")

(
    TITLE,
    DESCRIPTION,
    PHOTO,
    PLACE,
    START,
    END,
    DEADLINE,
    CAPACITY,
    GUESTS,
    AUDIENCE,
    CONFIRM,
    CODE,
    COMMENT,
) = range(13)


# Helpers ----------------------------------------------------------------------------------


def link_to(context: Context, activity_id: int) -> str:
    """The deep link cadres share in other chats."""
    return f"https://t.me/{context.bot.username}?start=act_{activity_id}"


async def _visible(update: Update, scope: Scope, activity_id: int) -> Activity | None:
    """The activity if the presser may see it; otherwise say so and return None."""
    try:
        activity = await activities.get(scope.session, activity_id)
    except NotFound:
        activity = None
    if (
        activity is None
        or scope.member is None
        or not await activities.may_see(scope.session, activity, scope.member, scope.is_cadre)
    ):
        reason = "not_found" if activity is None else "not_for_you"
        text = show.refusal(scope.t, scope.settings.tz, reason)
        if update.callback_query is not None:
            await answer(update, text, alert=True)
        else:
            await reply(update, text)
        return None
    return activity


# Members: list and card ----------------------------------------------------------------------


@registered
async def show_list(update: Update, context: Context, scope: Scope) -> None:
    page = 0
    if update.callback_query is not None:
        (page,) = callback_args(update, cb.ACT_LIST)
        await answer(update)
    assert scope.member is not None
    found = await activities.upcoming_for(scope.session, scope.member, _now(scope), int(page))
    await show_panel(
        update,
        show.list_text(scope.t, found),
        show.list_keyboard(scope.t, scope.settings.tz, found, cadre=scope.is_cadre),
    )


async def render_card(update: Update, scope: Scope, activity: Activity, *, fresh: bool) -> None:
    assert scope.member is not None
    signup, position = await activities.signup_of(scope.session, activity.id, scope.member.id)
    waiting = await activities.waiting(scope.session, activity.id)
    now = _now(scope)
    text = show.card_text(
        scope.t,
        scope.settings.tz,
        activity,
        signup=signup,
        position=position,
        waiting=waiting,
        now=now,
    )
    markup = show.card_keyboard(scope.t, activity, signup=signup, now=now, cadre=scope.is_cadre)
    if fresh:
        if activity.photo_file_id:
            message = update.effective_message
            assert message is not None
            await message.reply_photo(activity.photo_file_id, caption=escape(activity.title))
        await reply(update, text, reply_markup=markup)
    else:
        await show_panel(update, text, markup)


@registered
async def open_card(update: Update, context: Context, scope: Scope) -> None:
    (activity_id,) = callback_args(update, cb.ACT_OPEN)
    activity = await _visible(update, scope, int(activity_id))
    if activity is None:
        return
    await answer(update)
    await render_card(update, scope, activity, fresh=False)


async def open_start_payload(update: Update, context: Context, scope: Scope, payload: str) -> bool:
    """`/start act_<id>` (a shared link): show the activity. False when the payload is not ours."""
    if payload.startswith("trn_"):
        from handlers.trainings import open_from_link

        return await open_from_link(update, context, scope, payload)
    if not payload.startswith("act_") or not payload[4:].isdigit():
        return False
    activity = await _visible(update, scope, int(payload[4:]))
    if activity is not None:
        await render_card(update, scope, activity, fresh=True)
    return True


@registered
async def sign_up(update: Update, context: Context, scope: Scope) -> None:
    activity_id, guests = callback_args(update, cb.ACT_SIGN_UP)
    activity = await _visible(update, scope, int(activity_id))
    if activity is None:
        return
    assert scope.member is not None
    now = _now(scope)
    try:
        placement = await activities.sign_up(
            scope.session, activity.id, scope.member, guests=1 if guests else 0, now=now
        )
    except Refused as refused:
        await answer(
            update, show.refusal(scope.t, scope.settings.tz, refused.reason, activity), True
        )
        await render_card(
            update, scope, await activities.get(scope.session, activity.id), fresh=False
        )
        return
    activity = await activities.get(scope.session, activity.id)
    if placement.promoted:
        await reminders.tell_promoted(
            scope.session,
            activity,
            placement.promoted,
            zone=scope.settings.tz,
            now=now,
            target=context,
        )
    await answer(
        update,
        show.placement_toast(scope.t, placement.seated, placement.position, placement.already),
    )
    await render_card(update, scope, activity, fresh=False)


@registered
async def leave(update: Update, context: Context, scope: Scope) -> None:
    (activity_id,) = callback_args(update, cb.ACT_LEAVE)
    activity = await _visible(update, scope, int(activity_id))
    if activity is None:
        return
    assert scope.member is not None
    now = _now(scope)
    try:
        promoted = await activities.cancel_signup(scope.session, activity.id, scope.member.id, now)
    except Refused as refused:
        await answer(
            update, show.refusal(scope.t, scope.settings.tz, refused.reason, activity), True
        )
        return
    activity = await activities.get(scope.session, activity.id)
    await reminders.tell_promoted(
        scope.session, activity, promoted, zone=scope.settings.tz, now=now, target=context
    )
    await answer(update, scope._("Your sign-up is cancelled."))
    await render_card(update, scope, activity, fresh=False)


# Members: check-in with a code ------------------------------------------------------------------


@registered
async def ask_code(update: Update, context: Context, scope: Scope) -> int:
    (activity_id,) = callback_args(update, cb.ACT_CHECK_IN)
    activity = await _visible(update, scope, int(activity_id))
    if activity is None:
        return ConversationHandler.END
    await answer(update)
    context.user_data[CHECKIN] = activity.id  # type: ignore[index]
    await reply(
        update,
        scope._("Send the check-in code shown at the venue (4 digits)."),
        reply_markup=cancel_keyboard(scope),
    )
    return CODE


@registered
async def receive_code(update: Update, context: Context, scope: Scope) -> int:
    assert context.user_data is not None and scope.member is not None
    activity_id = context.user_data.get(CHECKIN)
    if activity_id is None:
        return ConversationHandler.END
    text = update.effective_message.text or ""  # type: ignore[union-attr]
    try:
        await activities.check_in_with_code(
            scope.session, int(activity_id), scope.member.id, text, _now(scope)
        )
    except Refused as refused:
        await reply(update, show.refusal(scope.t, scope.settings.tz, refused.reason))
        if refused.reason == "wrong_code":
            return CODE
        context.user_data.pop(CHECKIN, None)
        await reply(update, scope._("Choose from the menu below."), reply_markup=main_menu(scope))
        return ConversationHandler.END
    context.user_data.pop(CHECKIN, None)
    await reply(update, scope._("✅ You are checked in. Enjoy!"), reply_markup=main_menu(scope))
    return ConversationHandler.END


# Members: rating --------------------------------------------------------------------------------


@registered
async def rate(update: Update, context: Context, scope: Scope) -> int:
    activity_id, stars = callback_args(update, cb.ACT_RATE)
    assert scope.member is not None
    try:
        await activities.rate(
            scope.session, int(activity_id), scope.member.id, int(stars), _now(scope)
        )
    except (Refused, NotFound) as error:
        reason = error.reason if isinstance(error, Refused) else "not_found"
        await answer(update, show.refusal(scope.t, scope.settings.tz, reason), True)
        return ConversationHandler.END
    await answer(update)
    context.user_data[RATING] = int(activity_id)  # type: ignore[index]
    await show_panel(
        update,
        scope._("Thank you! You gave {stars} of 5 stars.").format(stars="⭐" * int(stars)),
        None,
    )
    await reply(
        update,
        scope._("Would you like to add a comment? Type it, or tap Skip."),
        reply_markup=choice_keyboard(scope, [], skip=True),
    )
    return COMMENT


@registered
async def receive_comment(update: Update, context: Context, scope: Scope) -> int:
    assert context.user_data is not None and scope.member is not None
    activity_id = context.user_data.get(RATING)
    text = update.effective_message.text or ""  # type: ignore[union-attr]
    if activity_id is None:
        return ConversationHandler.END
    if not is_label(text, SKIP_LABEL):
        try:
            await activities.comment(scope.session, int(activity_id), scope.member.id, text)
        except InvalidInput as error:
            await reply(update, explain(scope, error, rules.COMMENT_MAX))
            return COMMENT
    context.user_data.pop(RATING, None)
    await reply(update, scope._("Thank you for your feedback!"), reply_markup=main_menu(scope))
    return ConversationHandler.END


# Cadres: the list and the panel ---------------------------------------------------------------


@cadre_only
async def admin_list(update: Update, context: Context, scope: Scope) -> None:
    page = 0
    if update.callback_query is not None:
        (page,) = callback_args(update, cb.ACT_ADMIN)
        await answer(update)
    found = await activities.for_cadres(scope.session, _now(scope), int(page))
    await show_panel(
        update,
        show.admin_list_text(scope.t, found),
        show.list_keyboard(
            scope.t,
            scope.settings.tz,
            found,
            cadre=True,
            paging=cb.ACT_ADMIN,
            opening=cb.ACT_MANAGE,
        ),
    )


async def render_manage(update: Update, context: Context, scope: Scope, activity_id: int) -> None:
    try:
        activity = await activities.get(scope.session, activity_id)
    except NotFound:
        await answer(update, show.refusal(scope.t, scope.settings.tz, "not_found"), True)
        return
    lines = await activities.roster(scope.session, activity.id)
    described = await audiences.describe(scope.session, activities.audience_of(activity))
    text = show.manage_text(
        scope.t,
        scope.settings.tz,
        activity,
        waiting=sum(1 for line in lines if line.position is not None),
        checked_in=sum(1 for line in lines if line.checked_in_at is not None),
        audience=describe_audience(scope.t, described),
        ratings=await activities.rating_summary(scope.session, activity.id),
        link=link_to(context, activity.id),
    )
    await show_panel(update, text, show.manage_keyboard(scope.t, activity))


@cadre_only
async def manage(update: Update, context: Context, scope: Scope) -> None:
    (activity_id,) = callback_args(update, cb.ACT_MANAGE)
    await answer(update)
    await render_manage(update, context, scope, int(activity_id))


async def _publish(
    context: Context, scope: Scope, activity_id: int, announce: bool
) -> tuple[bool, int]:
    now = _now(scope)
    published = await activities.publish(scope.session, activity_id, now)
    sent = 0
    if published and announce:
        activity = await activities.get(scope.session, activity_id)
        sent = await reminders.announce(
            scope.session, activity, zone=scope.settings.tz, now=now, target=context
        )
    return published, sent


@cadre_only
async def publish(update: Update, context: Context, scope: Scope) -> None:
    activity_id, announce = callback_args(update, cb.ACT_PUBLISH)
    published, sent = await _publish(context, scope, int(activity_id), bool(announce))
    await publish_toast(update, scope, published=published, announce=bool(announce), sent=sent)
    await render_manage(update, context, scope, int(activity_id))


@cadre_only
async def share_link(update: Update, context: Context, scope: Scope) -> None:
    (activity_id,) = callback_args(update, cb.ACT_LINK)
    await answer(update)
    await reply(
        update,
        scope._("Share this link in any chat; it opens the activity in the bot:\n{link}").format(
            link=escape(link_to(context, int(activity_id)))
        ),
    )


@cadre_only
async def ask_cancel(update: Update, context: Context, scope: Scope) -> None:
    (activity_id,) = callback_args(update, cb.ACT_CANCEL)
    await answer(update)
    try:
        activity = await activities.get(scope.session, int(activity_id))
    except NotFound:
        return
    people = len(await activities.participants(scope.session, activity.id, waitlisted=True))
    await show_panel(
        update,
        scope._(
            "Cancel “{title}”? The {count} members signed up (waitlist included) are told, "
            "and no more reminders go out. This cannot be undone."
        ).format(title=escape(activity.title), count=people),
        show.cancel_confirm_keyboard(scope.t, activity.id),
    )


@cadre_only
async def cancel_activity(update: Update, context: Context, scope: Scope) -> None:
    (activity_id,) = callback_args(update, cb.ACT_CANCEL_CONFIRM)
    now = _now(scope)
    people = await activities.cancel(scope.session, int(activity_id), now)
    try:
        activity = await activities.get(scope.session, int(activity_id))
    except NotFound:
        await answer(update, show.refusal(scope.t, scope.settings.tz, "not_found"), True)
        return
    await reminders.tell_cancelled(
        scope.session, activity, people, zone=scope.settings.tz, now=now, target=context
    )
    await answer(
        update, scope._("Cancelled. {count} members are being told.").format(count=len(people))
    )
    await render_manage(update, context, scope, activity.id)


# Cadres: roster, check-in, export ------------------------------------------------------------------


async def render_roster(update: Update, scope: Scope, activity_id: int, page: int) -> None:
    activity = await activities.get(scope.session, activity_id)
    lines = await activities.roster(scope.session, activity_id)
    await show_panel(
        update,
        show.roster_text(scope.t, activity, lines, page),
        show.roster_keyboard(scope.t, activity, lines, page),
    )


@cadre_only
async def roster(update: Update, context: Context, scope: Scope) -> None:
    activity_id, page = callback_args(update, cb.ACT_ROSTER)
    try:
        await render_roster(update, scope, int(activity_id), int(page))
    except NotFound:
        await answer(update, show.refusal(scope.t, scope.settings.tz, "not_found"), True)
        return
    await answer(update)


@cadre_only
async def mark(update: Update, context: Context, scope: Scope) -> None:
    activity_id, signup_id, page = callback_args(update, cb.ACT_MARK)
    try:
        signup = await activities.toggle_attendance(
            scope.session, int(activity_id), int(signup_id), _now(scope)
        )
    except Refused as refused:
        await answer(update, show.refusal(scope.t, scope.settings.tz, refused.reason), True)
        return
    await answer(
        update,
        scope._("Checked in.") if signup.checked_in_at else scope._("Check-in taken back."),
    )
    await render_roster(update, scope, int(activity_id), int(page))


@cadre_only
async def export(update: Update, context: Context, scope: Scope) -> None:
    activity_id, kind = callback_args(update, cb.ACT_EXPORT)
    if kind not in ("csv", "xlsx"):
        await answer(update, scope._("This button is no longer valid."), True)
        return
    try:
        activity = await activities.get(scope.session, int(activity_id))
    except NotFound:
        await answer(update, show.refusal(scope.t, scope.settings.tz, "not_found"), True)
        return
    await answer(update)
    await show_working(update)
    lines = await activities.roster(scope.session, activity.id)
    zone = scope.settings.tz
    if kind == "csv":
        data = show.roster_csv(scope.t, zone, lines)
    else:
        data = show.roster_xlsx(scope.t, zone, activity, lines)
    message = update.effective_message
    assert message is not None
    await message.reply_document(
        InputFile(data, filename=show.export_name(activity, str(kind))),
        caption=scope._("Roster of {title}: {count} rows.").format(
            title=escape(activity.title), count=len(lines)
        ),
    )


# Cadres: the guided editor (create, and edit one field) ------------------------------------------


def _draft(context: Context) -> dict[str, Any]:
    return draft_of(context, DRAFT)


_text = text_of


async def _ask(update: Update, scope: Scope, step: int, draft: dict[str, Any]) -> int:
    """Ask for ``step`` and return it as the conversation's next state."""
    t = scope.t
    zone = scope.settings.tz
    editing = draft.get("edit") is not None
    prompts: dict[int, tuple[str, Any]] = {
        TITLE: (
            t.gettext("What is the activity called? (at most 100 characters)"),
            cancel_keyboard(scope),
        ),
        DESCRIPTION: (
            t.gettext("Describe it: what it is, who it is for, what to bring. Or tap Skip."),
            choice_keyboard(scope, [], skip=True),
        ),
        PHOTO: (
            t.gettext("Send a photo or poster for it, or tap Skip.")
            if not editing
            else t.gettext("Send the new photo, or tap Skip to remove the photo."),
            choice_keyboard(scope, [], skip=True),
        ),
        PLACE: (t.gettext("Where does it take place?"), cancel_keyboard(scope)),
        START: (
            t.gettext("When does it start? Write the date and time, like {example}.").format(
                example=show.example_time(_now(scope), zone)
            ),
            cancel_keyboard(scope),
        ),
        END: (
            t.gettext("When does it end? A time like 16:00 on the same day, or a date and time."),
            cancel_keyboard(scope),
        ),
        DEADLINE: (
            t.gettext("Until when can members sign up? A date and time, or tap the button."),
            choice_keyboard(scope, [t.gettext(UNTIL_START_LABEL)]),
        ),
        CAPACITY: (
            t.gettext("How many seats are there? Send a number, or tap the button."),
            choice_keyboard(scope, [t.gettext(UNLIMITED_LABEL)]),
        ),
        GUESTS: (
            t.gettext("May members bring a guest (+1)?"),
            choice_keyboard(scope, [t.gettext(GUESTS_YES_LABEL), t.gettext(GUESTS_NO_LABEL)]),
        ),
    }
    if step == AUDIENCE:
        await _render_picker(update, scope, draft, fresh=True)
        return AUDIENCE
    text, markup = prompts[step]
    await reply(update, text, reply_markup=markup)
    return step


def _start_draft(context: Context, **values: Any) -> dict[str, Any]:
    assert context.user_data is not None
    context.user_data[DRAFT] = dict(values)
    return context.user_data[DRAFT]  # type: ignore[no-any-return]


@cadre_only
async def begin_new(update: Update, context: Context, scope: Scope) -> int:
    await answer(update)
    draft = _start_draft(context, edit=None, audience=Audience(everyone=True).to_json())
    await reply(update, scope._("Let's create an activity. You can stop any time with ✖️ Cancel."))
    return await _ask(update, scope, TITLE, draft)


# Edited field → (its key in the draft, the activity's column) for plain details.
DETAIL_FIELDS = {
    "title": ("title", "title"),
    "desc": ("description", "description"),
    "photo": ("photo", "photo_file_id"),
    "place": ("place", "place"),
    "guests": ("guests", "guests_allowed"),
    "aud": ("audience", "audience"),
}
FIELD_STEPS = {
    "title": TITLE,
    "desc": DESCRIPTION,
    "photo": PHOTO,
    "place": PLACE,
    "time": START,
    "cap": CAPACITY,
    "guests": GUESTS,
    "aud": AUDIENCE,
}


@cadre_only
async def begin_edit(update: Update, context: Context, scope: Scope) -> int:
    activity_id, field = callback_args(update, cb.ACT_EDIT)
    step = FIELD_STEPS.get(str(field))
    try:
        activity = await activities.get(scope.session, int(activity_id))
    except NotFound:
        activity = None
    if step is None or activity is None or activity.status == OfferingStatus.CANCELLED.value:
        await answer(update, scope._("This button is no longer valid."), True)
        return ConversationHandler.END
    await answer(update)
    draft = _start_draft(context, edit=activity.id, field=str(field), audience=activity.audience)
    return await _ask(update, scope, step, draft)


async def _finish_edit(
    update: Update, context: Context, scope: Scope, draft: dict[str, Any]
) -> int:
    """Apply the one edited field, tell whoever must know, show the panel again."""
    activity_id = int(draft["edit"])
    field = draft["field"]
    now = _now(scope)
    zone = scope.settings.tz
    if field == "time":
        try:
            changed = await activities.reschedule(
                scope.session,
                activity_id,
                starts_at=datetime.fromisoformat(draft["start"]),
                ends_at=datetime.fromisoformat(draft["end"]),
                signup_deadline=datetime.fromisoformat(draft["deadline"]),
                now=now,
            )
        except Refused as refused:
            await reply(update, schedule_error(scope, refused.reason))
            return await _ask(update, scope, START, draft)
        if changed.moved:
            told = await reminders.tell_moved(
                scope.session,
                changed.activity,
                changed.old_version,
                zone=zone,
                now=now,
                target=context,
            )
            await reply(
                update,
                scope._("New time saved. {count} members are being told.").format(count=told),
            )
    elif field == "cap":
        try:
            promoted = await activities.set_capacity(
                scope.session, activity_id, draft["capacity"], now
            )
        except Refused:
            activity = await activities.get(scope.session, activity_id)
            await reply(update, show.refusal(scope.t, zone, "below_taken", activity))
            return CAPACITY
        if promoted:
            activity = await activities.get(scope.session, activity_id)
            await reminders.tell_promoted(
                scope.session, activity, promoted, zone=zone, now=now, target=context
            )
            await reply(
                update,
                scope._("{count} members moved up from the waitlist and are being told.").format(
                    count=len(promoted)
                ),
            )
    else:
        draft_key, column = DETAIL_FIELDS[field]
        await activities.update_details(
            scope.session, activity_id, now, **{column: draft[draft_key]}
        )
    context.user_data.pop(DRAFT, None)  # type: ignore[union-attr]
    await reply(update, scope._("Saved."), reply_markup=main_menu(scope))
    await render_manage(update, context, scope, activity_id)
    return ConversationHandler.END


async def _next(update: Update, context: Context, scope: Scope, step: int) -> int:
    """After a field: the next question when creating, or save when editing one field."""
    draft = _draft(context)
    if draft.get("edit") is not None:
        return await _finish_edit(update, context, scope, draft)
    return await _ask(update, scope, step, draft)


@cadre_only
async def step_title(update: Update, context: Context, scope: Scope) -> int:
    if not await read_title(update, scope, _draft(context)):
        return TITLE
    return await _next(update, context, scope, DESCRIPTION)


@cadre_only
async def step_description(update: Update, context: Context, scope: Scope) -> int:
    if not await read_description(update, scope, _draft(context)):
        return DESCRIPTION
    return await _next(update, context, scope, PHOTO)


@cadre_only
async def step_photo(update: Update, context: Context, scope: Scope) -> int:
    message = update.effective_message
    assert message is not None
    if message.photo:
        _draft(context)["photo"] = message.photo[-1].file_id
    elif is_label(message.text or "", SKIP_LABEL):
        _draft(context)["photo"] = None
    else:
        await reply(update, scope._("Please send a photo, or tap Skip."))
        return PHOTO
    return await _next(update, context, scope, PLACE)


@cadre_only
async def step_place(update: Update, context: Context, scope: Scope) -> int:
    try:
        _draft(context)["place"] = rules.clean_title(_text(update), rules.PLACE_MAX)
    except InvalidInput as error:
        await reply(update, explain(scope, error, rules.PLACE_MAX))
        return PLACE
    return await _next(update, context, scope, START)


@cadre_only
async def step_start(update: Update, context: Context, scope: Scope) -> int:
    start = await read_start(update, scope)
    if start is None:
        return START
    _draft(context)["start"] = start.isoformat()
    return await _ask(update, scope, END, _draft(context))


@cadre_only
async def step_end(update: Update, context: Context, scope: Scope) -> int:
    draft = _draft(context)
    end = await read_end(update, scope, datetime.fromisoformat(draft["start"]))
    if end is None:
        return END
    draft["end"] = end.isoformat()
    return await _ask(update, scope, DEADLINE, draft)


@cadre_only
async def step_deadline(update: Update, context: Context, scope: Scope) -> int:
    draft = _draft(context)
    start = datetime.fromisoformat(draft["start"])
    deadline = await read_deadline(update, scope, start)
    if deadline is None:
        return DEADLINE
    problem = rules.check_schedule(
        start, datetime.fromisoformat(draft["end"]), deadline, _now(scope)
    )
    if problem:
        await reply(update, schedule_error(scope, problem))
        return DEADLINE
    draft["deadline"] = deadline.isoformat()
    if draft.get("edit") is not None:
        return await _finish_edit(update, context, scope, draft)
    return await _ask(update, scope, CAPACITY, draft)


@cadre_only
async def step_capacity(update: Update, context: Context, scope: Scope) -> int:
    if not await read_capacity(update, scope, _draft(context)):
        return CAPACITY
    return await _next(update, context, scope, GUESTS)


@cadre_only
async def step_guests(update: Update, context: Context, scope: Scope) -> int:
    text = _text(update)
    if is_label(text, GUESTS_YES_LABEL):
        _draft(context)["guests"] = True
    elif is_label(text, GUESTS_NO_LABEL):
        _draft(context)["guests"] = False
    else:
        await reply(update, scope._("Please tap one of the buttons."))
        return GUESTS
    return await _next(update, context, scope, AUDIENCE)


# The audience picker (inline buttons while composing) -----------------------------------------------


async def _picker(scope: Scope, draft: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    audience = Audience.from_json(draft.get("audience"))
    sources = [
        (source, await source.choices(scope.session))
        for source in audiences.SOURCES.ordered()
        if source.key in PICKER_SOURCES
    ]
    tags = await audiences.tags_in_use(scope.session)
    draft["tags"] = tags
    items = picker_items(scope.t, audience, sources, tags)
    described = describe_audience(scope.t, await audiences.describe(scope.session, audience))
    count = await audiences.count(scope.session, audience)
    text = "\n".join(
        [
            "<b>" + scope._("Who is it for?") + "</b>",
            scope._("Tap to choose; members in any chosen group see it and may sign up."),
            "",
            scope._("Chosen: {audience}").format(audience=described),
            scope._("Members: {count}").format(count=count),
        ]
    )
    buttons = [
        show._button(
            ("✅ " if item.chosen else "") + item.label,
            cb.ACT_AUDIENCE.pack(item.source, item.item),
        )
        for item in items
    ]
    rows = [buttons[:1]] + [buttons[i : i + 2] for i in range(1, len(buttons), 2)]
    rows.append([show._button(scope._("Continue ›"), cb.ACT_AUDIENCE_DONE.pack())])
    return text, InlineKeyboardMarkup(rows)


async def _render_picker(
    update: Update, scope: Scope, draft: dict[str, Any], *, fresh: bool
) -> None:
    text, markup = await _picker(scope, draft)
    if fresh:
        await reply(update, text, reply_markup=markup)
    else:
        await show_panel(update, text, markup)


@cadre_only
async def toggle_audience(update: Update, context: Context, scope: Scope) -> int:
    source, item = callback_args(update, cb.ACT_AUDIENCE)
    draft = _draft(context)
    audience = Audience.from_json(draft.get("audience"))
    if source == EVERYONE:
        audience = audience.toggle_everyone()
    elif source == TAG:
        tags = draft.get("tags") or []
        if not 0 <= int(item) < len(tags):
            await answer(update, scope._("This button is no longer valid."), True)
            return AUDIENCE
        audience = audience.toggle_tag(tags[int(item)])
    elif source in PICKER_SOURCES:
        audience = audience.toggle_item(str(source), int(item))
    else:
        await answer(update, scope._("This button is no longer valid."), True)
        return AUDIENCE
    draft["audience"] = audience.to_json()
    await answer(update)
    await _render_picker(update, scope, draft, fresh=False)
    return AUDIENCE


@cadre_only
async def audience_done(update: Update, context: Context, scope: Scope) -> int:
    draft = _draft(context)
    audience = Audience.from_json(draft.get("audience"))
    if audience.empty:
        await answer(update, scope._("Choose at least one group, or Everyone."), True)
        return AUDIENCE
    await answer(update)
    if draft.get("edit") is not None:
        draft["audience"] = audience.to_json()  # drafts stay plain JSON (bot/persistence.py)
        return await _finish_edit(update, context, scope, draft)
    return await _confirm(update, context, scope, draft)


# Confirm and save -------------------------------------------------------------------------------------


def _draft_value(draft: dict[str, Any]) -> Draft:
    return Draft(
        title=draft["title"],
        description=draft.get("description", ""),
        photo_file_id=draft.get("photo"),
        place=draft["place"],
        starts_at=datetime.fromisoformat(draft["start"]),
        ends_at=datetime.fromisoformat(draft["end"]),
        signup_deadline=datetime.fromisoformat(draft["deadline"]),
        capacity=draft.get("capacity"),
        guests_allowed=bool(draft.get("guests")),
        audience=Audience.from_json(draft.get("audience")),
    )


async def _confirm(update: Update, context: Context, scope: Scope, draft: dict[str, Any]) -> int:
    value = _draft_value(draft)
    preview = Activity(
        id=0,
        title=value.title,
        description=value.description,
        place=value.place,
        starts_at=value.starts_at,
        ends_at=value.ends_at,
        signup_deadline=value.signup_deadline,
        capacity=value.capacity,
        seats_taken=0,
        guests_allowed=value.guests_allowed,
    )
    described = describe_audience(scope.t, await audiences.describe(scope.session, value.audience))
    lines = [
        "<b>" + scope._("Please check the activity:") + "</b>",
        "",
        *show.details(scope.t, scope.settings.tz, preview),
        "🪑 " + show.seats_line(scope.t, preview),
        scope._("Audience: {audience}").format(audience=described),
    ]
    if value.photo_file_id:
        lines.append("🖼 " + scope._("With a photo."))
    await reply(update, "\n".join(lines), reply_markup=confirm_keyboard(scope))
    return CONFIRM


@cadre_only
async def step_confirm(update: Update, context: Context, scope: Scope) -> int:
    draft = _draft(context)
    choice = await confirm_choice(update, scope)
    if choice is None:
        return CONFIRM
    if "title" not in draft or "deadline" not in draft:
        return await lost_answers(update, context, scope, DRAFT)
    value = _draft_value(draft)
    problem = rules.check_schedule(
        value.starts_at, value.ends_at, value.signup_deadline, _now(scope)
    )  # type: ignore[arg-type]
    if problem:
        await reply(update, schedule_error(scope, problem))
        return await _ask(update, scope, START, draft)
    activity = await activities.create(
        scope.session,
        value,
        created_by=scope.member.id if scope.member else None,
        now=_now(scope),
    )
    context.user_data.pop(DRAFT, None)  # type: ignore[union-attr]
    sent = 0
    if choice != SAVE_DRAFT_LABEL:
        _, sent = await _publish(context, scope, activity.id, choice == PUBLISH_ANNOUNCE_LABEL)
    done = created_text(scope, choice, sent)
    log.info("activity %d created by a cadre", activity.id)
    await reply(update, done, reply_markup=main_menu(scope))
    await render_manage(update, context, scope, activity.id)
    return ConversationHandler.END


@scoped
async def editor_timeout(update: Update, context: Context, scope: Scope) -> None:
    if context.user_data is not None:
        for key in (DRAFT, CHECKIN, RATING):
            context.user_data.pop(key, None)


# Wiring -------------------------------------------------------------------------------------------------


def signup_line(update: Update) -> tuple[str, int] | None:
    """Sign-ups to one activity stand in line by arrival (`bot.processor`): tap order."""
    query = update.callback_query
    if query is None or not query.data or not cb.ACT_SIGN_UP.pattern.match(query.data):
        return None
    return ("activity", int(cb.ACT_SIGN_UP.unpack(query.data)[0]))


def register(application: Application) -> None:
    runtime = runtime_of(application)
    runtime.add_menu(ACTIVITIES_ITEM)
    runtime.add_command(
        CommandSpec("activities", N_("Upcoming activities: sign up"), frozenset({"private"}), 30)
    )
    runtime.add_command(
        CommandSpec("new_activity", N_("Create an activity"), frozenset({"admin"}), 31)
    )
    text_step = TEXT_INPUT & ~button_filter(CANCEL_LABEL)
    fallbacks = [*cancel_handlers(), MessageHandler(OTHER_INPUT, ask_for_text)]
    application.add_handler(
        ConversationHandler(
            entry_points=[
                CallbackQueryHandler(begin_new, pattern=cb.ACT_NEW.pattern),
                CommandHandler("new_activity", begin_new, filters=PRIVATE),
                CallbackQueryHandler(begin_edit, pattern=cb.ACT_EDIT.pattern),
            ],
            states={
                TITLE: [MessageHandler(text_step, step_title)],
                DESCRIPTION: [MessageHandler(text_step, step_description)],
                PHOTO: [MessageHandler((filters.PHOTO & PRIVATE) | text_step, step_photo)],
                PLACE: [MessageHandler(text_step, step_place)],
                START: [MessageHandler(text_step, step_start)],
                END: [MessageHandler(text_step, step_end)],
                DEADLINE: [MessageHandler(text_step, step_deadline)],
                CAPACITY: [MessageHandler(text_step, step_capacity)],
                GUESTS: [MessageHandler(text_step, step_guests)],
                AUDIENCE: [
                    CallbackQueryHandler(toggle_audience, pattern=cb.ACT_AUDIENCE.pattern),
                    CallbackQueryHandler(audience_done, pattern=cb.ACT_AUDIENCE_DONE.pattern),
                ],
                CONFIRM: [MessageHandler(text_step, step_confirm)],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, editor_timeout)],
            },
            fallbacks=fallbacks,
            name="activity_editor",
            persistent=True,
            conversation_timeout=TIMEOUT,
            allow_reentry=True,
        )
    )
    application.add_handler(
        ConversationHandler(
            entry_points=[
                CallbackQueryHandler(ask_code, pattern=cb.ACT_CHECK_IN.pattern),
                CallbackQueryHandler(rate, pattern=cb.ACT_RATE.pattern),
            ],
            states={
                CODE: [MessageHandler(text_step, receive_code)],
                COMMENT: [MessageHandler(text_step, receive_comment)],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, editor_timeout)],
            },
            fallbacks=fallbacks,
            name="activity_member_input",
            persistent=True,
            conversation_timeout=TIMEOUT,
            allow_reentry=True,
        )
    )
    application.add_handler(CommandHandler("activities", show_list, filters=PRIVATE))
    application.add_handler(
        MessageHandler(button_filter(ACTIVITIES_ITEM.label) & PRIVATE, show_list)
    )
    for action, callback in (
        (cb.ACT_LIST, show_list),
        (cb.ACT_OPEN, open_card),
        (cb.ACT_SIGN_UP, sign_up),
        (cb.ACT_LEAVE, leave),
        (cb.ACT_ADMIN, admin_list),
        (cb.ACT_MANAGE, manage),
        (cb.ACT_PUBLISH, publish),
        (cb.ACT_LINK, share_link),
        (cb.ACT_CANCEL, ask_cancel),
        (cb.ACT_CANCEL_CONFIRM, cancel_activity),
        (cb.ACT_ROSTER, roster),
        (cb.ACT_MARK, mark),
        (cb.ACT_EXPORT, export),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=action.pattern))
    runtime_of(application).add_line(signup_line)

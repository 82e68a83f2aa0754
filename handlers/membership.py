"""Membership: /start registration, /language, /help, /forget, and blocked-bot tracking.

The registration conversation's states are drawn in `registration.mmd` beside this module.
"""

from __future__ import annotations

from html import escape

from telegram import ChatMemberUpdated, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core.i18n import LANGUAGE_NAMES, N_, translator
from core.runtime import CommandSpec, MenuItem, runtime_of
from core.settings import SUPPORTED_LANGUAGES
from display import callbacks as cb
from display import grievances as grievance_display
from display.membership import (
    bilingual,
    language_keyboard,
    summary,
)
from handlers import forgetting
from handlers.commands import app_language, set_member_commands
from handlers.common import (
    CANCEL_LABEL,
    OTHER_INPUT,
    PRIVATE,
    SKIP_LABEL,
    TEXT_INPUT,
    ask_for_text,
    cancel_handlers,
    choice_keyboard,
    draft_of,
    drop_draft,
    explain,
    is_label,
    keep_draft,
    pressed_args,
    reply,
    text_of,
)
from handlers.deep_links import open_code_link, open_deep_link
from handlers.menu import button_filter, main_menu
from handlers.scope import LANGUAGE_KEY, Context, Scope, scoped
from storage import members, registration
from storage.profile_rules import DEPARTMENT_MAX, NAME_MAX, InvalidInput
from storage.registration import Incomplete, RegistrationDraft

LANGUAGE_ITEM = MenuItem("language", N_("🌐 Language"), order=80)
HELP_ITEM = MenuItem("help", N_("❓ Help"), order=90)

CONFIRM_LABEL = N_("✅ Confirm")
RESTART_LABEL = N_("✏️ Start over")

CHOOSE_LANGUAGE, NAME, DEPARTMENT, BIRTHDAY, CONFIRM = range(5)
DRAFT = "draft_registration"
START_PAYLOAD = "start_payload"  # a deep link's target, opened once registration is done
CONVERSATION_TIMEOUT = 30 * 60

WELCOME = N_(
    "Welcome to the union's assistant! Here you can reach the union, sign up for "
    "activities and have your say. Please choose your language."
)


def _draft(context: Context) -> RegistrationDraft:
    """The answers so far, a new draft if there are none (or only an older version's)."""
    draft = draft_of(context, DRAFT, RegistrationDraft)
    if draft is None:
        draft = RegistrationDraft()
        keep_draft(context, DRAFT, draft)
    return draft


def _user_data(context: Context) -> dict[object, object]:
    """A private chat's update always has a user, so PTB always gives user_data."""
    if context.user_data is None:
        raise RuntimeError("a private update without user_data")
    return context.user_data


# /start and registration ----------------------------------------------------


@scoped
async def start(update: Update, context: Context, scope: Scope) -> int:
    # A shared link (t.me/<bot>?start=act_12) opens its target; newcomers register first.
    payload = context.args[0] if context.args else ""
    # A roster's one-time code (`join_…`, or typed after /start) registers by itself.
    if payload and await open_code_link(update, context, scope, payload):
        return ConversationHandler.END
    if scope.member is not None:
        if payload and await open_deep_link(update, context, scope, payload):
            return ConversationHandler.END
        await reply(
            update,
            scope._("Welcome back, {name}! Choose from the menu below.").format(
                name=escape(scope.member.name)
            ),
            reply_markup=main_menu(scope),
        )
        return ConversationHandler.END
    drop_draft(context, DRAFT)
    if payload:
        _user_data(context)[START_PAYLOAD] = payload[:64]
    await reply(update, bilingual(WELCOME), reply_markup=language_keyboard())
    return CHOOSE_LANGUAGE


@scoped
async def registration_language(update: Update, context: Context, scope: Scope) -> int:
    query = update.callback_query
    assert query is not None
    try:
        language = pressed_args(update, cb.LANGUAGE).code
    except cb.InvalidCallback:
        await query.answer()
        return CHOOSE_LANGUAGE
    if language not in SUPPORTED_LANGUAGES:
        await query.answer()
        return CHOOSE_LANGUAGE
    _draft(context).language = language
    _user_data(context)[LANGUAGE_KEY] = language
    t = translator(language)
    await query.answer()
    await query.edit_message_text(
        t.gettext("Language: {language}").format(language=LANGUAGE_NAMES[language])
    )
    scope.t = t
    await _ask_name(update, scope)
    return NAME


async def _ask_name(update: Update, scope: Scope) -> None:
    user = update.effective_user
    suggestions = [user.full_name[:NAME_MAX]] if user and user.full_name else []
    await reply(
        update,
        scope._("What is your name? Type it, or tap the button if it is right."),
        reply_markup=choice_keyboard(scope, suggestions, columns=1),
    )


@scoped
async def registration_name(update: Update, context: Context, scope: Scope) -> int:
    try:
        _draft(context).answer_name(text_of(update))
    except InvalidInput as error:
        await reply(update, explain(scope, error, NAME_MAX))
        return NAME
    departments = [d.name for d in await members.list_departments(scope.session)]
    await reply(
        update,
        scope._("Which department do you work in? Choose one, or type its name."),
        reply_markup=choice_keyboard(scope, departments),
    )
    return DEPARTMENT


@scoped
async def registration_department(update: Update, context: Context, scope: Scope) -> int:
    try:
        _draft(context).answer_department(text_of(update))
    except InvalidInput as error:
        await reply(update, explain(scope, error, DEPARTMENT_MAX))
        return DEPARTMENT
    await reply(
        update,
        scope._(
            "When is your birthday? Write it like 1990-05-03, or tap Skip. "
            "We use it only to send you birthday wishes."
        ),
        reply_markup=choice_keyboard(scope, [], skip=True),
    )
    return BIRTHDAY


@scoped
async def registration_birthday(update: Update, context: Context, scope: Scope) -> int:
    text = text_of(update)
    draft = _draft(context)
    if is_label(text, SKIP_LABEL):
        draft.skip_birthday()
    else:
        today = scope.runtime.now().astimezone(scope.settings.tz).date()
        try:
            draft.answer_birthday(text, today)
        except InvalidInput as error:
            await reply(update, explain(scope, error))
            return BIRTHDAY
    if draft.name is None or draft.department is None:
        return await _lost(update, scope)
    await reply(
        update,
        summary(
            scope.t,
            draft.name,
            draft.department,
            draft.birthday,
            draft.language or scope.t.language,
        ),
        reply_markup=choice_keyboard(scope, [scope._(CONFIRM_LABEL), scope._(RESTART_LABEL)]),
    )
    return CONFIRM


@scoped
async def registration_confirm(update: Update, context: Context, scope: Scope) -> int:
    text = text_of(update)
    draft = _draft(context)
    if is_label(text, RESTART_LABEL):
        await _ask_name(update, scope)
        return NAME
    if not is_label(text, CONFIRM_LABEL):
        await reply(update, scope._("Please tap ✅ Confirm, ✏️ Start over or ✖️ Cancel."))
        return CONFIRM
    user = update.effective_user
    assert user is not None
    try:
        member = await registration.register(
            scope.session, user.id, draft, language=scope.t.language, username=user.username
        )
    except Incomplete:
        return await _lost(update, scope)
    drop_draft(context, DRAFT)
    scope.member = member
    await reply(
        update,
        scope._(
            "Welcome to the union, {name}! You are registered. "
            "Everything is in the menu below; /help explains it."
        ).format(name=escape(member.name)),
        reply_markup=main_menu(scope),
    )
    default = scope.settings.default_language
    if scope.is_admin or member.language != app_language(user.language_code, default):
        await set_member_commands(context.application, user.id, member.language, scope.role)
    pending = _user_data(context).pop(START_PAYLOAD, "")
    if pending:
        await open_deep_link(update, context, scope, str(pending))
    return ConversationHandler.END


async def _lost(update: Update, scope: Scope) -> int:
    """The draft was lost (e.g. the bot restarted mid-registration): begin again."""
    await reply(update, scope._("Sorry, I lost your answers. Let's start again."))
    await _ask_name(update, scope)
    return NAME


async def registration_timeout(update: Update, context: Context) -> None:
    drop_draft(context, DRAFT)


# /language ---------------------------------------------------------------------


@scoped
async def choose_language(update: Update, context: Context, scope: Scope) -> None:
    await reply(update, scope._("Choose your language:"), reply_markup=language_keyboard())


@scoped
async def set_language(update: Update, context: Context, scope: Scope) -> None:
    query = update.callback_query
    assert query is not None
    language = pressed_args(update, cb.LANGUAGE).code
    if language not in SUPPORTED_LANGUAGES:
        await query.answer(scope._("This button is no longer valid."), show_alert=True)
        return
    _user_data(context)[LANGUAGE_KEY] = language
    if scope.member is not None:
        scope.member.language = language
    scope.t = translator(language)
    await query.answer()
    await query.edit_message_text(
        scope._("Language: {language}").format(language=LANGUAGE_NAMES[language])
    )
    if scope.member is not None:
        await reply(
            update, scope._("The menu is now in your language."), reply_markup=main_menu(scope)
        )
        assert update.effective_user is not None
        await set_member_commands(
            context.application, update.effective_user.id, language, scope.role
        )
    else:
        await reply(update, scope._("Send /start to register."))


# /help -------------------------------------------------------------------------


@scoped
async def show_help(update: Update, context: Context, scope: Scope) -> None:
    chat = update.effective_chat
    in_group = chat is not None and chat.type != "private"
    scopes = {"cadre_group"} if in_group else {"private"}
    if scope.is_admin and not in_group:
        scopes.add("admin")
    lines = ["<b>" + scope._("Union assistant") + "</b>", ""]
    if in_group:
        lines.append(scope._("In this group the union's cadres handle members' cases."))
    elif scope.member is None:
        lines.append(scope._("Send /start to register as a union member; it takes a minute."))
    else:
        lines.append(scope._("Use the menu buttons below, or these commands:"))
    lines.append("")
    for spec in runtime_of(context).commands:
        if spec.scopes & scopes:
            lines.append(f"/{spec.name} — {escape(scope._(spec.description))}")
    if not in_group:
        retention = scope.settings.grievance_link_retention_days
        lines += ["", grievance_display.privacy_text(scope.t, retention)]
    markup = main_menu(scope) if scope.member is not None and not in_group else None
    await reply(update, "\n".join(lines), reply_markup=markup)


# Blocked / unblocked -----------------------------------------------------------


@scoped
async def private_membership_changed(update: Update, context: Context, scope: Scope) -> None:
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or change.chat.type != "private" or scope.member is None:
        return
    status = change.new_chat_member.status
    if status in ("kicked", "left"):
        await members.mark_blocked(scope.session, change.from_user.id, scope.runtime.now())
    elif scope.member.blocked_at is not None:
        await members.mark_reachable(scope.session, scope.member)


def register(application: Application) -> None:
    runtime = runtime_of(application)
    runtime.add_menu(LANGUAGE_ITEM)
    runtime.add_menu(HELP_ITEM)
    for spec in (
        CommandSpec("start", N_("Register, or show the main menu"), frozenset({"private"}), 10),
        CommandSpec("profile", N_("Your profile"), frozenset({"private"}), 20),
        CommandSpec("language", N_("Change the language"), frozenset({"private"}), 80),
        CommandSpec("help", N_("What I can do"), frozenset({"private", "cadre_group"}), 90),
        CommandSpec(
            "cancel", N_("Stop the current step"), frozenset({"private", "cadre_group"}), 91
        ),
        CommandSpec("forget", N_("Delete my personal data"), frozenset({"private"}), 95),
    ):
        runtime.add_command(spec)

    text_step = TEXT_INPUT & ~button_filter(CANCEL_LABEL)
    application.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("start", start, filters=PRIVATE)],
            states={
                CHOOSE_LANGUAGE: [
                    CallbackQueryHandler(registration_language, pattern=cb.LANGUAGE.pattern)
                ],
                NAME: [MessageHandler(text_step, registration_name)],
                DEPARTMENT: [MessageHandler(text_step, registration_department)],
                BIRTHDAY: [MessageHandler(text_step, registration_birthday)],
                CONFIRM: [MessageHandler(text_step, registration_confirm)],
                ConversationHandler.TIMEOUT: [
                    MessageHandler(filters.ALL, registration_timeout),
                ],
            },
            fallbacks=[
                *cancel_handlers(),
                CommandHandler("start", start, filters=PRIVATE),
                MessageHandler(OTHER_INPUT, ask_for_text),
            ],
            name="registration",
            persistent=True,
            conversation_timeout=CONVERSATION_TIMEOUT,
            allow_reentry=True,
        )
    )
    application.add_handler(CommandHandler("language", choose_language, filters=PRIVATE))
    application.add_handler(
        MessageHandler(button_filter(LANGUAGE_ITEM.label) & PRIVATE, choose_language)
    )
    application.add_handler(CallbackQueryHandler(set_language, pattern=cb.LANGUAGE.pattern))
    application.add_handler(CommandHandler("help", show_help))
    application.add_handler(MessageHandler(button_filter(HELP_ITEM.label) & PRIVATE, show_help))
    application.add_handler(CommandHandler("forget", forgetting.ask_forget, filters=PRIVATE))
    application.add_handler(
        CallbackQueryHandler(forgetting.forget, pattern=cb.FORGET_CONFIRM.pattern)
    )
    application.add_handler(
        CallbackQueryHandler(forgetting.keep_data, pattern=cb.FORGET_ABORT.pattern)
    )
    application.add_handler(
        ChatMemberHandler(private_membership_changed, ChatMemberHandler.MY_CHAT_MEMBER)
    )

"""Members read the handbook (职工服务手册): browse topics, read entries, search.

`/handbook` or the menu opens the contents; `/handbook 工资` searches at once.
🔍 Search asks for keywords with a ForceReply prompt ("🔍 …"): the member's
answer replies to it, so no conversation is kept and a restart loses nothing.
Text no feature took is offered the best entries first (`offer_entries`, a
free-text claim tried by `handlers.fallback`); such text is never stored as a
search (nor counted as one), since a member may have typed something private there.
Searches asked for are counted by month (`storage.handbook.record_search`). Cadres
and admins read the searches that found nothing (`/handbook_misses`, all time;
`/handbook_misses 本月` this month only); admins add synonym groups
(`/handbook_synonyms 工资 薪酬 薪水`).
"""

from __future__ import annotations

from telegram import ForceReply, Message, ReplyParameters, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from core.i18n import N_
from core.runtime import CommandSpec, MenuItem, runtime_of
from display import callbacks as cb
from display import handbook as display
from handlers.common import PRIVATE, TEXT_INPUT, explain, pressed_args, reply, show_panel
from handlers.enrolment_common import answer
from handlers.menu import button_filter
from handlers.scope import Context, Scope, cadre_only, registered
from storage import handbook
from storage.handbook import QUERY_MAX, SYNONYMS_MAX, HandbookNotFound
from storage.models import HandbookEntry
from storage.profile_rules import InvalidInput

HANDBOOK_ITEM = MenuItem("handbook", N_("📖 Handbook"), order=60)
PROMPT_MARK = "🔍"
SYNONYM_ERRORS = {
    "synonyms_few": N_("Please give at least two different words, e.g. 工资 薪酬 薪水.")
}


class _RepliesToSearchPrompt(filters.MessageFilter):
    """A reply to the bot's search prompt (or its results): a bot message starting "🔍"."""

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        if replied is None or replied.from_user is None or not replied.from_user.is_bot:
            return False
        return (replied.text or "").startswith(PROMPT_MARK)


REPLIES_TO_SEARCH = _RepliesToSearchPrompt()


async def render_topic(update: Update, scope: Scope, topic_id: int) -> None:
    topic = None if topic_id == 0 else await handbook.get_topic(scope.session, topic_id)
    topics = await handbook.topics_under(scope.session, topic.id if topic else None)
    entries = await handbook.entries_in(scope.session, topic.id) if topic else []
    await show_panel(
        update,
        display.topic_text(scope.t, topic, not topics and not entries),
        display.topic_keyboard(scope.t, topic, topics, entries, editable=scope.is_admin),
    )


async def _gone(update: Update, scope: Scope) -> None:
    await answer(update, scope._("That is no longer in the handbook. Here are the contents."), True)
    await render_topic(update, scope, 0)


@registered
async def contents(update: Update, context: Context, scope: Scope) -> None:
    """/handbook, the menu button: the contents; /handbook <words>: search them."""
    words = " ".join(context.args or [])
    if words:
        await _search(update, scope, words)
        return
    await render_topic(update, scope, 0)


@registered
async def open_topic(update: Update, context: Context, scope: Scope) -> None:
    try:
        await render_topic(update, scope, pressed_args(update, cb.HANDBOOK_TOPIC).topic)
    except HandbookNotFound:
        await _gone(update, scope)
        return
    await answer(update)


@registered
async def open_entry(update: Update, context: Context, scope: Scope) -> None:
    try:
        entry = await handbook.get_entry(
            scope.session, pressed_args(update, cb.HANDBOOK_ENTRY).entry
        )
    except HandbookNotFound:
        await _gone(update, scope)
        return
    await answer(update)
    await show_entry(update, scope, entry)


async def show_entry(update: Update, scope: Scope, entry: HandbookEntry) -> None:
    """The entry as a new message, its "see also" buttons, then its photo or document."""
    related = await handbook.related(scope.session, entry.id)
    text = display.entry_text(scope.t, entry)
    if related:
        text += "\n\n" + display.related_heading(scope.t)
    markup = display.entry_keyboard(scope.t, entry, related, editable=scope.is_admin)
    message = update.effective_message
    assert message is not None
    # A new message, not an edit: the entry stays readable beside the contents.
    await message.reply_text(text, reply_markup=markup)
    if entry.file_id and entry.file_kind == "photo":
        await message.reply_photo(entry.file_id)
    elif entry.file_id:
        await message.reply_document(entry.file_id)


@registered
async def ask_keywords(update: Update, context: Context, scope: Scope) -> None:
    await answer(update)
    await reply(
        update,
        PROMPT_MARK + " " + display.search_prompt(scope.t),
        reply_markup=ForceReply(input_field_placeholder=scope._("Keywords")),
    )


@registered
async def keywords_given(update: Update, context: Context, scope: Scope) -> None:
    message = update.effective_message
    assert message is not None
    await _search(update, scope, message.text or "")


async def _search(update: Update, scope: Scope, text: str) -> None:
    try:
        query = handbook.clean_query(text)
    except InvalidInput as error:
        await reply(update, explain(scope, error, QUERY_MAX))
        return
    hits = await handbook.search(scope.session, query)
    await handbook.record_search(
        scope.session, query, bool(hits), now=scope.runtime.now(), zone=scope.settings.tz
    )
    await reply(
        update,
        display.results_text(scope.t, query, bool(hits)),
        reply_markup=display.results_keyboard(scope.t, [hit.entry for hit in hits]),
    )


async def offer_entries(update: Update, context: Context, scope: Scope) -> bool:
    """Free text no feature took: offer up to three entries that match it, if any do."""
    message = update.effective_message
    if message is None or not message.text or message.text.startswith("/"):
        return False
    hits = await handbook.search(scope.session, message.text[: QUERY_MAX * 4])
    if not hits:
        return False
    await message.reply_text(
        display.offer_text(scope.t),
        reply_markup=display.results_keyboard(scope.t, [hit.entry for hit in hits]),
        # Quoting the message the offer answers; an injected or vanished one is not an error.
        reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True),
    )
    return True


THIS_MONTH_WORDS = frozenset({"month", "本月"})


@cadre_only
async def show_misses(update: Update, context: Context, scope: Scope) -> None:
    """/handbook_misses: every search that found nothing, all time; with "本月"/"month": this month."""
    this_month = " ".join(context.args or []).strip().lower() in THIS_MONTH_WORDS
    month = handbook.month_of(scope.runtime.now(), scope.settings.tz) if this_month else None
    await reply(
        update,
        display.misses_text(scope.t, await handbook.misses(scope.session, month), month),
    )


@cadre_only
async def show_synonyms(update: Update, context: Context, scope: Scope) -> None:
    """/handbook_synonyms: the groups; with words (admins only), add a group first."""
    words = " ".join(context.args or [])
    if words:
        if not scope.is_admin:
            await reply(
                update,
                scope._(
                    "Only admins can change the handbook. To propose a change, send it with /suggest."
                ),
            )
            return
        try:
            group = handbook.clean_synonyms(words)
        except InvalidInput as error:
            if error.code in SYNONYM_ERRORS:
                await reply(update, scope._(SYNONYM_ERRORS[error.code]))
            else:
                await reply(update, explain(scope, error, SYNONYMS_MAX))
            return
        await handbook.add_synonyms(scope.session, group)
    await reply(
        update, display.synonyms_text(scope.t, await handbook.synonym_groups(scope.session))
    )


def register(application: Application) -> None:
    runtime = runtime_of(application)
    runtime.add_menu(HANDBOOK_ITEM)
    runtime.add_command(
        CommandSpec(
            "handbook", N_("Member handbook: browse and search"), frozenset({"private"}), 60
        )
    )
    runtime.add_command(
        CommandSpec(
            "handbook_misses", N_("Handbook searches that found nothing"), frozenset({"admin"}), 101
        )
    )
    runtime.add_command(
        CommandSpec(
            "handbook_synonyms", N_("Handbook synonyms: list, add"), frozenset({"admin"}), 102
        )
    )
    runtime.add_free_text(offer_entries)
    application.add_handler(CommandHandler("handbook", contents, filters=PRIVATE))
    application.add_handler(MessageHandler(button_filter(HANDBOOK_ITEM.label) & PRIVATE, contents))
    application.add_handler(CommandHandler("handbook_misses", show_misses, filters=PRIVATE))
    application.add_handler(CommandHandler("handbook_synonyms", show_synonyms, filters=PRIVATE))
    application.add_handler(MessageHandler(TEXT_INPUT & REPLIES_TO_SEARCH, keywords_given))
    for action, callback in (
        (cb.HANDBOOK_TOPIC, open_topic),
        (cb.HANDBOOK_ENTRY, open_entry),
        (cb.HANDBOOK_SEARCH, ask_keywords),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=action.pattern))

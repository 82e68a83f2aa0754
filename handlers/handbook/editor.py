"""Admins edit the handbook from the chat: add, edit, move and delete topics and entries.

The buttons show under a topic or entry for admins only (cadres and members
read). 🔗 Related entries under an entry opens the same conversation at its
RELATED step: the other entries as a paged list of toggles, 🧹 None to clear,
the choice kept in the draft until ✅ Save (an entry never relates to itself;
one deleted meanwhile is left out and said so). Writing is one conversation (`handbook_edit`, drawn in
`handbook_edit.mmd`): the titles and texts in Chinese and English, for an entry
an optional photo or document, then a preview in both languages and ✅ Save.
Texts are kept as Telegram formats them (`text_html`) and checked with the
broadcasts' markup rules, so only tags Telegram accepts are stored. Moving and
deleting are buttons: a topic is deleted only once empty, and never moved
inside itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from html import escape
from typing import TypeVar

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core import drafts
from core.i18n import N_, translator
from display import broadcasts as markup_display
from display import callbacks as cb
from display import handbook as display
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
    show_panel,
    text_of,
)
from handlers.enrolment_common import answer
from handlers.handbook.member import render_topic, show_entry
from handlers.menu import button_filter, main_menu
from handlers.scope import Context, Scope, admin_only
from storage import handbook
from storage.broadcast_rules import MarkupError, visible_text
from storage.handbook import (
    BODY_MAX,
    RELATED_MAX,
    TITLE_MAX,
    EntryText,
    HandbookNotFound,
    HandbookRefused,
)
from storage.models import HandbookEntry, HandbookTopic
from storage.profile_rules import InvalidInput

TITLE_ZH, BODY_ZH, TITLE_EN, BODY_EN, FILE, CONFIRM, RELATED = range(7)
DRAFT = "draft_handbook"
CONVERSATION_TIMEOUT = 30 * 60


@drafts.draft("handbook-edit")
@dataclass
class HandbookDraft:
    """What the admin has written so far. ``kind`` "entry", "topic" or "related" (choosing
    an entry's "see also"); ``target`` the id edited (0: a new one); ``parent`` the entry's
    topic, or the topic's parent (0: top); ``related`` the entries chosen so far."""

    kind: str
    target: int
    parent: int
    title_zh: str = ""
    title_en: str = ""
    body_zh: str = ""
    body_en: str = ""
    file_id: str = ""
    file_kind: str = ""
    related: list[int] = field(default_factory=list)


async def _ask(update: Update, scope: Scope, step: str, current: str, limit: int = 0) -> None:
    keyboard = choice_keyboard(scope, [], skip=bool(current))
    if step == "file":
        extra = [scope._(display.NO_FILE_LABEL)] if current else []
        keyboard = choice_keyboard(scope, extra, skip=True)
    await reply(update, display.ask(scope.t, step, current, limit), reply_markup=keyboard)


def _gist(markup: str, width: int = 60) -> str:
    """The start of a stored text, as members read it (shown when editing it)."""
    try:
        shown = " ".join(visible_text(markup).split())
    except MarkupError:
        shown = markup
    return shown if len(shown) <= width else shown[:width] + "…"


async def _begin(update: Update, context: Context, scope: Scope, draft: HandbookDraft) -> int:
    await answer(update)
    keep_draft(context, DRAFT, draft)
    await _ask(update, scope, "title_zh", draft.title_zh, TITLE_MAX)
    return TITLE_ZH


@admin_only
async def new_entry(update: Update, context: Context, scope: Scope) -> int | None:
    topic = pressed_args(update, cb.HANDBOOK_NEW_ENTRY).topic
    return await _begin(update, context, scope, HandbookDraft("entry", 0, topic))


@admin_only
async def new_topic(update: Update, context: Context, scope: Scope) -> int | None:
    parent = pressed_args(update, cb.HANDBOOK_NEW_TOPIC).topic
    return await _begin(update, context, scope, HandbookDraft("topic", 0, parent))


@admin_only
async def edit_entry(update: Update, context: Context, scope: Scope) -> int | None:
    entry = await _entry_or_gone(update, scope, pressed_args(update, cb.HANDBOOK_EDIT_ENTRY).entry)
    if entry is None:
        return ConversationHandler.END
    draft = HandbookDraft(
        "entry",
        entry.id,
        entry.topic_id,
        entry.title_zh,
        entry.title_en,
        entry.body_zh,
        entry.body_en,
        entry.file_id or "",
        entry.file_kind or "",
    )
    return await _begin(update, context, scope, draft)


@admin_only
async def rename_topic(update: Update, context: Context, scope: Scope) -> int | None:
    topic = await _topic_or_gone(
        update, scope, pressed_args(update, cb.HANDBOOK_RENAME_TOPIC).topic
    )
    if topic is None:
        return ConversationHandler.END
    draft = HandbookDraft("topic", topic.id, topic.parent_id or 0, topic.title_zh, topic.title_en)
    return await _begin(update, context, scope, draft)


async def _draft(update: Update, context: Context, scope: Scope) -> HandbookDraft | None:
    draft = draft_of(context, DRAFT, HandbookDraft)
    if draft is None:
        await reply(
            update,
            scope._("Sorry, I lost what you wrote. Please start again from the handbook."),
            reply_markup=main_menu(scope),
        )
    return draft


async def _title(
    update: Update, context: Context, scope: Scope, field: str
) -> HandbookDraft | None:
    """The draft with the typed title in ``field`` (⏭ Skip keeps it), or None after saying why not."""
    draft = await _draft(update, context, scope)
    if draft is None:
        return None
    text = text_of(update)
    if is_label(text, SKIP_LABEL) and getattr(draft, field):
        return draft
    try:
        setattr(draft, field, handbook.clean_title(text))
    except InvalidInput as error:
        await reply(update, explain(scope, error, TITLE_MAX))
        return None
    keep_draft(context, DRAFT, draft)
    return draft


async def _body(update: Update, context: Context, scope: Scope, field: str) -> HandbookDraft | None:
    draft = await _draft(update, context, scope)
    if draft is None:
        return None
    message = update.effective_message
    assert message is not None
    text = text_of(update)
    if is_label(text, SKIP_LABEL) and getattr(draft, field):
        return draft
    source = message.text_html if message.text else ""
    try:
        setattr(draft, field, handbook.clean_body(source))
    except MarkupError as error:
        await reply(update, markup_display.markup_error(scope.t, error, source))
        return None
    except InvalidInput as error:
        await reply(update, explain(scope, error, BODY_MAX))
        return None
    keep_draft(context, DRAFT, draft)
    return draft


@admin_only
async def receive_title_zh(update: Update, context: Context, scope: Scope) -> int | None:
    """Stores the Chinese title; asks the Chinese text (an entry) or the English title (a topic)."""
    draft = await _title(update, context, scope, "title_zh")
    if draft is None:
        return (
            ConversationHandler.END if draft_of(context, DRAFT, HandbookDraft) is None else TITLE_ZH
        )
    if draft.kind == "topic":
        await _ask(update, scope, "title_en", draft.title_en, TITLE_MAX)
        return TITLE_EN
    await _ask(update, scope, "body_zh", _gist(draft.body_zh))
    return BODY_ZH


@admin_only
async def receive_body_zh(update: Update, context: Context, scope: Scope) -> int | None:
    """Stores the Chinese text; asks the English title."""
    draft = await _body(update, context, scope, "body_zh")
    if draft is None:
        return (
            ConversationHandler.END if draft_of(context, DRAFT, HandbookDraft) is None else BODY_ZH
        )
    await _ask(update, scope, "title_en", draft.title_en, TITLE_MAX)
    return TITLE_EN


@admin_only
async def receive_title_en(update: Update, context: Context, scope: Scope) -> int | None:
    """Stores the English title; asks the English text (an entry) or shows the preview (a topic)."""
    draft = await _title(update, context, scope, "title_en")
    if draft is None:
        return (
            ConversationHandler.END if draft_of(context, DRAFT, HandbookDraft) is None else TITLE_EN
        )
    if draft.kind == "topic":
        return await _preview(update, scope, draft)
    await _ask(update, scope, "body_en", _gist(draft.body_en))
    return BODY_EN


@admin_only
async def receive_body_en(update: Update, context: Context, scope: Scope) -> int | None:
    """Stores the English text; asks for a photo or document (optional)."""
    draft = await _body(update, context, scope, "body_en")
    if draft is None:
        return (
            ConversationHandler.END if draft_of(context, DRAFT, HandbookDraft) is None else BODY_EN
        )
    await _ask(update, scope, "file", draft.file_kind)
    return FILE


@admin_only
async def receive_file(update: Update, context: Context, scope: Scope) -> int | None:
    """Stores the photo or document sent (or none: ⏭ Skip keeps, 🗑 No file drops); previews."""
    draft = await _draft(update, context, scope)
    if draft is None:
        return ConversationHandler.END
    message = update.effective_message
    assert message is not None
    if message.photo:
        draft = replace(draft, file_id=message.photo[-1].file_id, file_kind="photo")
    elif message.document:
        draft = replace(draft, file_id=message.document.file_id, file_kind="document")
    elif is_label(text_of(update), display.NO_FILE_LABEL):
        draft = replace(draft, file_id="", file_kind="")
    elif not is_label(text_of(update), SKIP_LABEL):
        await reply(update, scope._("Please send a photo or a document, or tap ⏭ Skip."))
        return FILE
    keep_draft(context, DRAFT, draft)
    return await _preview(update, scope, draft)


def _shown(draft: HandbookDraft) -> HandbookEntry:
    """The entry as it would read (not added to the session)."""
    return HandbookEntry(
        id=draft.target,
        topic_id=draft.parent,
        title_zh=draft.title_zh,
        title_en=draft.title_en,
        body_zh=draft.body_zh,
        body_en=draft.body_en,
    )


async def _preview(update: Update, scope: Scope, draft: HandbookDraft) -> int:
    """Shows the text in both languages as members will read it; asks to save."""
    message = update.effective_message
    assert message is not None
    for language, name in (("zh_CN", "中文"), ("en", "English")):
        t = translator(language)
        heading = display.preview_heading(scope.t, name)
        if draft.kind == "topic":
            await reply(
                update,
                heading
                + "\n"
                + display.TOPIC_MARK
                + escape(draft.title_zh if language == "zh_CN" else draft.title_en),
            )
        else:
            await reply(update, heading + "\n\n" + display.entry_text(t, _shown(draft)))
    if draft.file_kind == "photo":
        await message.reply_photo(draft.file_id)
    elif draft.file_kind == "document":
        await message.reply_document(draft.file_id)
    await reply(
        update,
        display.confirm_text(scope.t),
        reply_markup=choice_keyboard(scope, [scope._(display.SAVE_LABEL)]),
    )
    return CONFIRM


@admin_only
async def confirm(update: Update, context: Context, scope: Scope) -> int | None:
    """✅ Save: writes the topic or entry; anything else asks again."""
    if not is_label(text_of(update), display.SAVE_LABEL):
        await reply(update, display.confirm_text(scope.t))
        return CONFIRM
    draft = await _draft(update, context, scope)
    if draft is None:
        return ConversationHandler.END
    try:
        if draft.kind == "topic" and draft.target:
            saved = (
                await handbook.rename_topic(
                    scope.session, draft.target, draft.title_zh, draft.title_en
                )
            ).id
        elif draft.kind == "topic":  # shown where it now appears: in its parent
            await handbook.add_topic(
                scope.session, draft.parent or None, draft.title_zh, draft.title_en
            )
            saved = draft.parent
        else:
            text = EntryText(
                draft.title_zh,
                draft.title_en,
                draft.body_zh,
                draft.body_en,
                draft.file_id or None,
                draft.file_kind or None,
            )
            entry = await handbook.save_entry(
                scope.session, text, topic_id=draft.parent, entry_id=draft.target or None
            )
            saved = entry.topic_id
    except HandbookNotFound:
        drop_draft(context, DRAFT)
        await reply(
            update,
            scope._("That is no longer in the handbook. Here are the contents."),
            reply_markup=main_menu(scope),
        )
        await render_topic(update, scope, 0)
        return ConversationHandler.END
    drop_draft(context, DRAFT)
    await reply(update, display.saved_text(scope.t), reply_markup=main_menu(scope))
    await render_topic(update, scope, saved)
    return ConversationHandler.END


# Related entries: the RELATED step ------------------------------------------------------

CLOSED_LIST = N_("This list is closed. Tap 🔗 Related entries under the entry to choose again.")


async def _related_panel(
    update: Update, scope: Scope, draft: HandbookDraft, page: int, *, new: bool = False
) -> None:
    """The list of the other entries at ``page`` (kept within the pages there are)."""
    others = [e for e in await handbook.every_entry(scope.session) if e.id != draft.target]
    pages = display.related_pages(len(others))
    page = min(max(page, 0), pages - 1)
    by_id = {e.id: e for e in others}
    chosen = [by_id[i] for i in draft.related if i in by_id]
    text = display.related_text(scope.t, chosen, page, pages)
    keyboard = display.related_keyboard(scope.t, draft.target, others, draft.related, page, pages)
    if new:
        await reply(update, text, reply_markup=keyboard)
    else:
        await show_panel(update, text, keyboard)


@admin_only
async def choose_related(update: Update, context: Context, scope: Scope) -> int | None:
    """🔗 Related entries: stores the entry's current "see also"; shows the list to toggle."""
    entry = await _entry_or_gone(update, scope, pressed_args(update, cb.HANDBOOK_RELATED).entry)
    if entry is None:
        return ConversationHandler.END
    current = [e.id for e in await handbook.related(scope.session, entry.id)]
    draft = HandbookDraft("related", entry.id, entry.topic_id, related=current)
    keep_draft(context, DRAFT, draft)
    await answer(update)
    await reply(
        update,
        display.related_prompt(scope.t, display.title(scope.t, entry)),
        reply_markup=choice_keyboard(scope, [scope._(display.SAVE_LABEL)]),
    )
    await _related_panel(update, scope, draft, 0, new=True)
    return RELATED


async def _related_draft(
    update: Update, context: Context, scope: Scope, entry_id: int
) -> HandbookDraft | None:
    """The draft the pressed list belongs to, or None after answering the press."""
    draft = draft_of(context, DRAFT, HandbookDraft)
    if draft is None or draft.kind != "related" or draft.target != entry_id:
        await answer(update, scope._(CLOSED_LIST), True)
        return None
    return draft


@admin_only
async def toggle_related(update: Update, context: Context, scope: Scope) -> int | None:
    """Adds the pressed entry to the choice, or takes it out; redraws the list's page."""
    args = pressed_args(update, cb.HANDBOOK_RELATED_TOGGLE)
    draft = await _related_draft(update, context, scope, args.entry)
    if draft is None:
        return RELATED
    if args.other in draft.related:
        draft.related = [i for i in draft.related if i != args.other]
    else:
        try:
            handbook.check_related(args.entry, [*draft.related, args.other])
            await handbook.get_entry(scope.session, args.other)
        except HandbookRefused as refused:
            await answer(update, display.refusal(scope.t, refused.reason, RELATED_MAX), True)
            return RELATED
        except HandbookNotFound:
            await answer(update, scope._("That entry is no longer in the handbook."), True)
            await _related_panel(update, scope, draft, args.page)
            return RELATED
        draft.related = [*draft.related, args.other]
    keep_draft(context, DRAFT, draft)
    await answer(update)
    await _related_panel(update, scope, draft, args.page)
    return RELATED


@admin_only
async def page_related(update: Update, context: Context, scope: Scope) -> int | None:
    """‹ ›: another page of the list; the choice unchanged."""
    args = pressed_args(update, cb.HANDBOOK_RELATED_PAGE)
    draft = await _related_draft(update, context, scope, args.entry)
    if draft is None:
        return RELATED
    await answer(update)
    await _related_panel(update, scope, draft, args.page)
    return RELATED


@admin_only
async def clear_related(update: Update, context: Context, scope: Scope) -> int | None:
    """🧹 None: nothing chosen (saved only with ✅ Save)."""
    draft = await _related_draft(
        update, context, scope, pressed_args(update, cb.HANDBOOK_RELATED_CLEAR).entry
    )
    if draft is None:
        return RELATED
    draft.related = []
    keep_draft(context, DRAFT, draft)
    await answer(update)
    await _related_panel(update, scope, draft, 0)
    return RELATED


@admin_only
async def save_related(update: Update, context: Context, scope: Scope) -> int | None:
    """✅ Save: the chosen entries become the entry's "see also"; anything else asks again."""
    if not is_label(text_of(update), display.SAVE_LABEL):
        await reply(update, scope._("Tap entries in the list above, then ✅ Save."))
        return RELATED
    draft = await _draft(update, context, scope)
    if draft is None:
        return ConversationHandler.END
    try:
        left_out = await handbook.set_related(scope.session, draft.target, draft.related)
        entry = await handbook.get_entry(scope.session, draft.target)
    except HandbookNotFound:
        drop_draft(context, DRAFT)
        await reply(
            update,
            scope._("That is no longer in the handbook. Here are the contents."),
            reply_markup=main_menu(scope),
        )
        await render_topic(update, scope, 0)
        return ConversationHandler.END
    except HandbookRefused as refused:  # a draft from before a rule changed
        await reply(update, display.refusal(scope.t, refused.reason, RELATED_MAX))
        return RELATED
    drop_draft(context, DRAFT)
    saved = len(draft.related) - len(left_out)
    await reply(
        update,
        display.related_saved(scope.t, saved, len(left_out)),
        reply_markup=main_menu(scope),
    )
    await show_entry(update, scope, entry)
    return ConversationHandler.END


@admin_only
async def closed_list(update: Update, context: Context, scope: Scope) -> None:
    """A button of a list no conversation holds (saved, cancelled, timed out, forged)."""
    await answer(update, scope._(CLOSED_LIST), True)


async def editing_timeout(update: Update, context: Context) -> None:
    drop_draft(context, DRAFT)


# Moving and deleting: buttons only -------------------------------------------------------


async def _gone(update: Update, scope: Scope) -> None:
    await answer(update, scope._("That is no longer in the handbook. Here are the contents."), True)
    await render_topic(update, scope, 0)


async def _entry_or_gone(update: Update, scope: Scope, entry_id: int) -> HandbookEntry | None:
    """The entry a button names; None, with the contents shown instead, when it is gone."""
    try:
        return await handbook.get_entry(scope.session, entry_id)
    except HandbookNotFound:
        await _gone(update, scope)
        return None


async def _topic_or_gone(update: Update, scope: Scope, topic_id: int) -> HandbookTopic | None:
    """The topic a button names; None, with the contents shown instead, when it is gone."""
    try:
        return await handbook.get_topic(scope.session, topic_id)
    except HandbookNotFound:
        await _gone(update, scope)
        return None


@admin_only
async def choose_entry_place(update: Update, context: Context, scope: Scope) -> None:
    entry = await _entry_or_gone(update, scope, pressed_args(update, cb.HANDBOOK_MOVE_ENTRY).entry)
    if entry is None:
        return
    topics = [t for t in await handbook.all_topics(scope.session) if t.id != entry.topic_id]
    await answer(update)
    await show_panel(
        update,
        display.move_text(scope.t, display.title(scope.t, entry)),
        display.move_keyboard(
            scope.t,
            topics,
            lambda topic: cb.HANDBOOK_MOVE_ENTRY_TO.pack(entry.id, topic),
            top=False,
        ),
    )


Changed = TypeVar("Changed", HandbookEntry, HandbookTopic)


async def _changed(
    update: Update,
    scope: Scope,
    change: Awaitable[Changed],
    toast: str,
    shown_after: Callable[[Changed], int],
) -> None:
    """A move or a deletion from its button: the toast and the topic it leaves, or why not."""
    try:
        done = await change
    except HandbookNotFound:
        await _gone(update, scope)
        return
    except HandbookRefused as refused:
        await answer(update, display.refusal(scope.t, refused.reason), True)
        return
    await answer(update, toast)
    await render_topic(update, scope, shown_after(done))


@admin_only
async def move_entry(update: Update, context: Context, scope: Scope) -> None:
    args = pressed_args(update, cb.HANDBOOK_MOVE_ENTRY_TO)
    moved = handbook.move_entry(scope.session, args.entry, args.topic)
    await _changed(update, scope, moved, scope._("Moved."), lambda entry: entry.topic_id)


@admin_only
async def choose_topic_place(update: Update, context: Context, scope: Scope) -> None:
    topic = await _topic_or_gone(update, scope, pressed_args(update, cb.HANDBOOK_MOVE_TOPIC).topic)
    if topic is None:
        return
    # Every topic is offered but itself; one inside it is refused when pressed (the rule is storage's).
    topics = [
        t
        for t in await handbook.all_topics(scope.session)
        if t.id not in (topic.id, topic.parent_id)
    ]
    await answer(update)
    await show_panel(
        update,
        display.move_text(scope.t, display.title(scope.t, topic)),
        display.move_keyboard(
            scope.t,
            topics,
            lambda parent: cb.HANDBOOK_MOVE_TOPIC_TO.pack(topic.id, parent),
            top=topic.parent_id is not None,
        ),
    )


@admin_only
async def move_topic(update: Update, context: Context, scope: Scope) -> None:
    args = pressed_args(update, cb.HANDBOOK_MOVE_TOPIC_TO)
    moved = handbook.move_topic(scope.session, args.topic, args.parent or None)
    await _changed(update, scope, moved, scope._("Moved."), lambda topic: topic.id)


@admin_only
async def ask_delete_entry(update: Update, context: Context, scope: Scope) -> None:
    entry = await _entry_or_gone(
        update, scope, pressed_args(update, cb.HANDBOOK_DELETE_ENTRY).entry
    )
    if entry is None:
        return
    await answer(update)
    await show_panel(
        update,
        display.delete_text(scope.t, display.title(scope.t, entry)),
        display.delete_keyboard(
            scope.t,
            cb.HANDBOOK_DELETE_ENTRY_OK.pack(entry.id),
            cb.HANDBOOK_TOPIC.pack(entry.topic_id),
        ),
    )


@admin_only
async def delete_entry(update: Update, context: Context, scope: Scope) -> None:
    entry_id = pressed_args(update, cb.HANDBOOK_DELETE_ENTRY_OK).entry
    deleted = handbook.delete_entry(scope.session, entry_id)
    await _changed(update, scope, deleted, scope._("Deleted."), lambda entry: entry.topic_id)


@admin_only
async def ask_delete_topic(update: Update, context: Context, scope: Scope) -> None:
    topic = await _topic_or_gone(
        update, scope, pressed_args(update, cb.HANDBOOK_DELETE_TOPIC).topic
    )
    if topic is None:
        return
    await answer(update)
    await show_panel(
        update,
        display.delete_text(scope.t, display.title(scope.t, topic)),
        display.delete_keyboard(
            scope.t, cb.HANDBOOK_DELETE_TOPIC_OK.pack(topic.id), cb.HANDBOOK_TOPIC.pack(topic.id)
        ),
    )


@admin_only
async def delete_topic(update: Update, context: Context, scope: Scope) -> None:
    topic_id = pressed_args(update, cb.HANDBOOK_DELETE_TOPIC_OK).topic
    deleted = handbook.delete_topic(scope.session, topic_id)
    await _changed(update, scope, deleted, scope._("Deleted."), lambda t: t.parent_id or 0)


def register(application: Application) -> None:
    cancel = button_filter(CANCEL_LABEL)
    text_step = TEXT_INPUT & ~cancel
    file_step = (
        PRIVATE
        & filters.UpdateType.MESSAGE
        & (filters.PHOTO | filters.Document.ALL | filters.TEXT)
        & ~filters.COMMAND
        & ~cancel
    )
    application.add_handler(
        ConversationHandler(
            entry_points=[
                CallbackQueryHandler(new_entry, pattern=cb.HANDBOOK_NEW_ENTRY.pattern),
                CallbackQueryHandler(new_topic, pattern=cb.HANDBOOK_NEW_TOPIC.pattern),
                CallbackQueryHandler(edit_entry, pattern=cb.HANDBOOK_EDIT_ENTRY.pattern),
                CallbackQueryHandler(rename_topic, pattern=cb.HANDBOOK_RENAME_TOPIC.pattern),
                CallbackQueryHandler(choose_related, pattern=cb.HANDBOOK_RELATED.pattern),
            ],
            states={
                TITLE_ZH: [MessageHandler(text_step, receive_title_zh)],
                BODY_ZH: [MessageHandler(text_step, receive_body_zh)],
                TITLE_EN: [MessageHandler(text_step, receive_title_en)],
                BODY_EN: [MessageHandler(text_step, receive_body_en)],
                FILE: [MessageHandler(file_step, receive_file)],
                CONFIRM: [MessageHandler(text_step, confirm)],
                RELATED: [
                    CallbackQueryHandler(
                        toggle_related, pattern=cb.HANDBOOK_RELATED_TOGGLE.pattern
                    ),
                    CallbackQueryHandler(page_related, pattern=cb.HANDBOOK_RELATED_PAGE.pattern),
                    CallbackQueryHandler(clear_related, pattern=cb.HANDBOOK_RELATED_CLEAR.pattern),
                    MessageHandler(text_step, save_related),
                ],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, editing_timeout)],
            },
            fallbacks=[*cancel_handlers(), MessageHandler(OTHER_INPUT, ask_for_text)],
            name="handbook_edit",
            persistent=True,
            conversation_timeout=CONVERSATION_TIMEOUT,
            allow_reentry=True,
        )
    )
    for action, callback in (
        (cb.HANDBOOK_MOVE_ENTRY, choose_entry_place),
        (cb.HANDBOOK_MOVE_ENTRY_TO, move_entry),
        (cb.HANDBOOK_MOVE_TOPIC, choose_topic_place),
        (cb.HANDBOOK_MOVE_TOPIC_TO, move_topic),
        (cb.HANDBOOK_DELETE_ENTRY, ask_delete_entry),
        (cb.HANDBOOK_DELETE_ENTRY_OK, delete_entry),
        (cb.HANDBOOK_DELETE_TOPIC, ask_delete_topic),
        (cb.HANDBOOK_DELETE_TOPIC_OK, delete_topic),
        (cb.HANDBOOK_RELATED_TOGGLE, closed_list),
        (cb.HANDBOOK_RELATED_PAGE, closed_list),
        (cb.HANDBOOK_RELATED_CLEAR, closed_list),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=action.pattern))

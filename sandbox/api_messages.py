"""Bot API methods that post, change or remove messages, and answer button presses."""

from __future__ import annotations

from typing import Any

from sandbox import schema
from sandbox.actions import MAX_CAPTION, MAX_TEXT
from sandbox.context import ApiContext, Handler
from sandbox.errors import bad_request
from sandbox.keyboards import parse_markup
from sandbox.state import ChatAction, ChatRecord, MessageRecord

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
CALLBACK_INVALID = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
DELETE_WINDOW = 48 * 3600
MAX_CALLBACK_ANSWER = 200


def deliver_new_message(
    ctx: ApiContext, chat: ChatRecord, record: MessageRecord, reply_markup: Any
) -> dict[str, Any]:
    """Finish any sending method: markup, reply, flood limit, store, answer with the Message.

    ``reply_markup`` is the decoded JSON value. Everything else was validated before,
    so the flood limit is the last thing that can stop the message, and a refused
    message consumes nothing.
    """
    markup = parse_markup(reply_markup)
    record.reply_to = ctx.reply_target(chat)
    record.inline_keyboard = markup.inline
    record.protect_content = ctx.params.get_bool("protect_content")
    ctx.limiter.check(ctx.bot.id, chat.id)
    ctx.actions.post(ctx.bot, chat, record)
    if markup.reply is not None:
        ctx.actions.set_reply_markup(chat, markup.reply, record.message_id, record.reply_to)
    return schema.message(ctx.world, chat, record)


async def send_message(ctx: ApiContext) -> dict[str, Any]:
    chat = ctx.target_chat()
    text, entities = ctx.formatted(
        "text",
        "entities",
        limit=MAX_TEXT,
        too_long="message is too long",
        empty="message text is empty",
    )
    record = MessageRecord(0, chat.id, ctx.bot.id, 0, text=text, entities=entities)
    preview = ctx.params.get_json("link_preview_options")
    if isinstance(preview, dict) and preview:
        record.link_preview_options = preview
    return deliver_new_message(ctx, chat, record, ctx.params.get_json("reply_markup"))


def _inline_only(ctx: ApiContext) -> list[list[dict[str, Any]]] | None:
    markup = parse_markup(ctx.params.get_json("reply_markup"))
    if markup.reply is not None:
        raise bad_request("only inline keyboards can be set when editing a message")
    return markup.inline


def _finish_edit(ctx: ApiContext, chat: ChatRecord, record: MessageRecord) -> dict[str, Any]:
    ctx.limiter.check(ctx.bot.id, chat.id, count_global=False)
    ctx.actions.mark_edited(chat, record)
    return schema.message(ctx.world, chat, record)


async def edit_message_text(ctx: ApiContext) -> dict[str, Any]:
    chat = ctx.chat()
    record = ctx.own_message(chat, "message to edit not found")
    if record.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities = ctx.formatted(
        "text",
        "entities",
        limit=MAX_TEXT,
        too_long="MESSAGE_TOO_LONG",
        empty="message text is empty",
    )
    inline = _inline_only(ctx)
    if (text, entities, inline) == (record.text, record.entities, record.inline_keyboard):
        raise bad_request(NOT_MODIFIED)
    record.text, record.entities, record.inline_keyboard = text, entities, inline
    return _finish_edit(ctx, chat, record)


async def edit_message_caption(ctx: ApiContext) -> dict[str, Any]:
    chat = ctx.chat()
    record = ctx.own_message(chat, "message to edit not found")
    if record.file_id is None:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = ctx.formatted(
        "caption",
        "caption_entities",
        limit=MAX_CAPTION,
        too_long="message caption is too long",
        empty=None,
    )
    inline = _inline_only(ctx)
    current = (record.caption or "", record.caption_entities, record.inline_keyboard)
    if (caption, entities, inline) == current:
        raise bad_request(NOT_MODIFIED)
    record.caption, record.caption_entities = caption or None, entities
    record.inline_keyboard = inline
    return _finish_edit(ctx, chat, record)


async def edit_message_reply_markup(ctx: ApiContext) -> dict[str, Any]:
    chat = ctx.chat()
    record = ctx.own_message(chat, "message to edit not found")
    inline = _inline_only(ctx)
    if inline == record.inline_keyboard:
        raise bad_request(NOT_MODIFIED)
    record.inline_keyboard = inline
    return _finish_edit(ctx, chat, record)


async def delete_message(ctx: ApiContext) -> bool:
    chat = ctx.chat()
    message_id = ctx.params.require_int("message_id")
    record = chat.live_message(message_id)
    if record is None:
        raise bad_request("message to delete not found")
    member = chat.member(ctx.bot.id)
    moderator = member is not None and member.can("can_delete_messages")
    if not moderator:
        mine_or_private = record.sender_id == ctx.bot.id or chat.is_private
        recent = ctx.world.now() - record.date <= DELETE_WINDOW
        if not (mine_or_private and recent):
            raise bad_request("message can't be deleted")
    ctx.actions.mark_deleted(chat, record)
    return True


def _source_message(ctx: ApiContext, missing: str, refused: str) -> MessageRecord:
    source_chat = ctx.chat("from_chat_id")
    message_id = ctx.params.require_int("message_id")
    record = source_chat.live_message(message_id)
    if record is None:
        raise bad_request(missing)
    if record.service is not None or record.protect_content:
        raise bad_request(refused)
    return record


async def copy_message(ctx: ApiContext) -> dict[str, int]:
    source = _source_message(ctx, "message to copy not found", "message can't be copied")
    chat = ctx.target_chat()
    record = MessageRecord(0, chat.id, ctx.bot.id, 0)
    if source.file_id is None:
        record.text, record.entities = source.text, list(source.entities)
    else:
        record.file_id = source.file_id
        if "caption" in ctx.params.values:
            caption, entities = ctx.formatted(
                "caption",
                "caption_entities",
                limit=MAX_CAPTION,
                too_long="message caption is too long",
                empty=None,
            )
            record.caption, record.caption_entities = caption or None, entities
        else:
            record.caption, record.caption_entities = source.caption, list(source.caption_entities)
    sent = deliver_new_message(ctx, chat, record, ctx.params.get_json("reply_markup"))
    return {"message_id": sent["message_id"]}


async def forward_message(ctx: ApiContext) -> dict[str, Any]:
    source = _source_message(ctx, "message to forward not found", "message can't be forwarded")
    chat = ctx.target_chat()
    origin = source.forward_origin or {
        "type": "user",
        "date": source.date,
        "sender_user": schema.user(ctx.world.users[source.sender_id]),
    }
    record = MessageRecord(
        0,
        chat.id,
        ctx.bot.id,
        0,
        text=source.text,
        entities=list(source.entities),
        caption=source.caption,
        caption_entities=list(source.caption_entities),
        file_id=source.file_id,
        forward_origin=origin,
    )
    record.protect_content = ctx.params.get_bool("protect_content")
    ctx.limiter.check(ctx.bot.id, chat.id)
    ctx.actions.post(ctx.bot, chat, record)
    return schema.message(ctx.world, chat, record)


async def answer_callback_query(ctx: ApiContext) -> bool:
    query_id = ctx.params.get_str("callback_query_id", required=True) or ""
    query = ctx.world.callbacks.get(query_id)
    if query is None or query.bot_id != ctx.bot.id or query.answered:
        raise bad_request(CALLBACK_INVALID)
    text = ctx.params.get_str("text")
    if text is not None and len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answered = True
    query.text = text or None
    query.show_alert = ctx.params.get_bool("show_alert")
    query.url = ctx.params.get_str("url")
    query.answered_at = ctx.world.clock()
    ctx.world.events.emit(
        "callback_answer",
        query.chat_id,
        bot_id=ctx.bot.id,
        query_id=query.id,
        user_id=query.user_id,
        message_id=query.message_id,
        data=query.data,
        text=query.text,
        show_alert=query.show_alert,
        url=query.url,
    )
    return True


async def send_chat_action(ctx: ApiContext) -> bool:
    chat = ctx.target_chat()
    action = ctx.params.get_str("action") or ""
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat.actions.append(ChatAction(action, ctx.bot.id, ctx.world.clock()))
    ctx.world.events.emit("action", chat.id, bot_id=ctx.bot.id, action=action)
    return True


METHODS: dict[str, Handler] = {
    "sendMessage": send_message,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "copyMessage": copy_message,
    "forwardMessage": forward_message,
    "answerCallbackQuery": answer_callback_query,
    "sendChatAction": send_chat_action,
}

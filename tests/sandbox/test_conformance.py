"""Every Bot API method the bot uses, called by a real ``telegram.Bot`` against the sandbox.

PTB parses each answer into its own classes, so a field missing or mistyped in the
sandbox's JSON fails here.
"""

from __future__ import annotations

import datetime as dtm
import json
from collections.abc import Awaitable, Callable

import aiohttp
import pytest
import telegram
from sandbox_samples import BOT_ID, TOKEN, fails, make_bot, make_jpeg_header, make_ogg
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeChatMember,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken
from telegram.request import HTTPXRequest

from sandbox import SandboxDriver, SandboxOptions, SandboxServer
from sandbox.driver import Group, SandboxUser
from tests.support.media import make_png

pytestmark = pytest.mark.asyncio

CONFIRM = InlineKeyboardMarkup([[InlineKeyboardButton("Confirm", callback_data="confirm:1")]])


async def started_user(driver: SandboxDriver, name: str = "Alice") -> SandboxUser:
    user = await driver.create_user(name, username=name.lower(), language_code="en")
    await user.send("/start")
    return user


async def test_get_me(bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.id == BOT_ID
    assert me.is_bot
    assert me.username == "UnionSandboxBot"
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False
    assert me.supports_inline_queries is False


async def test_send_message_full_object(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await started_user(driver)
    first = await bot.send_message(alice.id, "<b>工会</b> 😀 <i>hi</i>", parse_mode=ParseMode.HTML)
    assert first.text == "工会 😀 hi"
    assert first.entities == (
        MessageEntity(MessageEntity.BOLD, 0, 2),
        MessageEntity(MessageEntity.ITALIC, 6, 2),
    )
    assert first.from_user is not None and first.from_user.id == BOT_ID
    assert first.chat.id == alice.id and first.chat.type == "private"
    assert isinstance(first.date, dtm.datetime)
    assert first.reply_markup is None

    reply = await bot.send_message(
        alice.id,
        "Confirm?",
        reply_markup=CONFIRM,
        reply_parameters=ReplyParameters(message_id=1),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        protect_content=True,
        disable_notification=True,
        message_thread_id=7,
    )
    assert reply.message_id == first.message_id + 1
    assert reply.reply_markup == CONFIRM
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "/start"
    assert reply.has_protected_content
    assert reply.link_preview_options == LinkPreviewOptions(is_disabled=True)

    old_style = await bot.send_message(alice.id, "again", reply_to_message_id=first.message_id)
    assert old_style.reply_to_message is not None
    assert old_style.reply_to_message.message_id == first.message_id

    explicit = await bot.send_message(
        alice.id, "see /help", entities=[MessageEntity(MessageEntity.UNDERLINE, 0, 3)]
    )
    assert explicit.entities == (
        MessageEntity(MessageEntity.UNDERLINE, 0, 3),
        MessageEntity(MessageEntity.BOT_COMMAND, 4, 5),
    )
    trimmed = await bot.send_message(alice.id, "\n  <b> hi</b>  \n", parse_mode="HTML")
    assert trimmed.text == "hi"
    assert trimmed.entities == (MessageEntity(MessageEntity.BOLD, 0, 2),)


async def test_reply_keyboards_are_tracked(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await started_user(driver)
    keyboard = ReplyKeyboardMarkup(
        [["活动", "诉求"], [KeyboardButton("Help")]],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder="Pick",
    )
    sent = await bot.send_message(alice.id, "Menu", reply_markup=keyboard)
    assert sent.reply_markup is None  # only inline keyboards appear on messages
    assert await alice.reply_keyboard() == [["活动", "诉求"], ["Help"]]
    state = await alice.keyboard_state()
    assert state is not None
    assert state["resize_keyboard"] and state["one_time_keyboard"]
    assert state["input_field_placeholder"] == "Pick"
    await alice.send("活动")
    collapsed = await alice.keyboard_state()
    assert collapsed is not None and collapsed["collapsed"]
    await bot.send_message(alice.id, "Bye", reply_markup=ReplyKeyboardRemove())
    assert await alice.reply_keyboard() is None
    await bot.send_message(alice.id, "Name?", reply_markup=ForceReply())
    forced = await alice.keyboard_state()
    assert forced is not None and forced["kind"] == "force_reply"


async def test_selective_force_reply_targets_the_mentioned_and_the_replied(
    bot: telegram.Bot, driver: SandboxDriver
) -> None:
    """As Telegram's clients apply it: a selective ForceReply reaches only those it names."""
    alice = await started_user(driver)
    bob = await driver.create_user("Bob", username="bobby_b")
    carol = await driver.create_user("Carol")
    group = await make_group(driver, alice, bob, carol)

    link = f'<a href="tg://user?id={bob.id}">Bob</a>, please answer.'
    prompt = await bot.send_message(
        group.id, link, parse_mode=ParseMode.HTML, reply_markup=ForceReply(selective=True)
    )
    (mention,) = prompt.entities
    assert mention.type == MessageEntity.TEXT_MENTION and mention.user is not None
    assert mention.user.id == bob.id and mention.user.first_name == "Bob"
    forced = await bob.keyboard_state(group)
    assert forced is not None and forced["kind"] == "force_reply"
    assert forced["message_id"] == prompt.message_id
    assert await carol.keyboard_state(group) is None
    assert await alice.keyboard_state(group) is None

    # The client opens the reply: Bob's next message answers the prompt, Carol's does not.
    answer = await bob.send("Done", group)
    assert answer.message.reply_to == prompt.message_id
    assert await bob.keyboard_state(group) is None
    chatter = await carol.send("Hello all", group)
    assert chatter.message.reply_to is None

    # An @username and the author of the replied message are targets too.
    by_name = await bot.send_message(
        group.id,
        "@bobby_b and you?",
        reply_markup=ForceReply(selective=True),
        reply_parameters=ReplyParameters(chatter.message_id),
    )
    for person in (bob, carol):
        state = await person.keyboard_state(group)
        assert state is not None and state["message_id"] == by_name.message_id
    assert await alice.keyboard_state(group) is None

    # Selective with nobody named reaches nobody; not selective reaches everyone.
    await bot.send_message(group.id, "Anyone?", reply_markup=ForceReply(selective=True))
    assert await alice.keyboard_state(group) is None
    everyone = await bot.send_message(group.id, "Everyone", reply_markup=ForceReply())
    state = await alice.keyboard_state(group)
    assert state is not None and state["message_id"] == everyone.message_id

    # A link to someone unknown stays a link.
    unknown = await bot.send_message(
        group.id, '<a href="tg://user?id=999999">Nobody</a>', parse_mode=ParseMode.HTML
    )
    assert unknown.entities[0].type == MessageEntity.TEXT_LINK


async def test_edits_and_not_modified(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await started_user(driver)
    sent = await bot.send_message(alice.id, "Confirm?", reply_markup=CONFIRM)
    edited = await bot.edit_message_text(
        "<b>Confirmed</b>", alice.id, sent.message_id, parse_mode="HTML", reply_markup=CONFIRM
    )
    assert isinstance(edited, telegram.Message)
    assert edited.text == "Confirmed" and edited.edit_date is not None
    with fails(BadRequest, "message is not modified"):
        await bot.edit_message_text(
            "<b>Confirmed</b>", alice.id, sent.message_id, parse_mode="HTML", reply_markup=CONFIRM
        )
    no_buttons = await bot.edit_message_reply_markup(alice.id, sent.message_id)
    assert isinstance(no_buttons, telegram.Message) and no_buttons.reply_markup is None
    with fails(BadRequest, "message is not modified"):
        await bot.edit_message_reply_markup(alice.id, sent.message_id)
    with fails(BadRequest, "message to edit not found"):
        await bot.edit_message_text("x", alice.id, 999)
    with fails(BadRequest, "there is no caption in the message to edit"):
        await bot.edit_message_caption(alice.id, sent.message_id, caption="c")
    with fails(BadRequest, "message can't be edited"):
        await bot.edit_message_text("x", alice.id, 1)  # Alice's own /start

    photo = await bot.send_photo(alice.id, make_png(4, 3), caption="old")
    recaptioned = await bot.edit_message_caption(
        alice.id, photo.message_id, caption="<i>new</i>", parse_mode="HTML"
    )
    assert isinstance(recaptioned, telegram.Message)
    assert recaptioned.caption == "new"
    assert recaptioned.caption_entities == (MessageEntity(MessageEntity.ITALIC, 0, 3),)
    view = (await alice.bot_messages())[-1]
    assert view.edited and view.caption == "new"


async def test_delete_copy_forward(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await started_user(driver)
    bob = await started_user(driver, "Bob")
    note = await alice.send("a note with #tag")
    copied = await bot.copy_message(bob.id, alice.id, note.message_id)
    assert isinstance(copied, telegram.MessageId)
    bob_view = (await bob.bot_messages())[-1]
    assert bob_view.message_id == copied.message_id
    assert bob_view.text == "a note with #tag" and not bob_view.forwarded

    forwarded = await bot.forward_message(bob.id, alice.id, note.message_id)
    assert forwarded.forward_origin is not None
    assert isinstance(forwarded.forward_origin, telegram.MessageOriginUser)
    assert forwarded.forward_origin.sender_user.id == alice.id
    assert [c.method for c in await driver.calls("forwardMessage")] == ["forwardMessage"]

    photo = await alice.send_photo(make_png(8, 8), caption="orig")
    copy_id = await bot.copy_message(bob.id, alice.id, photo.message_id, caption="mine")
    copy_view = (await bob.bot_messages())[-1]
    assert copy_view.message_id == copy_id.message_id
    assert copy_view.caption == "mine" and copy_view.media is not None
    assert copy_view.media.file_id == photo.message.media.file_id  # type: ignore[union-attr]

    assert await bot.delete_message(bob.id, copied.message_id) is True
    assert copied.message_id not in [m.message_id for m in await bob.bot_messages()]
    with fails(BadRequest, "message to delete not found"):
        await bot.delete_message(bob.id, copied.message_id)
    with fails(BadRequest, "message to copy not found"):
        await bot.copy_message(bob.id, alice.id, 999)


async def test_files_upload_reuse_download(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await started_user(driver)
    png = make_png(40, 30)
    photo = await bot.send_photo(alice.id, png, caption="<b>pic</b>", parse_mode="HTML")
    assert photo.caption == "pic"
    assert len(photo.photo) == 1
    size = photo.photo[-1]
    assert (size.width, size.height, size.file_size) == (40, 30, len(png))
    assert len(size.file_id) > 40

    again = await bot.send_photo(alice.id, size.file_id)
    assert again.photo[-1].file_unique_id == size.file_unique_id

    logged = (await driver.calls("sendPhoto"))[0].params["photo"]
    assert logged["size"] == len(png) and "upload" in logged  # contents are never logged
    file = await bot.get_file(size.file_id)
    assert file.file_path is not None and file.file_size == len(png)
    assert bytes(await file.download_as_bytearray()) == png

    doc = await bot.send_document(alice.id, b"%PDF-1.4 test", filename="report.pdf")
    assert doc.document is not None
    assert doc.document.file_name == "report.pdf"
    assert doc.document.mime_type == "application/pdf"
    doc_file = await bot.get_file(doc.document.file_id)
    assert bytes(await doc_file.download_as_bytearray()) == b"%PDF-1.4 test"

    voice = await bot.send_voice(alice.id, make_ogg(3.2), caption="listen")
    assert voice.voice is not None
    voice_view = (await alice.bot_messages())[-1].media
    assert voice_view is not None and voice_view.duration == 3
    assert voice.voice.mime_type == "audio/ogg"

    jpeg = make_jpeg_header(640, 480)
    jpeg_photo = await bot.send_photo(alice.id, jpeg)
    assert (jpeg_photo.photo[-1].width, jpeg_photo.photo[-1].height) == (640, 480)

    with fails(BadRequest, "IMAGE_PROCESS_FAILED"):
        await bot.send_photo(alice.id, b"not an image")
    with fails(BadRequest, "wrong file identifier"):
        await bot.send_photo(alice.id, "no-such-file-id")
    with fails(BadRequest, "can't use file of type Document as Photo"):
        await bot.send_photo(alice.id, doc.document.file_id)
    with fails(BadRequest, "message caption is too long"):
        await bot.send_document(alice.id, b"x", filename="x.txt", caption="c" * 1025)

    views = await alice.bot_messages()
    assert views[0].media is not None and views[0].media.kind == "photo"
    assert await driver.download(views[0].media.url) == png


async def test_callback_answers(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await started_user(driver)
    await bot.send_message(alice.id, "Confirm?", reply_markup=CONFIRM)
    press = await alice.press("Confirm")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None
    assert query.id == press.callback_query_id
    assert query.data == "confirm:1"
    assert query.from_user.id == alice.id
    assert query.chat_instance
    assert isinstance(query.message, telegram.Message)
    assert query.message.reply_markup == CONFIRM
    assert await bot.answer_callback_query(query.id, text="Done", show_alert=True)
    with fails(BadRequest, "query is too old"):
        await bot.answer_callback_query(query.id, text="twice")
    with fails(BadRequest, "query is too old"):
        await bot.answer_callback_query("12345")
    answers = await alice.callback_answers()
    assert [(a.text, a.show_alert, a.data) for a in answers] == [("Done", True, "confirm:1")]


async def test_chat_action(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await started_user(driver)
    assert await bot.send_chat_action(alice.id, "typing")
    assert await alice.chat_actions() == ["typing"]
    with fails(BadRequest, "wrong parameter action"):
        await bot.send_chat_action(alice.id, "dancing")


async def make_group(driver: SandboxDriver, *people: SandboxUser) -> Group:
    creator, *rest = people
    return await driver.create_group(
        "Cadres", members=rest, creator=creator, chat_id=-1001234567890
    )


async def test_chats_and_members(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await started_user(driver)
    bob = await driver.create_user("Bob", username="bob")
    carol = await driver.create_user("Carol")
    group = await make_group(driver, alice, bob)
    await driver.set_member_status(group, bob, "administrator")

    private = await bot.get_chat(alice.id)
    assert isinstance(private, telegram.ChatFullInfo)
    assert private.type == "private" and private.first_name == "Alice"
    info = await bot.get_chat(group.id)
    assert info.type == "supergroup" and info.title == "Cadres"

    owner = await bot.get_chat_member(group.id, alice.id)
    assert isinstance(owner, telegram.ChatMemberOwner)
    admin = await bot.get_chat_member(group.id, bob.id)
    assert isinstance(admin, telegram.ChatMemberAdministrator)
    assert admin.can_invite_users
    me = await bot.get_chat_member(group.id, BOT_ID)
    assert isinstance(me, telegram.ChatMemberAdministrator)
    stranger = await bot.get_chat_member(group.id, carol.id)
    assert isinstance(stranger, telegram.ChatMemberLeft)
    in_private = await bot.get_chat_member(alice.id, alice.id)
    assert in_private.status == ChatMemberStatus.MEMBER

    admins = await bot.get_chat_administrators(group.id)
    assert {m.user.id for m in admins} == {alice.id, bob.id, BOT_ID}
    assert await bot.get_chat_member_count(group.id) == 3

    link = await bot.create_chat_invite_link(
        group.id,
        name="cadres",
        member_limit=1,
        expire_date=dtm.datetime.now(dtm.UTC) + dtm.timedelta(hours=1),
    )
    assert isinstance(link, telegram.ChatInviteLink)
    assert link.invite_link.startswith("https://t.me/+")
    assert link.name == "cadres" and link.member_limit == 1 and link.expire_date is not None
    assert link.creator.id == BOT_ID

    joined = await carol.join(link.invite_link)
    assert joined.id == group.id
    assert isinstance(await bot.get_chat_member(group.id, carol.id), telegram.ChatMemberMember)
    dave = await driver.create_user("Dave")
    with fails(Exception, "USERS_TOO_MUCH"):
        await dave.join(link.invite_link)

    assert await bot.ban_chat_member(group.id, carol.id)
    banned = await bot.get_chat_member(group.id, carol.id)
    assert isinstance(banned, telegram.ChatMemberBanned)
    with fails(BadRequest, "can't remove chat owner"):
        await bot.ban_chat_member(group.id, alice.id)
    assert await bot.unban_chat_member(group.id, carol.id, only_if_banned=True)
    assert isinstance(await bot.get_chat_member(group.id, carol.id), telegram.ChatMemberLeft)

    updates = await bot.get_updates()
    kinds = [u.message.new_chat_members or u.message.left_chat_member for u in updates if u.message]
    assert kinds, "joins and removals produce service messages"
    my = [u.my_chat_member for u in updates if u.my_chat_member]
    assert my and my[0].new_chat_member.status == ChatMemberStatus.ADMINISTRATOR

    assert await bot.leave_chat(group.id)
    with fails(Forbidden, "bot is not a member of the supergroup chat"):
        await bot.send_message(group.id, "still here?")


async def test_pins(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await started_user(driver)
    sent = await bot.send_message(alice.id, "Pinned rules")
    assert await bot.pin_chat_message(alice.id, sent.message_id, disable_notification=True)
    chat = await bot.get_chat(alice.id)
    assert chat.pinned_message is not None and chat.pinned_message.message_id == sent.message_id
    assert await bot.unpin_chat_message(alice.id, sent.message_id)
    assert (await bot.get_chat(alice.id)).pinned_message is None
    with fails(BadRequest, "message to unpin not found"):
        await bot.unpin_chat_message(alice.id, sent.message_id)
    # The pin service message is in the chat but not among the bot's content messages.
    assert [m.text for m in await alice.bot_messages()] == ["Pinned rules"]


async def test_commands_per_scope_and_language(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await started_user(driver)
    bob = await driver.create_user("Bob", language_code="zh-hans")
    group = await make_group(driver, alice, bob)
    await bot.set_my_commands([BotCommand("start", "开始")])
    await bot.set_my_commands(
        [BotCommand("start", "Start"), BotCommand("help", "Help")], language_code="en"
    )
    await bot.set_my_commands(
        [BotCommand("cases", "Open cases")], scope=BotCommandScopeChat(group.id)
    )
    await bot.set_my_commands(
        [BotCommand("admin", "Admin")], scope=BotCommandScopeChatMember(group.id, bob.id)
    )
    await bot.set_my_commands([BotCommand("menu", "Menu")], scope=BotCommandScopeAllPrivateChats())

    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert [c.command for c in await bot.get_my_commands(language_code="en")] == ["start", "help"]
    scoped = await bot.get_my_commands(scope=BotCommandScopeChat(group.id))
    assert [c.command for c in scoped] == ["cases"]

    assert await alice.commands() == [("menu", "Menu")]
    assert await alice.commands(chat=group) == [("cases", "Open cases")]
    assert await bob.commands(chat=group) == [("admin", "Admin")]
    assert len(await driver.commands()) == 5

    assert await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert await alice.commands() == [("start", "Start"), ("help", "Help")]
    with fails(BadRequest, "BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad Command", "x")])
    with fails(BadRequest, "chat not found"):
        await bot.set_my_commands([BotCommand("x", "x")], scope=BotCommandScopeChat(-100999))


async def test_webhook_info_roundtrip(bot: telegram.Bot) -> None:
    info = await bot.get_webhook_info()
    assert isinstance(info, telegram.WebhookInfo)
    assert info.url == "" and info.pending_update_count == 0
    assert await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "http://127.0.0.1:9/hook"
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


async def test_validation_errors(bot: telegram.Bot, driver: SandboxDriver) -> None:
    alice = await started_user(driver)
    stranger = await driver.create_user("Stranger")
    outsider_group = await driver.create_group("Elsewhere", members=[alice])
    await driver.remove_member(outsider_group, BOT_ID, ban=True)
    cases: list[tuple[Callable[[], Awaitable[object]], type[Exception], str]] = [
        (lambda: bot.send_message(-100424242, "x"), BadRequest, "chat not found"),
        (lambda: bot.send_message(999999999, "x"), BadRequest, "chat not found"),
        (lambda: bot.send_message(alice.id, "   "), BadRequest, "message text is empty"),
        (lambda: bot.send_message(alice.id, "x" * 4097), BadRequest, "message is too long"),
        (
            lambda: bot.send_message(alice.id, "<b>x", parse_mode="HTML"),
            BadRequest,
            "can't parse entities: Can't find end tag",
        ),
        (
            lambda: bot.send_message(alice.id, "1 < 2", parse_mode="HTML"),
            BadRequest,
            "can't parse entities: Unsupported start tag",
        ),
        (
            lambda: bot.send_message(
                alice.id,
                "x",
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("x", callback_data="d" * 65)]]
                ),
            ),
            BadRequest,
            "BUTTON_DATA_INVALID",
        ),
        (
            lambda: bot.send_message(stranger.id, "hello"),
            Forbidden,
            "bot can't initiate conversation with a user",
        ),
        (
            lambda: bot.send_message(outsider_group.id, "hello"),
            Forbidden,
            "bot was kicked from the supergroup chat",
        ),
        (
            lambda: bot.send_message(
                alice.id, "x", reply_parameters=ReplyParameters(message_id=999)
            ),
            BadRequest,
            "message to be replied not found",
        ),
    ]
    for call, error, text in cases:
        with fails(error, text):
            await call()
    exact = "x" * 4096
    assert (await bot.send_message(alice.id, exact)).text == exact

    await alice.block_bot()
    with fails(Forbidden, "bot was blocked by the user"):
        await bot.send_message(alice.id, "hello?")
    await alice.unblock_bot()
    assert (await bot.send_message(alice.id, "welcome back")).text == "welcome back"


async def test_unknown_method_and_token(bot: telegram.Bot, server: SandboxServer) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")
    assert server.base_url is not None
    request = HTTPXRequest()
    wrong = telegram.Bot(
        "999:wrong-token", base_url=f"{server.base_url}/bot{{token}}", request=request
    )
    with pytest.raises(InvalidToken):
        await wrong.get_me()
    await request.shutdown()
    # Method names are case-insensitive, as in Telegram.
    assert (await bot.do_api_request("getme"))["username"] == "UnionSandboxBot"


async def test_raw_http_bodies_are_coerced(base_url: str, driver: SandboxDriver) -> None:
    """JSON bodies, query strings and forms with JSON-text fields all work, as in Telegram."""
    alice = await started_user(driver)
    api = f"{base_url}/bot{TOKEN}"
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{api}/getMe") as response:
            assert (await response.json())["result"]["id"] == BOT_ID
        body = {"chat_id": alice.id, "text": "json body", "reply_markup": markup}
        async with session.post(f"{api}/sendMessage", json=body) as response:
            sent = await response.json()
        assert sent["ok"] and sent["result"]["reply_markup"] == markup
        query = {"chat_id": str(alice.id), "text": "query <i>string</i>", "parse_mode": "html"}
        async with session.get(f"{api}/sendMessage", params=query) as response:
            result = (await response.json())["result"]
        assert result["entities"] == [{"type": "italic", "offset": 6, "length": 6}]
        form = {
            "chat_id": str(alice.id),
            "text": "form",
            "reply_to_message_id": "1",
            "disable_notification": "true",
            "reply_markup": json.dumps(markup),
        }
        async with session.post(f"{api}/sendMessage", data=form) as response:
            result = (await response.json())["result"]
        assert result["reply_to_message"]["message_id"] == 1
        assert result["reply_markup"] == markup
        async with session.post(f"{api}/sendMessage", data={"chat_id": "x", "text": "y"}) as bad:
            assert bad.status == 400
            assert await bad.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat not found",
            }
    logged = await driver.calls("sendMessage")
    assert logged[-2].params["reply_markup"] == markup  # JSON text decoded in the log


async def test_two_bots_have_separate_private_chats() -> None:
    other_token = "654321:OTHER-token"
    options = SandboxOptions(bots={TOKEN: "UnionSandboxBot", other_token: "OtherBot"})
    async with SandboxServer(options) as sandbox:
        base = sandbox.base_url or ""
        async with (
            make_bot(base) as first,
            make_bot(base, other_token) as second,
            SandboxDriver(base, TOKEN, auto_settle=False) as one,
            SandboxDriver(base, other_token, auto_settle=False) as two,
        ):
            alice_one = await one.create_user("Alice")
            alice_two = await two.user(alice_one.id)
            group = await one.create_group("Both", [alice_one])
            await one.add_member(group, 654321, status="administrator")
            await alice_one.send("hi first")
            await alice_two.send("hi second")
            await first.send_message(group.id, "bots do not see each other")
            first_texts = [u.message.text for u in await first.get_updates() if u.message]
            second_texts = [u.message.text for u in await second.get_updates() if u.message]
            assert "hi first" in first_texts and "hi second" not in first_texts
            assert "hi second" in second_texts and "hi first" not in second_texts
            assert "bots do not see each other" not in second_texts
            assert [m.text for m in await alice_two.messages()] == ["hi second"]

"""The sandbox's own JSON API, used by the test driver and the web chat page.

Everything lives under ``/sandbox/api/``. Bodies are JSON (``multipart/form-data``
for file uploads); answers are JSON; failures answer a 4xx status with
``{"error": "..."}``. There is no authentication: the sandbox is a local tool.

Chats are addressed by id. A positive id is a user's private chat *with a bot*;
routes that touch one take an optional ``bot_id`` (query or body), defaulting to
the first configured bot. Negative ids are groups.

State
    GET    /state                      bots, users (with their chats), chats (with members),
                                       ``last_seq`` of the event log
    POST   /reset                      forget users, groups, messages, files, updates, calls,
                                       events and faults; keep bots (commands, webhook) and limits

Users
    POST   /users                      {first_name, last_name?, username?, language_code?
                                       (default "zh-hans"), id?} -> user
    GET    /users/{user_id}            user with the chats they are in
    POST   /users/{user_id}/block      {bot_id?, notify?=true} user blocks the bot
                                       -> {chat_id, update_id}; notify=false blocks silently
                                       (no my_chat_member: the bot learns it from a 403)
    POST   /users/{user_id}/unblock    {bot_id?} -> {chat_id, update_id}
    GET    /users/{user_id}/callbacks  ?bot_id  the user's button presses with the bot's answers
    POST   /join                       {user_id, invite_link, bot_id?} -> {chat, ...produced}
    GET    /invite                     ?link  the group an invite link leads to and whether it
                                       still works -> {invite_link, chat_id, title, usable, ...}
    GET    /people                     ?bot_id  every person with their chat list (the private
                                       chat with the bot first, started or not, then groups;
                                       each with a ``last`` message preview) and ``info`` from
                                       the server's ``user_info`` hook ({} if none or it failed)

Groups and members
    POST   /groups                     {title, id?, username?, members?, admins?, creator?,
                                       bot_ids? (default all bots), bot_status? (administrator),
                                       bot_id?} -> chat + produced
    GET    /chats/{chat_id}            ?bot_id  chat with members (groups) or user (private)
    POST   /chats/{chat_id}/members    {user_id, status? (member), actor_id?, rights?, bot_id?}
    PATCH  /chats/{chat_id}/members/{user_id}   {status, actor_id?, rights?, until_date?,
                                       bot_id?}  promote, demote, remove, ban
    DELETE /chats/{chat_id}/members/{user_id}   ?actor_id&ban=false&bot_id  leave / remove / ban

    "produced" is {update_ids, listening}: the updates the change queued for ``bot_id`` and
    whether that bot is taking updates right now (a poll open or a webhook set).

Messages (user side)
    GET    /chats/{chat_id}/messages   ?bot_id&after_id=0&limit=500&include_deleted=true
                                       every message in order, each a message view: id, from
                                       (is_bot), date, text, html (safe rendering), caption,
                                       caption_html, media (with a download url), reply_to,
                                       buttons (inline keyboard), edited, edit_date, deleted,
                                       service, forward_origin
    POST   /chats/{chat_id}/messages   {user_id, text, reply_to_message_id?, entities?, bot_id?}
                                       -> {message, update_id, update_ids}
    POST   /chats/{chat_id}/files      multipart: user_id, kind (photo|document|voice), file,
                                       caption?, reply_to_message_id?, bot_id?  -> as above
    PATCH  /chats/{chat_id}/messages/{message_id}   {user_id, text, bot_id?} user edits
    DELETE /chats/{chat_id}/messages/{message_id}   ?user_id&bot_id  user deletes their own
    POST   /chats/{chat_id}/messages/{message_id}/press   {user_id, callback_data, bot_id?,
                                       unchecked?=false (let empty or over-long data through)}
                                       -> {callback_query_id, update_id}
    GET    /callbacks/{query_id}       a press and (once answered) text / show_alert / url
    GET    /chats/{chat_id}/keyboard   ?user_id&bot_id  reply keyboard the user sees, or null
    GET    /chats/{chat_id}/actions    ?bot_id&within=5  chat actions sent in the last seconds
    GET    /chats/{chat_id}/commands   ?user_id&bot_id  command menu the user sees there (also
                                       in a private chat not started yet)
    GET    /commands                   ?bot_id  every stored (scope, language) command list
    GET    /files/{file_id}            the file's bytes (for media in the web chat)

Watching
    GET    /events                     ?after=0&timeout=0&types=a,b&chat_id&limit=1000
                                       long poll -> {events, last_seq}; event = {seq, type, time,
                                       chat_id, ...}; types: message edit delete action callback
                                       callback_answer keyboard member commands pin call
                                       webhook reset
    GET    /stream                     ?after=0 (or Last-Event-ID)&types&chat_id
                                       the same events as server-sent events (an ``after``
                                       past the newest event, from an earlier server, means now)
    POST   /updates                    {update, bot_id?} queue ``update`` (an object without
                                       update_id) as it is, unchecked -> {update_id, listening}
    GET    /updates/{update_id}        ?bot_id&wait=(fetched|done)&timeout=0  whether the bot
                                       fetched / acknowledged the update (done = acknowledged
                                       or dropped)
    GET    /idle                       ?bot_id&quiet=0.3&timeout=5  wait until the bot has made
                                       no Bot API call (getUpdates aside) for ``quiet`` seconds
                                       -> {idle}

Diagnostics and faults
    GET    /calls                      ?after=0&limit=100&method&bot_id&exclude=a,b&newest=false
                                       -> {calls, last_seq}; newest=true gives the last ``limit``
    GET    /stats                      call counters, 429s sent, limiter buckets, fault rules
    GET    /limits                     limit settings
    PUT    /limits                     {enforce?, global_rate?, per_chat_rate?, per_chat_burst?,
                                       group_per_minute?} -> settings
    GET    /faults                     active fault rules
    POST   /faults                     {kind: fail, method?, status?=500, count?=1 (null:
                                       forever), retry_after?, description?} or {kind: delay,
                                       method?, seconds, count?=1, phase?=before|after} or
                                       {kind: drop, method?, count?=1, phase?=before|after}
                                       (connection closed, no answer); each also rate?=1 (share
                                       of matching calls it fires on), seed? -> rule
    DELETE /faults                     remove all rules;  DELETE /faults/{rule_id}  remove one

Several instances (the sandbox as their load balancer)
    GET    /webhook/targets            ?bot_id  the pool (or null) with attempts and deliveries
                                       per URL
    PUT    /webhook/targets            {urls, policy?=alternate|random, seed?, concurrency?=1,
                                       bot_id?}  while a webhook is set, deliver its updates to
                                       these URLs instead of the one from setWebhook (its secret
                                       token is kept): each attempt, a retry too, to the next URL
                                       in turn or drawn with ``seed``; ``concurrency`` updates in
                                       flight at once, never two of one chat -> targets
    DELETE /webhook/targets            ?bot_id  back to setWebhook's URL
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from sandbox import people, views
from sandbox.actions import Actions
from sandbox.commands import visible_commands
from sandbox.errors import ApiError, ControlError
from sandbox.files import store_file
from sandbox.limits import FaultInjector, RateLimiter
from sandbox.state import ChatRecord, MessageRecord, World
from sandbox.webhook import Targets, WebhookDelivery

PREFIX = "/sandbox/api"
ACTION_SECONDS = 5.0  # Telegram shows a chat action for five seconds
SSE_KEEPALIVE = 15.0
_dumps = partial(json.dumps, ensure_ascii=False)
JSON = dict[str, Any]
RouteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


@web.middleware
async def _errors(request: web.Request, handler: RouteHandler) -> web.StreamResponse:
    """Turn the sandbox's exceptions into ``{"error": ...}`` answers."""
    try:
        return await handler(request)
    except ControlError as error:
        return _reply({"error": error.message}, error.status)
    except ApiError as error:
        return _reply({"error": error.description}, 400 if error.status == 429 else error.status)
    except (ValueError, TypeError, KeyError) as error:
        return _reply({"error": f"bad request: {error}"}, 400)


def _int(source: Any, name: str, default: int | None = None) -> int | None:
    value = source.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ControlError(400, f"{name} must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"{name} must be an integer") from None


def _need_int(source: Any, name: str) -> int:
    value = _int(source, name)
    if value is None:
        raise ControlError(400, f"{name} is required")
    return value


def _float(source: Any, name: str, default: float) -> float:
    value = source.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"{name} must be a number") from None


def _flag(source: Any, name: str, default: bool) -> bool:
    value = source.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes", "on")


def _path_int(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise ControlError(400, f"{name} must be an integer") from None


async def _body(request: web.Request) -> JSON:
    if not request.can_read_body:
        return {}
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise ControlError(400, "body is not valid JSON") from None
        if not isinstance(data, dict):
            raise ControlError(400, "body must be a JSON object")
        return data
    return dict(await request.post())


class ControlApi:
    """Handlers of the control API for one sandbox server."""

    def __init__(
        self,
        world: World,
        actions: Actions,
        limiter: RateLimiter,
        faults: FaultInjector,
        user_info: people.UserInfo | None = None,
        webhooks: WebhookDelivery | None = None,
    ) -> None:
        self.world = world
        self.actions = actions
        self.limiter = limiter
        self.faults = faults
        self.user_info = user_info
        self.webhooks = webhooks

    def app(self) -> web.Application:
        """The control API as an application to mount at ``/sandbox/api``."""
        app = web.Application(middlewares=[_errors], client_max_size=64 * 1024 * 1024)
        r = app.router
        r.add_get("/state", self.state)
        r.add_post("/reset", self.reset)
        r.add_post("/users", self.create_user)
        r.add_get("/users/{user_id}", self.get_user)
        r.add_patch("/users/{user_id}", self.patch_user)
        r.add_post("/users/{user_id}/block", self.block)
        r.add_post("/users/{user_id}/unblock", self.unblock)
        r.add_get("/users/{user_id}/callbacks", self.user_callbacks)
        r.add_post("/join", self.join)
        r.add_get("/invite", self.invite)
        r.add_get("/people", self.list_people)
        r.add_post("/groups", self.create_group)
        r.add_get("/chats/{chat_id}", self.get_chat)
        r.add_post("/chats/{chat_id}/members", self.add_member)
        r.add_patch("/chats/{chat_id}/members/{user_id}", self.change_member)
        r.add_delete("/chats/{chat_id}/members/{user_id}", self.remove_member)
        r.add_get("/chats/{chat_id}/messages", self.list_messages)
        r.add_post("/chats/{chat_id}/messages", self.send_text)
        r.add_post("/chats/{chat_id}/files", self.send_file)
        r.add_patch("/chats/{chat_id}/messages/{message_id}", self.edit)
        r.add_delete("/chats/{chat_id}/messages/{message_id}", self.delete)
        r.add_post("/chats/{chat_id}/messages/{message_id}/press", self.press)
        r.add_get("/callbacks/{query_id}", self.get_callback)
        r.add_get("/chats/{chat_id}/keyboard", self.keyboard)
        r.add_get("/chats/{chat_id}/actions", self.chat_actions)
        r.add_get("/chats/{chat_id}/commands", self.chat_commands)
        r.add_get("/commands", self.commands)
        r.add_get("/files/{file_id}", self.file)
        r.add_get("/events", self.events)
        r.add_get("/stream", self.stream)
        r.add_post("/updates", self.inject_update)
        r.add_get("/updates/{update_id}", self.update_status)
        r.add_get("/idle", self.idle)
        r.add_get("/calls", self.calls)
        r.add_get("/stats", self.stats)
        r.add_get("/limits", self.get_limits)
        r.add_put("/limits", self.set_limits)
        r.add_get("/faults", self.get_faults)
        r.add_post("/faults", self.add_fault)
        r.add_delete("/faults", self.clear_faults)
        r.add_delete("/faults/{rule_id}", self.remove_fault)
        r.add_get("/webhook/targets", self.get_targets)
        r.add_put("/webhook/targets", self.set_targets)
        r.add_delete("/webhook/targets", self.clear_targets)
        return app

    # ================================================================== helpers

    def _bot_id(self, source: Any) -> int:
        return self.actions.bot(_int(source, "bot_id")).id

    def _chat(self, request: web.Request, source: Any) -> ChatRecord:
        return self.actions.existing_chat(_int(source, "bot_id"), _path_int(request, "chat_id"))

    def _chat_if_started(self, request: web.Request, source: Any) -> ChatRecord | None:
        """Like :meth:`_chat`, but a private chat nobody started yet is just empty."""
        chat_id = _path_int(request, "chat_id")
        if chat_id > 0:
            bot = self.actions.bot(_int(source, "bot_id"))
            self.actions.user(chat_id)
            return self.world.private.get((bot.id, chat_id))
        return self.actions.group(chat_id)

    def _produced(self, bot_id: int, change: Callable[[], Any]) -> tuple[Any, JSON]:
        """Run a change; return its result and the updates it queued for ``bot_id``.

        Changes are synchronous, so the ids handed out meanwhile are exactly its own.
        """
        bot = self.actions.bot(bot_id)
        first = bot.updates.next_id
        result = change()
        produced = list(range(first, bot.updates.next_id))
        return result, {"update_ids": produced, "listening": bot.listening}

    def _message_result(
        self, chat: ChatRecord, record: MessageRecord, update_ids: dict[int, int], bot_id: int
    ) -> JSON:
        return {
            "message": views.message(self.world, chat, record),
            "update_id": update_ids.get(bot_id),
            "update_ids": {str(k): v for k, v in update_ids.items()},
        }

    # ================================================================== state

    async def state(self, request: web.Request) -> web.Response:
        world = self.world
        chats = [views.chat(world, c) for c in world.groups.values()]
        chats.extend(views.chat(world, c) for c in world.private.values())
        return _reply(
            {
                "bots": [
                    {**views.person(bot.user), "webhook": bot.webhook.url if bot.webhook else None}
                    for bot in world.bots.values()
                ],
                "default_bot_id": world.default_bot_id,
                "users": [views.user(world, u) for u in world.users.values() if not u.is_bot],
                "chats": chats,
                "last_seq": world.events.last_seq,
            }
        )

    async def reset(self, request: web.Request) -> web.Response:
        self.world.reset()
        self.faults.clear()
        self.limiter.reset()
        self.world.events.emit("reset", None)
        return _reply({"ok": True})

    # ================================================================== users

    async def create_user(self, request: web.Request) -> web.Response:
        body = await _body(request)
        record = self.actions.create_user(
            str(body.get("first_name") or ""),
            last_name=body.get("last_name"),
            username=body.get("username"),
            language_code=body.get("language_code", "zh-hans"),
            user_id=_int(body, "id"),
        )
        return _reply(views.user(self.world, record), 201)

    async def get_user(self, request: web.Request) -> web.Response:
        record = self.actions.user(_path_int(request, "user_id"))
        return _reply(views.user(self.world, record))

    async def patch_user(self, request: web.Request) -> web.Response:
        body = await _body(request)
        record = self.actions.rename_user(_path_int(request, "user_id"), body.get("username"))
        return _reply(views.user(self.world, record))

    async def _set_blocked(self, request: web.Request, blocked: bool) -> web.Response:
        body = await _body(request)
        chat, update_id = self.actions.set_blocked(
            _int(body, "bot_id"),
            _path_int(request, "user_id"),
            blocked,
            notify=_flag(body, "notify", True),
        )
        return _reply({"chat_id": chat.id, "update_id": update_id})

    async def block(self, request: web.Request) -> web.Response:
        return await self._set_blocked(request, True)

    async def unblock(self, request: web.Request) -> web.Response:
        return await self._set_blocked(request, False)

    async def user_callbacks(self, request: web.Request) -> web.Response:
        user_id = _path_int(request, "user_id")
        bot_id = _int(request.query, "bot_id")
        presses = [
            q.to_json()
            for q in self.world.callbacks.values()
            if q.user_id == user_id and (bot_id is None or q.bot_id == bot_id)
        ]
        return _reply(presses)

    async def join(self, request: web.Request) -> web.Response:
        body = await _body(request)
        chat, produced = self._produced(
            self._bot_id(body),
            lambda: self.actions.join_by_link(
                _need_int(body, "user_id"), str(body.get("invite_link") or "")
            ),
        )
        return _reply({"chat": views.chat(self.world, chat), **produced})

    async def invite(self, request: web.Request) -> web.Response:
        link = self.world.invite_links.get(str(request.query.get("link") or "").strip())
        if link is None:
            raise ControlError(404, "invite link is invalid (INVITE_HASH_INVALID)")
        group = self.actions.group(link.chat_id)
        expired = link.expire_date is not None and link.expire_date <= self.world.now()
        full = link.member_limit is not None and link.joined >= link.member_limit
        return _reply(
            {
                "invite_link": link.link,
                "chat_id": group.id,
                "title": group.title,
                "is_revoked": link.is_revoked,
                "expired": expired,
                "full": full,
                "usable": not (link.is_revoked or expired or full),
            }
        )

    async def list_people(self, request: web.Request) -> web.Response:
        bot = self.actions.bot(_int(request.query, "bot_id"))
        return _reply(await people.people(self.world, bot, self.user_info))

    # ================================================================== groups

    async def create_group(self, request: web.Request) -> web.Response:
        body = await _body(request)

        def ids(name: str) -> list[int] | None:
            value = body.get(name)
            if value is None:
                return None
            if not isinstance(value, list):
                raise ControlError(400, f"{name} must be a list of user ids")
            return [int(v) for v in value]

        chat, produced = self._produced(
            self._bot_id(body),
            lambda: self.actions.create_group(
                str(body.get("title") or ""),
                chat_id=_int(body, "id"),
                username=body.get("username"),
                members=ids("members"),
                admins=ids("admins"),
                creator=_int(body, "creator"),
                bot_ids=ids("bot_ids"),
                bot_status=str(body.get("bot_status") or "administrator"),
            ),
        )
        return _reply({**views.chat(self.world, chat), **produced}, 201)

    async def get_chat(self, request: web.Request) -> web.Response:
        return _reply(views.chat(self.world, self._chat(request, request.query)))

    async def add_member(self, request: web.Request) -> web.Response:
        body = await _body(request)
        chat = self.actions.group(_path_int(request, "chat_id"))
        user_id = _need_int(body, "user_id")
        _, produced = self._produced(
            self._bot_id(body),
            lambda: self.actions.add_member(
                chat,
                user_id,
                status=str(body.get("status") or "member"),
                actor_id=_int(body, "actor_id"),
                rights=body.get("rights"),
            ),
        )
        return _reply({**views.member(self.world, user_id, chat), **produced}, 201)

    async def change_member(self, request: web.Request) -> web.Response:
        body = await _body(request)
        chat = self.actions.group(_path_int(request, "chat_id"))
        user_id = _path_int(request, "user_id")
        _, produced = self._produced(
            self._bot_id(body),
            lambda: self.actions.set_status(
                chat,
                user_id,
                str(body.get("status") or ""),
                actor_id=_int(body, "actor_id"),
                rights=body.get("rights"),
                until_date=_int(body, "until_date", 0) or 0,
            ),
        )
        return _reply({**views.member(self.world, user_id, chat), **produced})

    async def remove_member(self, request: web.Request) -> web.Response:
        chat = self.actions.group(_path_int(request, "chat_id"))
        user_id = _path_int(request, "user_id")
        _, produced = self._produced(
            self._bot_id(request.query),
            lambda: self.actions.remove_member(
                chat,
                user_id,
                actor_id=_int(request.query, "actor_id"),
                ban=_flag(request.query, "ban", False),
            ),
        )
        return _reply({**views.member(self.world, user_id, chat), **produced})

    # ================================================================== messages

    async def list_messages(self, request: web.Request) -> web.Response:
        query = request.query
        chat = self._chat_if_started(request, query)
        if chat is None:
            return _reply([])
        after_id = _int(query, "after_id", 0) or 0
        limit = _int(query, "limit", 500) or 500
        include_deleted = _flag(query, "include_deleted", True)
        found = [
            views.message(self.world, chat, m)
            for m in chat.messages.values()
            if m.message_id > after_id and (include_deleted or not m.deleted)
        ]
        return _reply(found[:limit])

    async def send_text(self, request: web.Request) -> web.Response:
        body = await _body(request)
        bot_id = self._bot_id(body)
        user_id = _need_int(body, "user_id")
        chat = self.actions.user_chat(bot_id, _path_int(request, "chat_id"), user_id)
        entities = body.get("entities")
        if entities is not None and not isinstance(entities, list):
            raise ControlError(400, "entities must be a list")
        record, update_ids = self.actions.send_message(
            chat,
            user_id,
            text=body.get("text") if isinstance(body.get("text"), str) else None,
            entities=entities,
            reply_to=_int(body, "reply_to_message_id"),
        )
        return _reply(self._message_result(chat, record, update_ids, bot_id), 201)

    async def send_file(self, request: web.Request) -> web.Response:
        form = await request.post()
        bot_id = self._bot_id(form)
        user_id = _need_int(form, "user_id")
        chat = self.actions.user_chat(bot_id, _path_int(request, "chat_id"), user_id)
        kind = str(form.get("kind") or "document")
        if kind not in ("photo", "document", "voice"):
            raise ControlError(400, "kind is photo, document or voice")
        upload = form.get("file")
        if not isinstance(upload, FileField):
            raise ControlError(400, "file is required (multipart upload)")
        caption = form.get("caption")
        stored = store_file(
            self.world,
            kind,
            upload.file.read(),
            upload.filename,
            upload.content_type,
            _int(form, "duration"),
        )
        record, update_ids = self.actions.send_message(
            chat,
            user_id,
            file=stored,
            caption=caption if isinstance(caption, str) and caption else None,
            reply_to=_int(form, "reply_to_message_id"),
        )
        return _reply(self._message_result(chat, record, update_ids, bot_id), 201)

    async def edit(self, request: web.Request) -> web.Response:
        body = await _body(request)
        bot_id = self._bot_id(body)
        user_id = _need_int(body, "user_id")
        chat = self.actions.user_chat(bot_id, _path_int(request, "chat_id"), user_id)
        text = body.get("text")
        if not isinstance(text, str):
            raise ControlError(400, "text is required")
        record, update_ids = self.actions.edit_message(
            chat, user_id, _path_int(request, "message_id"), text
        )
        return _reply(self._message_result(chat, record, update_ids, bot_id))

    async def delete(self, request: web.Request) -> web.Response:
        query = request.query
        user_id = _need_int(query, "user_id")
        chat = self.actions.user_chat(self._bot_id(query), _path_int(request, "chat_id"), user_id)
        self.actions.delete_message(chat, user_id, _path_int(request, "message_id"))
        return _reply({"ok": True})

    async def press(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user_id = _need_int(body, "user_id")
        chat = self.actions.user_chat(self._bot_id(body), _path_int(request, "chat_id"), user_id)
        data = body.get("callback_data")
        if not isinstance(data, str):
            raise ControlError(400, "callback_data is required")
        query = self.actions.press_button(
            chat,
            user_id,
            _path_int(request, "message_id"),
            data,
            unchecked=_flag(body, "unchecked", False),
        )
        return _reply({"callback_query_id": query.id, "update_id": query.update_id}, 201)

    async def get_callback(self, request: web.Request) -> web.Response:
        query = self.world.callbacks.get(request.match_info["query_id"])
        if query is None:
            raise ControlError(404, "callback query not found")
        return _reply(query.to_json())

    async def keyboard(self, request: web.Request) -> web.Response:
        chat = self._chat_if_started(request, request.query)
        if chat is None:
            return _reply({"keyboard": None})
        user_id = _int(request.query, "user_id", chat.id if chat.is_private else None)
        if user_id is None:
            raise ControlError(400, "user_id is required for groups")
        return _reply({"keyboard": views.keyboard(chat, user_id)})

    async def chat_actions(self, request: web.Request) -> web.Response:
        chat = self._chat_if_started(request, request.query)
        if chat is None:
            return _reply([])
        within = _float(request.query, "within", ACTION_SECONDS)
        now = self.world.clock()
        recent = [
            {
                "action": a.action,
                "bot_id": a.bot_id,
                "time": a.time,
                "age": round(now - a.time, 3),
                "active": now - a.time < ACTION_SECONDS,
            }
            for a in chat.actions
            if now - a.time <= within
        ]
        return _reply(recent)

    async def chat_commands(self, request: web.Request) -> web.Response:
        query = request.query
        bot = self.actions.bot(_int(query, "bot_id"))
        chat = self._chat_if_started(request, query)
        if chat is None:  # a newcomer sees the private-chat menu before writing (e.g. /start)
            chat = ChatRecord(id=_path_int(request, "chat_id"), type="private", bot_id=bot.id)
        user_id = _int(query, "user_id", chat.id if chat.is_private else None)
        if user_id is None:
            raise ControlError(400, "user_id is required for groups")
        scope, commands = visible_commands(bot, chat, self.actions.user(user_id))
        return _reply({"scope": scope, "commands": commands})

    async def commands(self, request: web.Request) -> web.Response:
        bot = self.actions.bot(_int(request.query, "bot_id"))
        return _reply(
            [
                {"scope": scope, "language_code": language, "commands": commands}
                for (scope, language), commands in bot.commands.items()
            ]
        )

    async def file(self, request: web.Request) -> web.Response:
        record = self.world.files.get(request.match_info["file_id"])
        if record is None:
            raise ControlError(404, "file not found")
        headers = {}
        if record.file_name:
            headers["Content-Disposition"] = f'inline; filename="{record.file_name}"'
        return web.Response(
            body=record.data,
            content_type=record.mime_type or "application/octet-stream",
            headers=headers,
        )

    # ================================================================== watching

    def _event_filter(self, query: Any) -> tuple[frozenset[str] | None, int | None]:
        raw = query.get("types")
        types = frozenset(t for t in raw.split(",") if t) if raw else None
        return types, _int(query, "chat_id")

    async def events(self, request: web.Request) -> web.Response:
        query = request.query
        types, chat_id = self._event_filter(query)
        found = await self.world.events.wait(
            _int(query, "after", 0) or 0,
            min(_float(query, "timeout", 0.0), 60.0),
            types=types,
            chat_id=chat_id,
            limit=_int(query, "limit", 1000) or 1000,
        )
        return _reply(
            {"events": [e.to_json() for e in found], "last_seq": self.world.events.last_seq}
        )

    async def stream(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        types, chat_id = self._event_filter(query)
        after = _int(request.headers, "Last-Event-ID", None)
        if after is None:
            after = _int(query, "after", 0) or 0
        # A page that followed an earlier server (one without a state file numbers
        # events from 1 again) would otherwise wait for numbers it has already seen.
        after = min(after, self.world.events.last_seq)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        log = self.world.events
        with contextlib.suppress(ConnectionResetError):
            while not log.closed:
                found = await log.wait(after, SSE_KEEPALIVE, types=types, chat_id=chat_id)
                if not found:
                    await response.write(b": keepalive\n\n")
                    continue
                for event in found:
                    data = _dumps(event.to_json())
                    chunk = f"id: {event.seq}\nevent: {event.type}\ndata: {data}\n\n"
                    await response.write(chunk.encode("utf-8"))
                    after = event.seq
        return response

    async def inject_update(self, request: web.Request) -> web.Response:
        """Queue a raw update for the bot, unchecked: ``{"update": {...}}`` (no ``update_id``).

        Nothing in the world changes; this is how tests deliver what no user action
        can (channel posts, updates of a newer Bot API, malformed ones).
        """
        body = await _body(request)
        fields = body.get("update")
        if not isinstance(fields, dict) or "update_id" in fields:
            raise ControlError(400, "update must be an object without update_id")
        bot = self.actions.bot(_int(body, "bot_id"))
        update_id = bot.updates.push_raw(fields)
        return _reply({"update_id": update_id, "listening": bot.listening}, 201)

    async def update_status(self, request: web.Request) -> web.Response:
        query = request.query
        bot = self.actions.bot(_int(query, "bot_id"))
        update_id = _path_int(request, "update_id")
        wait = query.get("wait", "")
        if wait not in ("", "fetched", "done"):
            raise ControlError(400, "wait is fetched or done")
        timeout = min(_float(query, "timeout", 0.0), 60.0)
        queue = bot.updates
        deadline = time.monotonic() + timeout
        while True:
            status = queue.statuses.get(update_id)
            if status is None:
                raise ControlError(404, f"update {update_id} not found for bot {bot.id}")
            reached = (wait == "fetched" and (status.fetched or status.done)) or (
                wait == "done" and status.done
            )
            remaining = deadline - time.monotonic()
            if not wait or reached or remaining <= 0 or self.world.closed:
                return _reply(status.to_json())
            await queue.changed.wait(remaining)

    async def idle(self, request: web.Request) -> web.Response:
        query = request.query
        bot_id = self._bot_id(query)
        quiet = _float(query, "quiet", 0.3)
        timeout = min(_float(query, "timeout", 5.0), 120.0)
        idle = await self.world.calls.wait_idle(bot_id, quiet, timeout)
        return _reply({"idle": idle, "quiet": quiet})

    # ================================================================== diagnostics and faults

    async def calls(self, request: web.Request) -> web.Response:
        query = request.query
        excluded = query.get("exclude") or ""
        found = self.world.calls.page(
            after=_int(query, "after", 0) or 0,
            limit=_int(query, "limit", 100) or 100,
            method=query.get("method") or None,
            bot_id=_int(query, "bot_id"),
            exclude=frozenset(m.lower() for m in excluded.split(",") if m),
            newest=_flag(query, "newest", False),
        )
        last = found[-1].seq if found else _int(query, "after", 0) or 0
        return _reply({"calls": [c.to_json() for c in found], "last_seq": last})

    async def stats(self, request: web.Request) -> web.Response:
        return _reply(
            {
                "calls": self.world.calls.stats(),
                "limiter": self.limiter.snapshot(),
                "faults": self.faults.to_json(),
            }
        )

    async def get_limits(self, request: web.Request) -> web.Response:
        return _reply(self.limiter.settings.to_json())

    async def set_limits(self, request: web.Request) -> web.Response:
        body = await _body(request)
        try:
            settings = self.limiter.configure(**body)
        except ValueError as error:
            raise ControlError(400, str(error)) from None
        return _reply(settings.to_json())

    async def get_faults(self, request: web.Request) -> web.Response:
        return _reply(self.faults.to_json())

    async def add_fault(self, request: web.Request) -> web.Response:
        body = await _body(request)
        kind = body.get("kind")
        method = body.get("method") or None
        count: int | None = 1  # an explicit null means "every matching call, until removed"
        if "count" in body:
            count = None if body["count"] is None else _int(body, "count")
        rate, seed = _float(body, "rate", 1.0), _int(body, "seed")
        phase = str(body.get("phase") or "before")
        try:
            if kind == "fail":
                rule = self.faults.fail_next(
                    method,
                    status=_int(body, "status", 500) or 500,
                    count=count,
                    retry_after=_int(body, "retry_after"),
                    description=body.get("description"),
                    rate=rate,
                    seed=seed,
                )
            elif kind == "delay":
                rule = self.faults.delay(
                    method,
                    seconds=_float(body, "seconds", 1.0),
                    count=count,
                    phase=phase,
                    rate=rate,
                    seed=seed,
                )
            elif kind == "drop":
                rule = self.faults.drop(method, count=count, phase=phase, rate=rate, seed=seed)
            else:
                raise ControlError(400, "kind is fail, delay or drop")
        except ValueError as error:
            raise ControlError(400, str(error)) from None
        return _reply(rule.to_json(), 201)

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.faults.clear()
        return _reply({"ok": True})

    async def remove_fault(self, request: web.Request) -> web.Response:
        if not self.faults.remove(_path_int(request, "rule_id")):
            raise ControlError(404, "fault rule not found")
        return _reply({"ok": True})

    # ================================================================== several instances

    def _webhooks(self) -> WebhookDelivery:
        if self.webhooks is None:
            raise ControlError(404, "this sandbox delivers no webhooks")
        return self.webhooks

    async def get_targets(self, request: web.Request) -> web.Response:
        targets = self._webhooks().targets.get(self._bot_id(request.query))
        return _reply(targets.to_json() if targets is not None else None)

    async def set_targets(self, request: web.Request) -> web.Response:
        body = await _body(request)
        bot = self.actions.bot(_int(body, "bot_id"))
        urls = body.get("urls")
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise ControlError(400, "urls is a list of URLs")
        try:
            targets = Targets(
                urls=list(urls),
                policy=str(body.get("policy") or "alternate"),
                seed=_int(body, "seed"),
                concurrency=_int(body, "concurrency", 1) or 0,
            )
        except ValueError as error:
            raise ControlError(400, str(error)) from None
        self._webhooks().set_targets(bot, targets)
        return _reply(targets.to_json())

    async def clear_targets(self, request: web.Request) -> web.Response:
        self._webhooks().set_targets(self.actions.bot(_int(request.query, "bot_id")), None)
        return _reply({"ok": True})

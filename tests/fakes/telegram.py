"""A fake Telegram Bot API on 127.0.0.1 that validates and throttles like the real one.

It answers the methods digestbot uses (getMe, deleteWebhook, getUpdates long polling,
sendMessage, sendPhoto, sendMediaGroup, editMessageText, editMessageReplyMarkup,
answerCallbackQuery, set/get/deleteMyCommands, getChatMember, getChat) and enforces
the Bot API's documented limits: strict HTML parsing (allowlisted tags, every
tag closed and properly nested, only known character references), text 1–4096 and
captions ≤ 1024 after parsing (counted in UTF-16 units, the stricter reading), entity
bounds in UTF-16, media groups of 2–10, flood limits (1/s per chat, 20/min per group or
channel, 30/s overall → 429 with retry_after), 403 for chats the bot was removed from,
400 + migrate_to_chat_id for upgraded groups. Everything is recorded for assertions;
tests inject updates (commands, button presses) and faults.

`time_scale` shrinks every flood window (0.01 → "1 s" lasts 10 ms) while `retry_after`
stays in nominal seconds, so a client limiter scaled by the same factor behaves exactly
as it would against Telegram, only faster.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["EntityError", "FakeChat", "FakeMessage", "FakeTelegram", "FloodControl", "parse_html"]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

# ----------------------------------------------------------------------------- HTML parsing
_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "span": "spoiler",
    "tg-spoiler": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_START_TAG = re.compile(
    r"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z][a-zA-Z0-9-]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'<>=`]+))?)*)\s*>")
_ATTR = re.compile(r"([a-zA-Z][a-zA-Z0-9-]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'<>=`]+))?")
_END_TAG = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_CHAR_REF = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_SPECIAL = re.compile(r"[<>&]")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_URL = re.compile(r"^(https?|tg|mailto):[^\s]+$", re.IGNORECASE)
_ENTITY_TYPES = {
    "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bold", "italic",
    "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote", "code", "pre",
    "text_link", "text_mention", "custom_emoji",
}


class EntityError(ValueError):
    """What Telegram calls "can't parse entities"."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode(raw: str, where: int) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        if raw[i] == "&":
            match = _CHAR_REF.match(raw, i)
            if not match:
                raise EntityError(f"Unsupported HTML entity at byte offset {where}")
            name = match.group(1)
            if name in _NAMED:
                out.append(_NAMED[name])
            else:
                code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
                if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF or code == 0:
                    raise EntityError(f"Invalid character reference at byte offset {where}")
                out.append(chr(code))
            i = match.end()
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    try:
        return _parse_html(text)
    except EntityError as exc:
        message = re.sub(r"byte offset (\d+)", lambda m: f"byte offset {len(text[:int(m.group(1))].encode())}",
                         str(exc))
        raise EntityError(message) from None


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode, strictly: the plain text and its entities (UTF-16 offsets).

    Raises:
        EntityError: unknown tag or attribute, unclosed or badly nested tag, bare `<`/`>`/`&`,
            a tag inside `code`/`pre`, a link inside a link, a bad URL.
    """
    out: list[str] = []
    position = 0  # UTF-16 units
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        offset = i  # code points; converted to a UTF-8 byte offset only for error messages
        if char == "<":
            if text.startswith("</", i):
                match = _END_TAG.match(text, i)
                if not match:
                    raise EntityError(f"Unclosed end tag at byte offset {offset}")
                name = match.group(1).lower()
                if not stack:
                    raise EntityError(f'Unexpected end tag at byte offset {offset}')
                top, start, attrs = stack[-1]
                if top != name:
                    raise EntityError(
                        f'Unmatched end tag at byte offset {offset}, expected "</{top}>", found "</{name}>"')
                stack.pop()
                entity = _entity(top, start, position - start, attrs, stack)
                if entity is not None:
                    entities.append(entity)
                i = match.end()
                continue
            match = _START_TAG.match(text, i)
            if not match:
                raise EntityError(f"Unsupported start tag at byte offset {offset}")
            name = match.group(1).lower()
            if name not in _TAGS:
                raise EntityError(f'Unsupported start tag "{name}" at byte offset {offset}')
            attrs = {a.group(1).lower(): _decode((a.group(2) or "").strip("\"'"), offset)
                     for a in _ATTR.finditer(match.group(2))}
            _check_start(name, attrs, stack, offset)
            stack.append((name, position, attrs))
            i = match.end()
            continue
        if char == ">":
            raise EntityError(f'Unexpected ">" at byte offset {offset}: must be escaped as &gt;')
        if char == "&":
            match = _CHAR_REF.match(text, i)
            if not match:
                raise EntityError(f'Unsupported HTML entity at byte offset {offset}: "&" must be escaped')
            decoded = _decode(match.group(0), offset)
            out.append(decoded)
            position += utf16_len(decoded)
            i = match.end()
            continue
        special = _SPECIAL.search(text, i)
        end = special.start() if special else n
        chunk = text[i:end]
        out.append(chunk)
        position += utf16_len(chunk)
        i = end
    if stack:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _check_start(name: str, attrs: dict[str, str], stack: list[tuple[str, int, dict[str, str]]],
                 offset: int) -> None:
    open_tags = [entry[0] for entry in stack]
    if open_tags and open_tags[-1] == "pre" and name == "code":
        pass
    elif any(tag in ("code", "pre") for tag in open_tags):
        raise EntityError(f'Tag "{name}" is not allowed inside a code block at byte offset {offset}')
    if name == "a":
        if "a" in open_tags:
            raise EntityError(f"Nested links are not allowed at byte offset {offset}")
        href = attrs.get("href", "")
        if not _URL.match(href):
            raise EntityError(f"Wrong URL in href at byte offset {offset}")
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    if name == "blockquote" and "blockquote" in open_tags:
        raise EntityError(f"Nested blockquotes are not allowed at byte offset {offset}")
    allowed = {"a": {"href"}, "span": {"class"}, "code": {"class"}, "tg-emoji": {"emoji-id"},
               "blockquote": {"expandable"}}.get(name, set())
    for attr in attrs:
        if attr not in allowed:
            raise EntityError(f'Unsupported attribute "{attr}" of tag "{name}" at byte offset {offset}')


def _entity(tag: str, offset: int, length: int, attrs: dict[str, str],
            stack: list[tuple[str, int, dict[str, str]]]) -> dict[str, Any] | None:
    if length == 0:
        return None
    kind = _TAGS[tag]
    entity: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    if tag == "a":
        entity["url"] = attrs["href"]
    if tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    if tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    if tag == "code" and stack and stack[-1][0] == "pre":
        return None  # language of the enclosing pre; kept simple
    return entity


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims leading/trailing whitespace and clips entities to what remains."""
    lead = utf16_len(text) - utf16_len(text.lstrip())
    stripped = text.strip()
    size = utf16_len(stripped)
    kept: list[dict[str, Any]] = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(size, entity["offset"] + entity["length"] - lead)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def check_entities(text: str, entities: Any) -> list[dict[str, Any]]:
    """Explicit `entities`: known types, integer bounds inside the text in UTF-16 units."""
    if not isinstance(entities, list):
        raise EntityError("entities must be an array")
    size = utf16_len(text)
    for entity in entities:
        if not isinstance(entity, dict) or entity.get("type") not in _ENTITY_TYPES:
            raise EntityError("Unsupported entity type")
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 1:
            raise EntityError("Invalid entity bounds")
        if offset + length > size:
            raise EntityError(f"Entity end {offset + length} is beyond the text end {size} (UTF-16)")
        if entity["type"] == "text_link" and not _URL.match(str(entity.get("url", ""))):
            raise EntityError("Wrong URL in text_link entity")
    return entities


# ----------------------------------------------------------------------------- flood control
class _Window:
    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.times: deque[float] = deque()

    def wait(self, now: float, weight: int) -> float:
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()
        if len(self.times) + weight <= self.limit:
            return 0.0
        if not self.times:  # more at once than the window ever allows
            return self.period
        index = len(self.times) + weight - self.limit - 1
        return self.times[min(index, len(self.times) - 1)] + self.period - now

    def record(self, now: float, weight: int) -> None:
        self.times.extend([now] * weight)


class FloodControl:
    """Telegram's documented limits as sliding windows: the server side of the limiter."""

    def __init__(self, *, time_scale: float = 1.0, per_chat: tuple[int, float] = (1, 1.0),
                 per_group: tuple[int, float] = (20, 60.0), overall: tuple[int, float] = (30, 1.0),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.scale = time_scale
        self.clock = clock
        self.per_chat, self.per_group = per_chat, per_group
        self.overall = _Window(overall[0], overall[1] * time_scale)
        self.chats: dict[int, _Window] = {}
        self.groups: dict[int, _Window] = {}
        self.enabled = True

    def admit(self, chat_id: int, is_group: bool, weight: int = 1) -> int | None:
        """None if the message may go now (and count it), else retry_after in nominal seconds."""
        if not self.enabled:
            return None
        now = self.clock()
        chat = self.chats.setdefault(chat_id, _Window(self.per_chat[0], self.per_chat[1] * self.scale))
        windows = [(self.overall, weight), (chat, 1)]
        if is_group:
            group = self.groups.setdefault(chat_id, _Window(self.per_group[0], self.per_group[1] * self.scale))
            windows.append((group, weight))
        wait = max(window.wait(now, w) for window, w in windows)
        if wait > 0:
            return max(1, math.ceil(wait / self.scale))
        for window, w in windows:
            window.record(now, w)
        return None


# ----------------------------------------------------------------------------- state
@dataclass
class FakeChat:
    id: int
    type: str  # private | group | supergroup | channel
    title: str = ""
    username: str | None = None
    kicked: bool = False
    migrated_to: int | None = None
    is_forum: bool = False
    topics: set[int] = field(default_factory=set)
    admins: set[int] = field(default_factory=set)
    owner: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.title or "User"
        else:
            data["title"] = self.title or f"Chat {self.id}"
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class FakeMessage:
    """One message as Telegram keeps it (bot's or a user's)."""

    chat_id: int
    message_id: int
    method: str
    text: str = ""
    html: str = ""
    entities: list[dict[str, Any]] = field(default_factory=list)
    thread: int | None = None
    silent: bool = False
    buttons: list[list[dict[str, Any]]] | None = None
    photo: str | None = None
    media_group_id: str | None = None
    preview_disabled: bool | None = None
    preview_url: str | None = None  # link_preview_options.url: the page (or picture) previewed
    from_bot: bool = True
    at: float = 0.0
    edits: list[str] = field(default_factory=list)


@dataclass
class FakeRequest:
    method: str
    params: dict[str, Any]
    status: int
    description: str = ""
    at: float = 0.0


@dataclass
class _Fault:
    methods: set[str] | None
    chat_id: int | None
    status: int
    description: str
    parameters: dict[str, Any] | None
    times: int
    page: bool = False


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None, *,
                 page: bool = False) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters
        self.page = page  # answered as a bare HTML error page (a proxy's), not the Bot API's JSON


_JSON_FIELDS = {"entities", "caption_entities", "reply_markup", "media", "link_preview_options",
                "allowed_updates", "commands", "scope", "reply_parameters"}
_INT_FIELDS = {"message_id", "message_thread_id", "offset", "limit", "timeout", "user_id", "cache_time"}
_BOOL_FIELDS = {"disable_notification", "protect_content", "show_alert", "drop_pending_updates",
                "disable_web_page_preview", "allow_sending_without_reply"}
SEND_METHODS = {"sendmessage", "sendphoto", "sendmediagroup"}


class FakeTelegram:
    """The fake server. Use as `async with FakeTelegram(token) as fake:`; `fake.base_url` for PTB."""

    def __init__(self, token: str = "123456:TEST-token_abcdefghijklmnopqrstuv", *, time_scale: float = 1.0,
                 flood: bool = True, bot_username: str = "digest_test_bot") -> None:
        self.token = token
        self.bot_id = int(token.split(":")[0]) if token.split(":")[0].isdigit() else 123456
        self.bot_username = bot_username
        self.flood = FloodControl(time_scale=time_scale)
        self.flood.enabled = flood
        self.chats: dict[int, FakeChat] = {}
        self.messages: list[FakeMessage] = []
        self.requests: list[FakeRequest] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._next_message: dict[int, int] = {}
        self._next_group = 1
        self._faults: list[_Fault] = []
        self._changed = asyncio.Condition()
        self._closing = False
        self.pollers = 0  # getUpdates calls waiting right now: the bot is listening
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """What PTB's `base_url` should be: requests go to `{base_url}{token}/{method}`."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ------------------------------------------------------------------ test API: world
    def add_chat(self, chat_id: int, type: str = "channel", *, username: str | None = None, title: str = "",
                 admins: tuple[int, ...] = (), is_forum: bool = False, topics: tuple[int, ...] = ()) -> FakeChat:
        chat = FakeChat(chat_id, type, title=title, username=username, admins=set(admins), is_forum=is_forum,
                        topics=set(topics))
        self.chats[chat_id] = chat
        return chat

    def kick(self, chat_id: int) -> None:
        """The bot is removed: every send to the chat now gets 403."""
        self.chats[chat_id].kicked = True

    def migrate(self, chat_id: int, new_id: int) -> FakeChat:
        """A group becomes a supergroup: sends to the old id get 400 + migrate_to_chat_id."""
        old = self.chats[chat_id]
        old.migrated_to = new_id
        return self.add_chat(new_id, "supergroup", username=old.username, title=old.title,
                             admins=tuple(old.admins))

    def fail(self, status: int, description: str, *, methods: tuple[str, ...] | None = None,
             chat_id: int | None = None, times: int = 1, parameters: dict[str, Any] | None = None) -> None:
        """Inject a fault: the next `times` matching calls answer `status` with `description`."""
        self._faults.append(_Fault({m.lower() for m in methods} if methods else None, chat_id, status,
                                   description, parameters, times))

    def error_page(self, status: int, body: str, *, methods: tuple[str, ...] | None = None, times: int = 1) -> None:
        """The next `times` matching calls answer a bare HTML page (as a proxy in front of the API would);
        "{path}" in `body` echoes the request path, token included."""
        self._faults.append(_Fault({m.lower() for m in methods} if methods else None, None, status, body, None,
                                   times, page=True))

    def flood_storm(self, times: int, retry_after: int = 1, *, chat_id: int | None = None) -> None:
        """The next `times` sends answer 429 whatever the pace (Telegram's "flood wait" spell)."""
        self.fail(429, f"Too Many Requests: retry after {retry_after}", methods=tuple(SEND_METHODS),
                  chat_id=chat_id, times=times, parameters={"retry_after": retry_after})

    # ------------------------------------------------------------------ test API: updates
    def push_update(self, update: dict[str, Any]) -> int:
        update = {"update_id": self._next_update, **update}
        self._next_update += 1
        self._updates.append(update)
        self._wake()
        return int(update["update_id"])

    def user_says(self, chat_id: int, text: str, *, user_id: int = 1001, first_name: str = "Ada",
                  language_code: str | None = "en", channel: bool = False) -> FakeMessage:
        """A user (or a channel admin) types `text`; a leading /command gets a bot_command entity."""
        chat = self.chats.get(chat_id) or self.add_chat(chat_id, "private" if chat_id > 0 else "group")
        message = self._store_message(chat, "userMessage", text=text, from_bot=False)
        data: dict[str, Any] = {"message_id": message.message_id, "date": int(time.time()),
                                "chat": chat.to_json(), "text": text}
        if channel or chat.type == "channel":
            data["sender_chat"] = chat.to_json()
        else:
            data["from"] = {"id": user_id, "is_bot": False, "first_name": first_name,
                            **({"language_code": language_code} if language_code else {})}
        command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if command:
            data["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))}]
        key = "channel_post" if chat.type == "channel" else "message"
        self.push_update({key: data})
        return message

    def press_button(self, message: FakeMessage, data: str, *, user_id: int = 1001,
                     language_code: str | None = "en") -> str:
        """A user presses an inline button under a bot message; returns the callback query id."""
        query_id = f"cq{self._next_update}"
        chat = self.chats[message.chat_id]
        self.push_update({"callback_query": {
            "id": query_id, "chat_instance": str(chat.id), "data": data,
            "from": {"id": user_id, "is_bot": False, "first_name": "Ada",
                     **({"language_code": language_code} if language_code else {})},
            "message": self._message_json(chat, message),
        }})
        return query_id

    # ------------------------------------------------------------------ test API: assertions
    def sent(self, chat_id: int | None = None) -> list[FakeMessage]:
        """Messages the bot sent (optionally to one chat), in order."""
        return [m for m in self.messages if m.from_bot and (chat_id is None or m.chat_id == chat_id)]

    def rejected(self) -> list[FakeRequest]:
        """Requests answered 400 (what must never happen to a rendered post)."""
        return [r for r in self.requests if r.status == 400]

    def calls(self, method: str) -> list[FakeRequest]:
        return [r for r in self.requests if r.method.lower() == method.lower()]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until `predicate()` is truthy (re-checked whenever the fake records something)."""
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._changed:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise TimeoutError("condition not met in time")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)

    # ------------------------------------------------------------------ HTTP
    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        params = await self._params(request)
        handler = getattr(self, f"_m_{method.lower()}", None)
        at = time.monotonic()
        if handler is None:
            self.requests.append(FakeRequest(method, params, 404, "Not Found", at))
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        try:
            result = await handler(params) if asyncio.iscoroutinefunction(handler) else handler(params)
        except ApiError as exc:
            # "{path}" in a description echoes the request path, token included, as some error pages do
            description = exc.description.replace("{path}", request.path)
            self.requests.append(FakeRequest(method, params, exc.status, description, at))
            self._wake()
            if exc.page:
                return web.Response(status=exc.status, text=description, content_type="text/html")
            body: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": description}
            if exc.parameters:
                body["parameters"] = exc.parameters
            return web.json_response(body, status=exc.status)
        self.requests.append(FakeRequest(method, params, 200, "", at))
        self._wake()
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        if request.content_type == "application/json":
            raw = await request.json()
        elif request.method == "POST":
            form = await request.post()
            raw = {k: (v if isinstance(v, str) else f"<upload {getattr(v, 'filename', '')}>")
                   for k, v in form.items()}
        raw.update({k: v for k, v in request.query.items() if k not in raw})
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if isinstance(value, str):
                try:
                    if key in _JSON_FIELDS:
                        value = json.loads(value)
                    elif key in _INT_FIELDS or (key == "chat_id" and re.fullmatch(r"-?\d+", value)):
                        value = int(value) if re.fullmatch(r"-?\d+", value) else float(value)
                    elif key in _BOOL_FIELDS:
                        value = json.loads(value)
                except ValueError as exc:
                    raise web.HTTPBadRequest(text=f"bad field {key}") from exc
            params[key] = value
        return params

    def _wake(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()
        asyncio.get_running_loop().create_task(notify())

    # ------------------------------------------------------------------ helpers
    def _chat(self, params: dict[str, Any]) -> FakeChat:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            chat = next((c for c in self.chats.values() if c.username and
                         c.username.lower() == chat_id[1:].lower()), None)
        else:
            chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _deliverable(self, method: str, params: dict[str, Any]) -> FakeChat:
        chat = self._chat(params)
        self._fault(method, chat.id)
        if chat.kicked:
            where = {"channel": "channel chat", "private": "user"}.get(chat.type, f"{chat.type} chat")
            text = "Forbidden: bot was blocked by the user" if chat.type == "private" else \
                f"Forbidden: bot was kicked from the {where}"
            raise ApiError(403, text)
        if chat.migrated_to is not None:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": chat.migrated_to})
        thread = params.get("message_thread_id")
        if thread is not None and (not chat.is_forum or thread not in chat.topics):
            raise ApiError(400, "Bad Request: message thread not found")
        return chat

    def _fault(self, method: str, chat_id: int | None) -> None:
        for fault in self._faults:
            if fault.times <= 0:
                continue
            if fault.methods is not None and method.lower() not in fault.methods:
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            fault.times -= 1
            raise ApiError(fault.status, fault.description, fault.parameters, page=fault.page)

    def _throttle(self, chat: FakeChat, weight: int = 1) -> None:
        retry = self.flood.admit(chat.id, chat.type != "private", weight)
        if retry is not None:
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})

    @staticmethod
    def _text(params: dict[str, Any], field_name: str, limit: int, *, required: bool) -> tuple[str, str, list[Any]]:
        raw = params.get(field_name)
        if raw is None or raw == "":
            if required:
                raise ApiError(400, "Bad Request: message text is empty")
            return "", "", []
        if not isinstance(raw, str):
            raise ApiError(400, f"Bad Request: field {field_name} must be a string")
        mode = str(params.get("parse_mode") or "").lower()
        try:
            if mode == "html":
                text, entities = parse_html(raw)
            elif mode:
                raise ApiError(400, f"Bad Request: unsupported parse_mode {mode!r} in this fake")
            else:
                text = raw
                key = "entities" if field_name == "text" else "caption_entities"
                entities = check_entities(text, params[key]) if key in params else []
        except EntityError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
        text, entities = _strip(text, entities)
        if not text and required:
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > limit:
            raise ApiError(400, "Bad Request: message is too long" if field_name == "text"
                           else "Bad Request: message caption is too long")
        return text, raw, entities

    @staticmethod
    def _buttons(params: dict[str, Any]) -> list[list[dict[str, Any]]] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        if not isinstance(rows, list):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in rows:
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
                data = button.get("callback_data")
                if data is None and not button.get("url"):
                    raise ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return rows

    def _store_message(self, chat: FakeChat, method: str, **fields: Any) -> FakeMessage:
        number = self._next_message.get(chat.id, 0) + 1
        self._next_message[chat.id] = number
        message = FakeMessage(chat_id=chat.id, message_id=number, method=method, at=time.monotonic(), **fields)
        self.messages.append(message)
        return message

    def _message_json(self, chat: FakeChat, message: FakeMessage) -> dict[str, Any]:
        data: dict[str, Any] = {"message_id": message.message_id, "date": int(time.time()), "chat": chat.to_json()}
        if message.from_bot:
            if chat.type == "channel":
                data["sender_chat"] = chat.to_json()
            else:
                data["from"] = {"id": self.bot_id, "is_bot": True, "first_name": "Digest",
                                "username": self.bot_username}
        if message.photo:
            data["photo"] = [{"file_id": f"photo{message.message_id}", "file_unique_id": f"u{message.message_id}",
                              "width": 800, "height": 600}]
            if message.text:
                data["caption"] = message.text
                data["caption_entities"] = message.entities
        else:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        if message.thread is not None:
            data["message_thread_id"] = message.thread
            data["is_topic_message"] = True
        if message.media_group_id:
            data["media_group_id"] = message.media_group_id
        if message.buttons:
            data["reply_markup"] = {"inline_keyboard": message.buttons}
        return data

    @staticmethod
    def _preview_disabled(params: dict[str, Any]) -> bool | None:
        options = params.get("link_preview_options")
        if isinstance(options, dict):
            return bool(options.get("is_disabled"))
        if "disable_web_page_preview" in params:
            return bool(params["disable_web_page_preview"])
        return None

    @staticmethod
    def _preview_url(params: dict[str, Any]) -> str | None:
        """The URL a preview is forced to; Telegram refuses one that is not an http(s) link."""
        options = params.get("link_preview_options")
        url = options.get("url") if isinstance(options, dict) else None
        if url is None:
            return None
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: invalid link preview URL")
        return url

    # ------------------------------------------------------------------ methods
    def _m_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        self._fault("getMe", None)  # e.g. `fail(502, "Bad Gateway: POST {path}", methods=("getMe",))`
        return {"id": self.bot_id, "is_bot": True, "first_name": "Digest", "username": self.bot_username,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    def _m_deletewebhook(self, params: dict[str, Any]) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _m_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    async def _m_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = asyncio.get_running_loop().time() + timeout
        self.pollers += 1
        self._wake()
        try:
            await self._long_poll(deadline)
        finally:
            self.pollers -= 1
        return self._updates[:limit]

    async def _long_poll(self, deadline: float) -> None:
        async with self._changed:
            while not self._updates and not self._closing:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    break

    def _m_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._deliverable("sendMessage", params)
        text, raw, entities = self._text(params, "text", TEXT_LIMIT, required=True)
        buttons = self._buttons(params)
        self._throttle(chat)
        message = self._store_message(
            chat, "sendMessage", text=text, html=raw, entities=entities, thread=params.get("message_thread_id"),
            silent=bool(params.get("disable_notification")), buttons=buttons,
            preview_disabled=self._preview_disabled(params), preview_url=self._preview_url(params))
        return self._message_json(chat, message)

    def _m_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._deliverable("sendPhoto", params)
        photo = params.get("photo")
        if not photo:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        text, raw, entities = self._text(params, "caption", CAPTION_LIMIT, required=False)
        buttons = self._buttons(params)
        self._throttle(chat)
        message = self._store_message(
            chat, "sendPhoto", text=text, html=raw, entities=entities, thread=params.get("message_thread_id"),
            silent=bool(params.get("disable_notification")), buttons=buttons, photo=str(photo))
        return self._message_json(chat, message)

    def _m_sendmediagroup(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._deliverable("sendMediaGroup", params)
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media in the group: must be 2-10")
        checked = []
        for entry in media:
            if not isinstance(entry, dict) or entry.get("type") != "photo" or not entry.get("media"):
                raise ApiError(400, "Bad Request: wrong media in the group")
            checked.append((entry["media"], *self._text(entry, "caption", CAPTION_LIMIT, required=False)))
        self._throttle(chat, weight=len(media))
        group = f"mg{self._next_group}"
        self._next_group += 1
        results = []
        for url, text, raw, entities in checked:
            message = self._store_message(
                chat, "sendMediaGroup", text=text, html=raw, entities=entities, photo=str(url),
                thread=params.get("message_thread_id"), silent=bool(params.get("disable_notification")),
                media_group_id=group)
            results.append(self._message_json(chat, message))
        return results

    def _find(self, params: dict[str, Any]) -> tuple[FakeChat, FakeMessage]:
        chat = self._chat(params)
        message_id = params.get("message_id")
        message = next((m for m in self.messages if m.chat_id == chat.id and m.message_id == message_id), None)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not message.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat, message

    def _m_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, message = self._find(params)
        self._fault("editMessageText", chat.id)
        if message.photo:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, raw, entities = self._text(params, "text", TEXT_LIMIT, required=True)
        buttons = self._buttons(params)
        if text == message.text and entities == message.entities and buttons == message.buttons:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                                "markup are exactly the same as a current content and reply markup of the message")
        message.edits.append(message.html)
        message.text, message.html, message.entities, message.buttons = text, raw, entities, buttons
        return self._message_json(chat, message)

    def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, message = self._find(params)
        buttons = self._buttons(params)
        if buttons == message.buttons:
            raise ApiError(400, "Bad Request: message is not modified")
        message.buttons = buttons
        return self._message_json(chat, message)

    def _m_answercallbackquery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        known = any(u.get("callback_query", {}).get("id") == query_id for u in self._updates) or \
            query_id.startswith("cq")
        if not known:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text", ""))) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = params
        return True

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        """(scope, language_code) of a *MyCommands call; like Telegram, the code is ISO 639-1 or empty."""
        code = params.get("language_code") or ""
        if not isinstance(code, str) or not re.fullmatch(r"(?:[a-z]{2})?", code):
            raise ApiError(400, "Bad Request: invalid language code specified")
        return json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True), code

    def _m_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list of at most 100")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        self.commands[key] = commands
        return True

    def _m_deletemycommands(self, params: dict[str, Any]) -> bool:
        key = self._commands_key(params)
        self.commands.pop(key, None)
        return True

    def _m_getmycommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        key = self._commands_key(params)
        return self.commands.get(key, [])

    def _m_getchatmember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        self._fault("getChatMember", chat.id)
        user_id = params.get("user_id")
        user = {"id": user_id, "is_bot": user_id == self.bot_id, "first_name": "Member"}
        if user_id == chat.owner:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in chat.admins:
            rights = dict.fromkeys((
                "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                "can_restrict_members", "can_promote_members", "can_change_info", "can_invite_users",
                "can_post_stories", "can_edit_stories", "can_delete_stories"), False)
            rights["can_manage_chat"] = True
            return {"status": "administrator", "user": user, **rights}
        return {"status": "member", "user": user}

    def _m_getchat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        return {**chat.to_json(), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                                        "premium_subscription": False, "gifts_from_channels": False}}

    def _m_sendchataction(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params)
        thread = params.get("message_thread_id")
        if thread is not None and (not chat.is_forum or thread not in chat.topics):
            raise ApiError(400, "Bad Request: message thread not found")
        return True

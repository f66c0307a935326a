"""A fake Discord (REST API v10 + JSON gateway) on 127.0.0.1 for end-to-end tests of the real discord.py.

It answers as Discord does where it matters to a client (as Discord's API documentation
describes it): exact `Content-Type: application/json`,
429 bodies with `retry_after`/`global`, `X-RateLimit-*` headers and a `Via` header,
`400 {"code":50035,"errors":…}` for messages outside the limits, `403 {"code":50001}` for
channels the bot may not post in, nonce + enforce_nonce deduplication. It records every
request, message, interaction callback and follow-up so tests assert what a user would see.

Rate limits are windows of configurable length, so a test (or the fan-out bench) can run
the real 5 msgs / 5 s per channel and 50 req/s global, or the same shape scaled down.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
import unicodedata
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

__all__ = ["DISCORD_LOCALES", "FakeDiscord", "Recorded", "connected_platform", "running_fake", "valid_command_name"]

TOKEN = "fake-discord-token"
_JSON: web.RequestKey[Any] = web.RequestKey("json", object)  # the parsed body: any JSON value
_EPOCH = 1420070400000
SUPPRESS_EMBEDS = 1 << 2
SUPPRESS_NOTIFICATIONS = 1 << 12
EPHEMERAL = 1 << 6
MANAGE_GUILD = 1 << 5
#: Locales Discord accepts as keys of `name_localizations` / `description_localizations` (no Arabic).
DISCORD_LOCALES = frozenset({
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl", "no", "pl",
    "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th", "zh-CN", "ja", "zh-TW",
    "ko"})


def valid_command_name(name: object) -> bool:
    """Discord's rule for command and option names: `^[-_\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$`, lowercase.

    Python's `re` has no `\\p{…}`: letters and numbers are Unicode categories L*/N*, and the
    Devanagari and Thai blocks stand in for those scripts (their vowel signs are marks).
    """
    if not isinstance(name, str) or not 1 <= len(name) <= 32 or name != name.lower():
        return False
    return all(ch in "-_" or unicodedata.category(ch)[0] in "LN" or "\u0900" <= ch <= "\u097f"
               or "\u0e00" <= ch <= "\u0e7f" for ch in name)


def _ulen(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class Recorded:
    """One request as the fake saw it."""

    method: str
    path: str
    status: int
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)
    at: float = 0.0


@dataclass
class _Bucket:
    start: float | None = None
    count: int = 0


class FakeDiscord:
    """Fake Discord server; `await start()`, point discord.py at `api_base` and `gateway_url`."""

    def __init__(self, *, channel_limit: int = 5, channel_window: float = 5.0, global_limit: int = 50,
                 global_window: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 guild_locale: str = "fr") -> None:
        self.channel_limit = channel_limit
        self.channel_window = channel_window
        self.global_limit = global_limit
        self.global_window = global_window
        self.clock = clock
        self._ids = itertools.count(1)
        self.app_id = self.snowflake()
        self.bot_user = {"id": self.app_id, "username": "digestbot", "discriminator": "0", "global_name": None,
                         "avatar": None, "bot": True, "flags": 0}
        self.guild_id = self.snowflake()
        self.guild_locale = guild_locale
        self.channels: dict[str, dict[str, Any]] = {}
        self.forbidden: set[str] = set()
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[Recorded] = []
        self.rejected: list[Recorded] = []
        self.rate_limited: list[Recorded] = []
        self.forbidden_hits: list[Recorded] = []
        self.pings: list[dict[str, Any]] = []
        self.role_pings: list[tuple[dict[str, Any], list[str]]] = []  # (message, the role ids it pinged)
        self.commands: list[dict[str, Any]] = []
        self.guild_commands: dict[str, list[dict[str, Any]]] = {}
        self.callbacks: dict[str, dict[str, Any]] = {}
        self.followups: list[dict[str, Any]] = []
        self.originals: dict[str, dict[str, Any]] = {}  # interaction token → original response message
        self.threads: dict[str, dict[str, Any]] = {}
        self.injected: deque[tuple[str | None, int, float, bool]] = deque()
        self._nonces: dict[tuple[str, str], dict[str, Any]] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._global_log: deque[float] = deque()
        self._sockets: list[web.WebSocketResponse] = []
        self._sequence = 0
        self._callback_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.identified = asyncio.Event()
        self.identifies = 0  # IDENTIFY frames accepted: one per (re)connection of a client
        self._interaction_channels: dict[str, str] = {}
        self._clicked: dict[str, dict[str, Any]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.response_delay = 0.0  # seconds between storing a created message and answering
        # view channel, send messages, embed links, create public threads, send messages in threads
        self.bot_permissions = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 35) | (1 << 38)
        self.default_channel = self.add_channel("digest")

    # ----------------------------------------------------------------------- setup
    def snowflake(self) -> str:
        """Snowflakes that discord.py can turn into timestamps."""
        ms = int(time.time() * 1000) - _EPOCH
        return str((ms << 22) + next(self._ids))

    def add_channel(self, name: str, *, forbidden: bool = False, deny: int = 0) -> str:
        """A text channel; `forbidden`: the bot cannot see it (403); `deny`: permission bits an
        @everyone overwrite denies there (the bot sees the channel but may not, e.g., post)."""
        channel_id = self.snowflake()
        overwrites = [{"id": self.guild_id, "type": 0, "allow": "0", "deny": str(deny)}] if deny else []
        self.channels[channel_id] = {"id": channel_id, "type": 0, "guild_id": self.guild_id, "name": name,
                                     "position": len(self.channels), "permission_overwrites": overwrites, "nsfw": False,
                                     "parent_id": None, "topic": None, "rate_limit_per_user": 0, "flags": 0,
                                     "last_message_id": None}
        self.messages[channel_id] = []
        if forbidden:
            self.forbidden.add(channel_id)
        return channel_id

    def inject_429(self, channel: str | None = None, *, count: int = 1, retry_after: float = 0.05,
                   is_global: bool = False) -> None:
        """The next `count` message creates (to `channel`, or any) answer 429 as Discord would."""
        for _ in range(count):
            self.injected.append((channel, 429, retry_after, is_global))

    def inject_status(self, status: int, channel: str | None = None, count: int = 1) -> None:
        """The next `count` message creates answer `status` (e.g. 503)."""
        for _ in range(count):
            self.injected.append((channel, status, 0.0, False))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> FakeDiscord:
        app = web.Application(middlewares=[self._record_middleware])
        api = "/api/v10"
        app.router.add_get("/gateway", self._gateway)
        routes = [
            ("GET", "/users/@me", self._users_me),
            ("GET", "/oauth2/applications/@me", self._application),
            ("GET", "/applications/@me", self._application),
            ("GET", "/gateway", self._gateway_info),
            ("GET", "/gateway/bot", self._gateway_info),
            ("PUT", "/applications/{app}/commands", self._put_commands),
            ("GET", "/applications/{app}/commands", self._get_commands),
            ("PUT", "/applications/{app}/guilds/{guild}/commands", self._put_commands),
            ("GET", "/applications/{app}/guilds/{guild}/commands", self._get_commands),
            ("GET", "/channels/{channel}", self._get_channel),
            ("GET", "/guilds/{guild}/roles", self._get_roles),
            ("GET", "/guilds/{guild}/members/{user}", self._get_member),
            ("POST", "/channels/{channel}/messages", self._create_message),
            ("GET", "/channels/{channel}/messages/{message}", self._get_message),
            ("PATCH", "/channels/{channel}/messages/{message}", self._edit_message),
            ("POST", "/channels/{channel}/messages/{message}/threads", self._create_thread),
            ("POST", "/interactions/{interaction}/{token}/callback", self._callback),
            ("POST", "/webhooks/{app}/{token}", self._followup),
            ("GET", "/webhooks/{app}/{token}/messages/{message}", self._get_webhook_message),
            ("PATCH", "/webhooks/{app}/{token}/messages/{message}", self._edit_webhook_message),
            ("DELETE", "/webhooks/{app}/{token}/messages/{message}", self._delete_webhook_message),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, api + path, handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ----------------------------------------------------------------------- plumbing
    @staticmethod
    def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        # Exactly "application/json": discord.py's json_or_text compares the header verbatim.
        return web.Response(body=json.dumps(data).encode(), status=status, headers={
            "Content-Type": "application/json", **(headers or {})})

    def _error(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> web.Response:
        body: dict[str, Any] = {"code": code, "message": message}
        if errors:
            body["errors"] = errors
        return self._json(body, status)

    @web.middleware
    async def _record_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/gateway":
            return await handler(request)  # type: ignore[no-any-return]
        body = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
        request[_JSON] = body
        interaction_route = "/interactions/" in request.path or "/webhooks/" in request.path
        if request.headers.get("Authorization") != f"Bot {TOKEN}" and not interaction_route:
            response: web.StreamResponse = self._error(401, 0, "401: Unauthorized")
        elif not interaction_route and (limited := self._global_check()) is not None:
            response = limited
        else:
            response = await handler(request)
        record = Recorded(request.method, request.path, response.status, body, dict(request.query), self.clock())
        self.requests.append(record)
        if response.status == 429:
            self.rate_limited.append(record)
        elif response.status == 400:
            self.rejected.append(record)
        elif response.status == 403:
            self.forbidden_hits.append(record)
        return response

    def _global_check(self) -> web.Response | None:
        """50 requests per second (sliding), like Discord's global limit; interactions are exempt."""
        now = self.clock()
        log = self._global_log
        while log and log[0] <= now - self.global_window:
            log.popleft()
        if len(log) >= self.global_limit:
            retry = max(0.001, log[0] + self.global_window - now)
            return self._json({"message": "You are being rate limited.", "retry_after": round(retry, 3),
                               "global": True}, 429,
                              {"Retry-After": str(max(1, int(retry + 0.999))), "X-RateLimit-Global": "true",
                               "X-RateLimit-Scope": "global", "Via": "1.1 google"})
        log.append(now)
        return None

    def _channel_bucket(self, channel: str) -> tuple[web.Response | None, dict[str, str]]:
        """POST /channels/{id}/messages: `channel_limit` per `channel_window`, fixed window as Discord."""
        now = self.clock()
        bucket = self._buckets.setdefault(channel, _Bucket())
        if bucket.start is None or now >= bucket.start + self.channel_window:
            bucket.start, bucket.count = now, 0
        reset_after = bucket.start + self.channel_window - now
        headers = {"X-RateLimit-Limit": str(self.channel_limit), "X-RateLimit-Bucket": f"msg-{channel[-6:]}",
                   "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                   "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}"}
        if bucket.count >= self.channel_limit:
            headers.update({"X-RateLimit-Remaining": "0", "X-RateLimit-Scope": "user", "Via": "1.1 google",
                            "Retry-After": str(max(1, int(reset_after + 0.999)))})
            return self._json({"message": "You are being rate limited.", "retry_after": round(reset_after, 3),
                               "global": False}, 429, headers), headers
        bucket.count += 1
        headers["X-RateLimit-Remaining"] = str(self.channel_limit - bucket.count)
        return None, headers

    def _injected_failure(self, channel: str) -> web.Response | None:
        if not self.injected:
            return None
        target, status, retry_after, is_global = self.injected[0]
        if target is not None and target != channel:
            return None
        self.injected.popleft()
        if status == 429:
            headers = {"Via": "1.1 google", "Retry-After": str(max(1, int(retry_after + 0.999))),
                       "X-RateLimit-Scope": "global" if is_global else "shared"}
            if is_global:
                headers["X-RateLimit-Global"] = "true"
            return self._json({"message": "You are being rate limited.", "retry_after": retry_after,
                               "global": is_global}, 429, headers)
        return self._error(status, 0, f"{status}: injected failure")

    # ----------------------------------------------------------------------- validation
    @staticmethod
    def _too_long(limit: int) -> dict[str, Any]:
        return {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}]}

    def validate_message(self, body: Any, *, creating: bool = True) -> dict[str, Any]:
        """Discord's checks on a message payload; returns the `errors` tree (empty when valid)."""
        errors: dict[str, Any] = {}
        if not isinstance(body, dict):
            return {"_errors": [{"code": "DICT_TYPE_CONVERT", "message": "Only dictionaries may be used."}]}
        content = body.get("content")
        if content is not None and (not isinstance(content, str) or _ulen(content) > 2000):
            errors["content"] = self._too_long(2000)
        embeds = body.get("embeds") or []
        if len(embeds) > 10:
            errors["embeds"] = self._too_long(10)
        total = 0
        for index, embed in enumerate(embeds[:10]):
            problems: dict[str, Any] = {}
            for key, limit in (("title", 256), ("description", 4096)):
                value = embed.get(key)
                if value is not None:
                    total += _ulen(value)
                    if _ulen(value) > limit:
                        problems[key] = self._too_long(limit)
            for key, sub, limit in (("footer", "text", 2048), ("author", "name", 256)):
                value = (embed.get(key) or {}).get(sub)
                if value is not None:
                    total += _ulen(value)
                    if _ulen(value) > limit:
                        problems[key] = {sub: self._too_long(limit)}
                    if not value.strip():
                        problems[key] = {sub: {"_errors": [{"code": "BASE_TYPE_REQUIRED",
                                                            "message": "This field is required"}]}}
            fields = embed.get("fields") or []
            if len(fields) > 25:
                problems["fields"] = self._too_long(25)
            for field_ in fields:
                total += _ulen(field_.get("name", "")) + _ulen(field_.get("value", ""))
                if _ulen(field_.get("name", "")) > 256 or _ulen(field_.get("value", "")) > 1024:
                    problems["fields"] = self._too_long(1024)
            for key in ("url",):
                if embed.get(key) and not str(embed[key]).startswith(("http://", "https://")):
                    problems[key] = {"_errors": [{"code": "URL_TYPE_INVALID_URL", "message": "Not a well formed URL."}]}
            for key in ("image", "thumbnail"):
                url = (embed.get(key) or {}).get("url")
                if url is not None and not str(url).startswith(("http://", "https://", "attachment://")):
                    problems[key] = {"url": {"_errors": [{"code": "URL_TYPE_INVALID_URL",
                                                           "message": "Scheme must be one of ('http', 'https')."}]}}
            color = embed.get("color")
            if color is not None and not (isinstance(color, int) and 0 <= color <= 0xFFFFFF):
                problems["color"] = {"_errors": [{"code": "NUMBER_TYPE_MAX", "message": "int value out of range"}]}
            if not any(embed.get(k) for k in ("title", "description", "fields", "image", "thumbnail",
                                                "footer", "author")):
                problems["_errors"] = [{"code": "EMBED_EMPTY", "message": "Embed is empty."}]
            if problems:
                errors.setdefault("embeds", {})[str(index)] = problems
        if total > 6000:
            errors.setdefault("embeds", {})["_errors"] = [
                {"code": "MAX_EMBED_SIZE_EXCEEDED", "message": "Embed size exceeds maximum size of 6000"}]
        nonce = body.get("nonce")
        if nonce is not None and (not isinstance(nonce, str | int) or len(str(nonce)) > 25):
            errors["nonce"] = self._too_long(25)
        flags = body.get("flags") or 0
        if flags & ~(SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | EPHEMERAL):
            errors["flags"] = {"_errors": [{"code": "MESSAGE_FLAGS_INVALID", "message": "Invalid flags"}]}
        mentions = body.get("allowed_mentions")
        if mentions is not None and set(mentions.get("parse", [])) - {"users", "roles", "everyone"}:
            errors["allowed_mentions"] = {"_errors": [{"code": "ENUM", "message": "bad parse value"}]}
        if mentions is not None and "roles" in mentions.get("parse", []) and mentions.get("roles"):
            errors["allowed_mentions"] = {"_errors": [{"code": "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                                                       "message": "roles in parse and roles list are exclusive"}]}
        if mentions is not None and len(mentions.get("roles") or ()) > 100:
            errors["allowed_mentions"] = {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "at most 100"}]}
        if creating and not errors and not (content or "").strip() and not embeds and not body.get("components"):
            errors["_empty"] = True
        return errors

    def _reject(self, errors: dict[str, Any]) -> web.Response:
        if errors.pop("_empty", None):
            return self._error(400, 50006, "Cannot send an empty message")
        return self._error(400, 50035, "Invalid Form Body", errors)

    def _pings(self, body: dict[str, Any]) -> bool:
        """Would this message ping @everyone/@here? Only content pings, and only if allowed_mentions lets it."""
        content = body.get("content") or ""
        if "@everyone" not in content and "@here" not in content:
            return False
        mentions = body.get("allowed_mentions")
        return mentions is None or "everyone" in mentions.get("parse", [])

    @staticmethod
    def _role_pings(body: dict[str, Any]) -> list[str]:
        """Roles a message pings: mentioned in its content (`<@&id>`) and let through by allowed_mentions."""
        mentioned = re.findall(r"<@&(\d{17,20})>", body.get("content") or "")
        mentions = body.get("allowed_mentions")
        if mentions is None or "roles" in mentions.get("parse", []):
            return list(dict.fromkeys(mentioned))
        allowed = {str(role) for role in mentions.get("roles") or ()}
        return list(dict.fromkeys(role for role in mentioned if role in allowed))

    def _message(self, channel: str, body: dict[str, Any], *, author: dict[str, Any] | None = None,
                 webhook: bool = False) -> dict[str, Any]:
        message_id = self.snowflake()
        pinged = self._pings(body)
        roles = self._role_pings(body)
        message = {
            "id": message_id, "channel_id": channel, "guild_id": self.guild_id, "type": 0,
            "content": body.get("content") or "", "author": author or self.bot_user, "attachments": [],
            "embeds": body.get("embeds") or [], "mentions": [], "mention_roles": roles, "pinned": False,
            "mention_everyone": pinged, "tts": bool(body.get("tts")), "timestamp": _now_iso(),
            "edited_timestamp": None, "flags": (body.get("flags") or 0), "components": body.get("components") or [],
            "nonce": body.get("nonce"), "allowed_mentions": body.get("allowed_mentions"),
        }
        if webhook:
            message["webhook_id"] = self.app_id
            message["application_id"] = self.app_id
        if pinged:
            self.pings.append(message)
        if roles:
            self.role_pings.append((message, roles))
        return message

    # ----------------------------------------------------------------------- REST handlers
    async def _users_me(self, request: web.Request) -> web.Response:
        return self._json(self.bot_user)

    async def _application(self, request: web.Request) -> web.Response:
        return self._json({"id": self.app_id, "name": "digestbot", "description": "", "icon": None,
                           "bot_public": False, "bot_require_code_grant": False, "owner": self.bot_user,
                           "verify_key": "00", "flags": 0, "summary": "", "team": None, "bot": self.bot_user})

    async def _gateway_info(self, request: web.Request) -> web.Response:
        return self._json({"url": self.gateway_url, "shards": 1, "session_start_limit": {
            "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})

    async def _put_commands(self, request: web.Request) -> web.Response:
        body = request[_JSON] or []
        stored: list[dict[str, Any]] = []
        for index, command in enumerate(body):
            errors = self.validate_command(command)
            if errors:
                return self._error(400, 50035, "Invalid Form Body", {str(index): errors})
            stored.append({"id": self.snowflake(), "application_id": self.app_id, "version": self.snowflake(),
                           "type": command.get("type", 1), "default_member_permissions": None,
                           "dm_permission": True, "nsfw": False, "options": [], **command,
                           **({"guild_id": request.match_info["guild"]} if "guild" in request.match_info else {})})
        for command in stored:  # Discord answers permissions as a string
            if command.get("default_member_permissions") is not None:
                command["default_member_permissions"] = str(command["default_member_permissions"])
        if "guild" in request.match_info:
            self.guild_commands[request.match_info["guild"]] = stored
        else:
            self.commands = stored
        return self._json(stored)

    def validate_command(self, command: dict[str, Any], *, option: bool = False) -> dict[str, Any]:
        """Discord's checks on one application command (and its options): the `errors` tree, empty if valid.

        Names and their localizations must match `valid_command_name`, descriptions and theirs be
        1–100 characters, localization keys be Discord locales.
        """
        errors: dict[str, Any] = {}
        invalid = {"_errors": [{"code": "APPLICATION_COMMAND_INVALID_NAME", "message": "Command name is invalid"}]}
        if not valid_command_name(command.get("name")):
            errors["name"] = invalid
        description = command.get("description", "")
        if (option or command.get("type", 1) == 1) and not 1 <= len(description) <= 100:
            errors["description"] = self._too_long(100)
        for field_name, check in (("name_localizations", valid_command_name),
                                  ("description_localizations", lambda text: 1 <= len(str(text)) <= 100)):
            problems: dict[str, Any] = {}
            for locale, text in (command.get(field_name) or {}).items():
                if locale not in DISCORD_LOCALES:
                    problems[locale] = {"_errors": [{"code": "LOCALE_INVALID", "message": "Invalid locale"}]}
                elif not check(text):
                    problems[locale] = invalid if field_name == "name_localizations" else self._too_long(100)
            if problems:
                errors[field_name] = problems
        options: dict[str, Any] = {}
        for index, sub_option in enumerate(command.get("options") or ()):
            problems = self.validate_command(sub_option, option=True)
            if problems:
                options[str(index)] = problems
        if options:
            errors["options"] = options
        return errors

    async def _get_commands(self, request: web.Request) -> web.Response:
        if "guild" in request.match_info:
            return self._json(self.guild_commands.get(request.match_info["guild"], []))
        return self._json(self.commands)

    def _channel_or_error(self, channel: str) -> web.Response | None:
        if channel not in self.channels:
            return self._error(404, 10003, "Unknown Channel")
        if channel in self.forbidden:
            return self._error(403, 50001, "Missing Access")
        return None

    def _bot_role(self) -> dict[str, Any]:
        """The managed role Discord gives a bot when it joins with the invite's permissions."""
        return {"id": f"{self.guild_id}0", "name": "digestbot", "permissions": str(self.bot_permissions),
                "position": 1, "color": 0, "hoist": False, "managed": True, "mentionable": False, "flags": 0,
                "tags": {"bot_id": self.app_id}}

    async def _get_roles(self, request: web.Request) -> web.Response:
        if request.match_info["guild"] != self.guild_id:
            return self._error(404, 10004, "Unknown Guild")
        return self._json([*self.guild_payload()["roles"], self._bot_role()])

    async def _get_member(self, request: web.Request) -> web.Response:
        if request.match_info["guild"] != self.guild_id:
            return self._error(404, 10004, "Unknown Guild")
        if request.match_info["user"] != self.bot_user["id"]:
            return self._error(404, 10007, "Unknown Member")
        return self._json({**self.guild_payload()["members"][0], "roles": [self._bot_role()["id"]]})

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        return self._channel_or_error(channel) or self._json(self.channels[channel])

    async def _create_message(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        if (failure := self._channel_or_error(channel)) is not None:
            return failure
        if (failure := self._injected_failure(channel)) is not None:
            return failure
        limited, headers = self._channel_bucket(channel)
        if limited is not None:
            return limited
        body = request[_JSON]
        errors = self.validate_message(body)
        if errors:
            return self._reject(errors)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            existing = self._nonces.get((channel, str(nonce)))
            if existing is not None:
                return self._json(existing, headers=headers)
        message = self._message(channel, body)
        self.messages[channel].append(message)
        if nonce is not None:
            self._nonces[(channel, str(nonce))] = message
        if self.response_delay:  # posted, but the answer is slow: the window in which a crash hurts
            await asyncio.sleep(self.response_delay)
        return self._json(message, headers=headers)

    def _find(self, channel: str, message_id: str) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(channel, []) if m["id"] == message_id), None)

    async def _get_message(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        if (failure := self._channel_or_error(channel)) is not None:
            return failure
        message = self._find(channel, request.match_info["message"])
        return self._json(message) if message else self._error(404, 10008, "Unknown Message")

    async def _edit_message(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        if (failure := self._channel_or_error(channel)) is not None:
            return failure
        message = self._find(channel, request.match_info["message"])
        if message is None:
            return self._error(404, 10008, "Unknown Message")
        body = request[_JSON] or {}
        errors = self.validate_message({**{k: message[k] for k in ("content", "embeds")}, **body}, creating=False)
        if errors:
            return self._reject(errors)
        for key in ("content", "embeds", "flags", "allowed_mentions"):
            if key in body:
                message[key] = body[key] if body[key] is not None else ("" if key == "content" else [])
        message["edited_timestamp"] = _now_iso()
        message.setdefault("edits", 0)
        message["edits"] = message["edits"] + 1
        return self._json(message)

    async def _create_thread(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        if (failure := self._channel_or_error(channel)) is not None:
            return failure
        message_id = request.match_info["message"]
        if self._find(channel, message_id) is None:
            return self._error(404, 10008, "Unknown Message")
        if message_id in self.threads:
            return self._error(400, 160004, "A thread has already been created for this message")
        body = request[_JSON] or {}
        name = body.get("name", "")
        if not (1 <= len(name) <= 100):
            return self._error(400, 50035, "Invalid Form Body", {"name": self._too_long(100)})
        thread = {"id": message_id, "type": 11, "guild_id": self.guild_id, "parent_id": channel, "name": name,
                  "owner_id": self.app_id, "message_count": 0, "member_count": 1, "rate_limit_per_user": 0,
                  "flags": 0, "last_message_id": None, "total_message_sent": 0,
                  "thread_metadata": {"archived": False, "auto_archive_duration": body.get(
                      "auto_archive_duration", 1440), "archive_timestamp": _now_iso(), "locked": False}}
        self.threads[message_id] = thread
        self.channels[message_id] = thread
        self.messages[message_id] = []
        return self._json(thread, 201)

    # ----------------------------------------------------------------------- interactions
    async def _callback(self, request: web.Request) -> web.Response:
        interaction_id = request.match_info["interaction"]
        token = request.match_info["token"]
        body = request[_JSON] or {}
        if interaction_id in self.callbacks:
            return self._error(400, 40060, "Interaction has already been acknowledged.")
        kind = body.get("type")
        data = body.get("data") or {}
        if kind == 4:
            errors = self.validate_message(data)
            if errors:
                return self._reject(errors)
        if kind == 8 and len(data.get("choices", [])) > 25:
            return self._error(400, 50035, "Invalid Form Body", {"choices": self._too_long(25)})
        record = {"interaction_id": interaction_id, "token": token, "type": kind, "data": data,
                  "query": dict(request.query), "at": self.clock()}
        self.callbacks[interaction_id] = record
        waiter = self._callback_waiters.pop(interaction_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(record)
        response: dict[str, Any] = {"interaction": {
            "id": interaction_id, "type": 2,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool((data.get("flags") or 0) & EPHEMERAL)}}
        if kind == 7:  # UPDATE_MESSAGE: the clicked message changes in place
            errors = self.validate_message(data, creating=False)
            if errors:
                return self._reject(errors)
            target = self._clicked.get(interaction_id)
            if target is not None:
                for key in ("content", "embeds", "components"):
                    if key in data:
                        target[key] = data[key]
                target["edited_timestamp"] = _now_iso()
                record["message"] = target
        if kind in (4, 5):
            channel = self._interaction_channels.get(interaction_id, self.default_channel)
            message = self._message(channel, data if kind == 4 else {"content": "", "flags": data.get("flags")},
                                    webhook=True)
            record["message"] = message
            self.originals[token] = message
            response["interaction"]["response_message_id"] = message["id"]
            response["resource"] = {"type": kind, "message": message}
        if request.query.get("with_response") in ("1", "true", "True"):
            return self._json(response)
        return web.Response(status=204)

    async def _followup(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        body = request[_JSON] or {}
        errors = self.validate_message(body)
        if errors:
            return self._reject(errors)
        channel = self.originals.get(token, {}).get("channel_id", self.default_channel)
        message = self._message(channel, body, webhook=True)
        message["interaction_token"] = token
        self.followups.append(message)
        return self._json(message)

    def _webhook_target(self, token: str, message_id: str) -> dict[str, Any] | None:
        if message_id == "@original":
            return self.originals.get(token)
        return next((m for m in self.followups if m["id"] == message_id), None)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        message = self._webhook_target(request.match_info["token"], request.match_info["message"])
        return self._json(message) if message else self._error(404, 10008, "Unknown Message")

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        message = self._webhook_target(request.match_info["token"], request.match_info["message"])
        if message is None:
            return self._error(404, 10008, "Unknown Message")
        body = request[_JSON] or {}
        errors = self.validate_message(body, creating=False)
        if errors:
            return self._reject(errors)
        for key in ("content", "embeds", "flags"):
            if key in body and body[key] is not None:
                message[key] = body[key]
        message["edited_timestamp"] = _now_iso()
        return self._json(message)

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        token, message_id = request.match_info["token"], request.match_info["message"]
        message = self._webhook_target(token, message_id)
        if message is None:
            return self._error(404, 10008, "Unknown Message")
        message["deleted"] = True
        return web.Response(status=204)

    # ----------------------------------------------------------------------- gateway
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        # Text frames: discord.py only inflates binary (zlib-stream) frames.
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None}))
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                payload = json.loads(frame.data)
                op = payload.get("op")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
                elif op == 2:
                    if payload["d"].get("token") != TOKEN:
                        await ws.close(code=4004, message=b"Authentication failed.")
                        break
                    await self._dispatch(ws, "READY", {
                        "v": 10, "user": self.bot_user, "guilds": [{"id": self.guild_id, "unavailable": True}],
                        "session_id": "fake-session", "resume_gateway_url": self.gateway_url,
                        "application": {"id": self.app_id, "flags": 0}, "private_channels": [],
                        "relationships": [], "presences": []})
                    await self._dispatch(ws, "GUILD_CREATE", self.guild_payload())
                    self.identifies += 1
                    self.identified.set()
                elif op == 6:
                    await self._dispatch(ws, "RESUMED", {})
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
        return ws

    async def drop_gateway(self, code: int = 4011) -> None:
        """Close every gateway connection with `code`; 4011 (sharding required) is one discord.py
        does not resume from: its `connect()` raises, as after a real unrecoverable outage."""
        for ws in list(self._sockets):
            await ws.close(code=code, message=b"Sharding required.")

    def guild_payload(self) -> dict[str, Any]:
        return {
            "id": self.guild_id, "name": "Fake guild", "unavailable": False, "member_count": 2, "large": False,
            "owner_id": self.snowflake(), "preferred_locale": self.guild_locale, "features": [], "emojis": [],
            "stickers": [], "voice_states": [], "presences": [], "stage_instances": [],
            "guild_scheduled_events": [], "soundboard_sounds": [], "premium_tier": 0,
            "verification_level": 0, "system_channel_flags": 0, "joined_at": _now_iso(), "icon": None,
            "afk_timeout": 300, "nsfw_level": 0, "mfa_level": 0, "explicit_content_filter": 0,
            "default_message_notifications": 0,
            "roles": [{"id": self.guild_id, "name": "@everyone", "permissions": str((1 << 11) | (1 << 10)),
                       "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False,
                       "flags": 0}],
            "members": [{"user": self.bot_user, "roles": [], "joined_at": _now_iso(), "deaf": False,
                         "mute": False, "flags": 0}],
            "channels": [c for c in self.channels.values() if c.get("type") == 0],
            "threads": list(self.threads.values()),
        }

    async def _dispatch(self, ws: web.WebSocketResponse, event: str, data: Any) -> None:
        self._sequence += 1
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": self._sequence, "d": data}))

    def member(self, *, admin: bool = False, name: str = "alice", permissions: int | None = None) -> dict[str, Any]:
        """A guild member as an interaction carries it; `permissions` (a bit field) overrides `admin`'s."""
        if permissions is None:
            permissions = (1 << 11) | (1 << 10) | (MANAGE_GUILD if admin else 0)
        user = {"id": self.snowflake(), "username": name, "discriminator": "0", "global_name": name,
                "avatar": None}
        return {"user": user, "roles": [], "joined_at": _now_iso(), "deaf": False, "mute": False, "flags": 0,
                "permissions": str(permissions)}

    async def interact(self, name: str, options: list[dict[str, Any]] | None = None, *, kind: int = 2,
                       channel: str | None = None, admin: bool = False, locale: str = "fr",
                       timeout: float = 5.0, permissions: int | None = None) -> dict[str, Any]:
        """Send an INTERACTION_CREATE (2 = slash command, 4 = autocomplete) and wait for its callback.

        Returns:
            The recorded callback: `type` (4 message, 5 deferred, 8 autocomplete), `data`, `message`.
        """
        channel = channel or self.default_channel
        command = next((c for c in self.commands if c["name"] == name), None)
        interaction_id = self.snowflake()
        token = f"itoken-{interaction_id}"
        self._interaction_channels[interaction_id] = channel
        payload = {
            "id": interaction_id, "application_id": self.app_id, "type": kind, "token": token, "version": 1,
            "attachment_size_limit": 8 * 1024 * 1024, "guild_id": self.guild_id, "channel_id": channel,
            "channel": self.channels.get(channel, {"id": channel, "type": 0}), "locale": locale,
            "guild_locale": self.guild_locale, "app_permissions": str((1 << 11) | (1 << 10)),
            "member": self.member(admin=admin, permissions=permissions), "entitlements": [],
            "authorizing_integration_owners": {}, "context": 0,
            "data": {"id": command["id"] if command else self.snowflake(), "name": name, "type": 1,
                     "options": options or []},
        }
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._callback_waiters[interaction_id] = waiter
        if not self._sockets:
            raise RuntimeError("no gateway connection: start the bot first")
        await self._dispatch(self._sockets[-1], "INTERACTION_CREATE", payload)
        return await asyncio.wait_for(waiter, timeout)

    async def click(self, message: dict[str, Any], custom_id: str, *, timeout: float = 5.0) -> dict[str, Any]:
        """Press a button of `message` (a MESSAGE_COMPONENT interaction) and wait for the callback."""
        interaction_id = self.snowflake()
        channel = message.get("channel_id", self.default_channel)
        self._interaction_channels[interaction_id] = channel
        self._clicked[interaction_id] = message
        payload = {
            "id": interaction_id, "application_id": self.app_id, "type": 3, "token": f"itoken-{interaction_id}",
            "version": 1, "attachment_size_limit": 8 * 1024 * 1024, "guild_id": self.guild_id,
            "channel_id": channel, "channel": self.channels.get(channel, {"id": channel, "type": 0}),
            "locale": "fr", "guild_locale": self.guild_locale, "app_permissions": "0",
            "member": self.member(), "entitlements": [], "authorizing_integration_owners": {}, "context": 0,
            "message": message, "data": {"custom_id": custom_id, "component_type": 2},
        }
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._callback_waiters[interaction_id] = waiter
        await self._dispatch(self._sockets[-1], "INTERACTION_CREATE", payload)
        return await asyncio.wait_for(waiter, timeout)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Poll `predicate` until it holds (follow-ups arrive after the callback)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met in time")
            await asyncio.sleep(0.01)

    # ----------------------------------------------------------------------- assertions helpers
    def channel_messages(self, channel: str) -> list[dict[str, Any]]:
        return list(self.messages.get(channel, []))

    def requests_to(self, method: str, fragment: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and fragment in r.path]


# --------------------------------------------------------------------------- test set-up helpers
@contextlib.asynccontextmanager
async def running_fake(**limits: Any) -> AsyncIterator[FakeDiscord]:
    """A running fake (short windows by default: 5 msgs / 0.5 s per channel, 50 / 0.1 s global).

    Clients reach it through their constructor (`api_base_url`, `gateway_url`): nothing global is patched.
    """
    fake = await FakeDiscord(**{"channel_window": 0.5, "global_window": 0.1, **limits}).start()
    try:
        yield fake
    finally:
        await fake.close()


@contextlib.asynccontextmanager
async def connected_platform(fake: FakeDiscord, **options: Any) -> AsyncIterator[Any]:
    """A connected Discord `Adapter` (real discord.py) on `fake`, paced to the fake's windows."""
    adapter = fake_adapter(fake, **options)
    await adapter.sender.start()
    try:
        yield adapter
    finally:
        await adapter.close()


def fake_adapter(fake: FakeDiscord, token: str = TOKEN, **options: Any) -> Any:
    """The Discord adapter pointed at `fake` (not started), paced to the fake's windows."""
    from adapters.discord import Pacer, discord_adapter

    settings = {"pacer": Pacer(global_limit=48, global_window=fake.global_window,
                               channel_limit=fake.channel_limit, channel_window=fake.channel_window),
                "guild_ready_timeout": 0.01, "ready_timeout": 10.0, **options}
    return discord_adapter(token, api_base_url=fake.api_base, gateway_url=fake.gateway_url, **settings)

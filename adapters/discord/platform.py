"""`DiscordSender`: posts and edits on Discord (discord.py 2.7), on the one lifecycle base.

One `ext_commands.Bot` per connection does REST sends for the scheduler (paced by `Pacer`
through the base's pacing hook, errors mapped by `adapters.discord.errors`) and holds the
gateway connection that `DiscordCommands` serves slash commands on. Every send carries a
nonce derived from the outbox key with `enforce_nonce`, so a resend after a timeout or
crash returns the first message instead of posting a duplicate. A fresh client is built at
every `start` (close → start works any number of times; `generation` counts them).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import discord
from discord.ext import commands as ext_commands

from adapters.base import Connection
from adapters.discord.errors import delivery_error, token_refused
from adapters.discord.pacing import Pacer
from adapters.discord.payloads import DiscordPayload, ThreadSpec, payload_of
from adapters.discord.render import SUPPRESS_NOTIFICATIONS
from adapters.discord.routing import DEFAULT_API_BASE, Routes, route_client
from bot.core.errors import DeliveryError
from bot.ports import Destination, Rendered, Sent

__all__ = ["DEFAULT_API_BASE", "DiscordSender", "message_kwargs", "nonce_for"]

log = logging.getLogger(__name__)

_NONCE_LENGTH = 25  # Discord's maximum


def nonce_for(key: str) -> str:
    """A ≤ 25-character nonce that is the same every time for the same outbox key."""
    if 0 < len(key) <= _NONCE_LENGTH:
        return key
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:_NONCE_LENGTH]


def allowed_mentions(payload: DiscordPayload) -> discord.AllowedMentions:
    """Nobody, except the one role a destination opted in to ping (`mention_role`, set by the renderer)."""
    role = payload.get("mention_role") or ""
    if not role.isdigit():
        return discord.AllowedMentions.none()
    return discord.AllowedMentions(everyone=False, users=False, roles=[discord.Object(id=int(role))],
                                   replied_user=False)


def message_kwargs(payload: DiscordPayload) -> dict[str, Any]:
    """A payload → keyword arguments of discord.py's send/edit (pings nobody but an opted-in role)."""
    return {"allowed_mentions": allowed_mentions(payload), "content": payload.get("content") or None,
            "embeds": [discord.Embed.from_dict(dict(e)) for e in payload.get("embeds", ())]}


class DiscordSender(Connection[DiscordPayload]):
    """Delivers rendered Discord messages (see `bot.ports.Sender`).

    Args:
        token: the bot token (redacted from every error and log line).
        api_base_url: REST base; another value points this client at a proxy or a fake (the test seam).
        gateway_url: gateway to connect to ("" = Discord's).
        application_id: optional; discord.py learns it at login otherwise.
        pacer: shared global/per-channel pacing (a default one: 48 req/s, 5 msgs/5 s/channel).
        max_ratelimit_timeout: longer rate-limit waits become `RetryLater` for the outbox.
        guild_ready_timeout: discord.py's wait after the last GUILD_CREATE before "ready".
        ready_timeout: how long `start` waits for the gateway to be ready.
        token_key, token_source: how a refused token is reported (`discord.token_env`, `$DISCORD_BOT_TOKEN`).
    """

    def __init__(self, token: str, *, api_base_url: str = DEFAULT_API_BASE, gateway_url: str = "",
                 application_id: str | None = None, pacer: Pacer | None = None,
                 max_ratelimit_timeout: float = 30.0, guild_ready_timeout: float = 2.0,
                 ready_timeout: float = 60.0, token_key: str = "discord.token_env",
                 token_source: str = "$DISCORD_BOT_TOKEN") -> None:
        super().__init__("discord", secrets=(token,), token_key=token_key, token_source=token_source)
        self._token = token
        self.routes = Routes(api_base_url, gateway_url)
        self.application_id = int(application_id) if application_id else None
        self.pacer = pacer or Pacer()
        self.max_ratelimit_timeout = max_ratelimit_timeout
        self.guild_ready_timeout = guild_ready_timeout
        self.ready_timeout = ready_timeout
        self.client: ext_commands.Bot | None = None
        self.connection: asyncio.Task[None] | None = None  # the gateway loop; ends when the connection does
        self._guilds: dict[int, int | None] = {}
        self._threads: dict[tuple[int, str], int] = {}
        self._names: dict[int, str] = {}  # channel id → "#name", learnt with its guild (the panel shows it)
        self._thread_locks: dict[tuple[int, str], asyncio.Lock] = {}

    def __repr__(self) -> str:  # never show the token
        return f"DiscordSender(api_base_url={self.routes.api_base!r})"

    # ----------------------------------------------------------------------- lifecycle (wire calls)
    async def _connect(self) -> None:
        """Log in (REST) and connect the gateway; returns once the guild cache is ready."""
        intents = discord.Intents.none()
        intents.guilds = True
        extra: dict[str, Any] = {"application_id": self.application_id} if self.application_id else {}
        client = ext_commands.Bot(command_prefix=ext_commands.when_mentioned, intents=intents, help_command=None,
                                  allowed_mentions=discord.AllowedMentions.none(),
                                  max_ratelimit_timeout=self.max_ratelimit_timeout,
                                  guild_ready_timeout=self.guild_ready_timeout, **extra)
        self.client = client
        context = route_client(client.http, self.routes)
        await client.login(self._token)
        self.connection = asyncio.create_task(client.connect(reconnect=True), name="discord-gateway",
                                              context=context)
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait({ready, self.connection}, timeout=self.ready_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            failure = self.connection.exception() if self.connection in done else None
            if failure is not None:
                raise failure
            raise ConnectionError("Discord gateway did not become ready")

    async def _disconnect(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            await client.close()
        task, self.connection = self.connection, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _token_refused(self, exc: BaseException) -> bool:
        return token_refused(exc)

    def _delivery_error(self, exc: Exception, destination: str) -> DeliveryError | None:
        return delivery_error(exc, destination)

    @contextlib.asynccontextmanager
    async def pace(self, channel: str | None) -> AsyncIterator[None]:
        async with self.pacer.slot(channel):
            yield

    def _require(self) -> ext_commands.Bot:
        if self.client is None:
            raise RuntimeError("DiscordSender.start() must be awaited first")
        return self.client

    # ----------------------------------------------------------------------- delivery (wire calls)
    async def _guild_of(self, channel_id: int) -> int | None:
        """The guild of a channel, for message URLs; from the gateway cache, else one GET."""
        if channel_id in self._guilds:
            return self._guilds[channel_id]
        client = self._require()
        channel = client.get_channel(channel_id)
        guild_id: int | None
        if channel is not None and getattr(channel, "guild", None) is not None:
            guild_id = channel.guild.id  # type: ignore[union-attr]
            name = getattr(channel, "name", None)
        else:
            async with self.pace(None):
                data = await client.http.get_channel(channel_id)
            raw = data.get("guild_id")
            guild_id = int(str(raw)) if raw else None
            name = data.get("name")
        if isinstance(name, str) and name:
            self._names[channel_id] = f"#{name}"
        self._guilds[channel_id] = guild_id
        return guild_id

    @staticmethod
    def _url(guild_id: int | None, channel_id: int, message_id: int) -> str:
        return f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}/{message_id}"

    async def _post(self, channel_id: int, payload: DiscordPayload, nonce: str, *, silent: bool) -> discord.Message:
        channel = self._require().get_partial_messageable(channel_id)
        async with self.pace(str(channel_id)):
            return await channel.send(nonce=nonce, silent=silent, **message_kwargs(payload))

    async def _thread_for(self, channel_id: int, spec: ThreadSpec, notify: bool) -> int:
        """The thread of an issue in a channel: found (memory, then gateway cache) or created once."""
        name = str(spec["name"])
        key = (channel_id, name)
        lock = self._thread_locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key in self._threads:
                return self._threads[key]
            client = self._require()
            channel = client.get_channel(channel_id)
            for thread in getattr(channel, "threads", ()):
                if thread.name == name:
                    found: int = thread.id
                    self._threads[key] = found
                    return found
            header = await self._post(channel_id, {"content": spec["header"]},
                                      nonce_for(f"hdr:{channel_id}:{name}"), silent=not notify)
            async with self.pace(None):
                thread = await client.http.start_thread_with_message(channel_id, header.id, name=name,
                                                                     auto_archive_duration=10080)
            thread_id = int(str(thread["id"]))
            self._threads[key] = thread_id
            self._guilds[thread_id] = await self._guild_of(channel_id)
            return thread_id

    def _payload(self, kind: str, payload: Mapping[str, Any]) -> DiscordPayload:
        return payload_of(kind, payload)

    async def _send(self, dest: Destination, part: Rendered[DiscordPayload], key: str) -> Sent:
        """Post one message; `key` (the outbox row id) becomes the nonce."""
        payload = part.payload
        channel_id = int(dest.chat)
        silent = not part.notify or bool(int(payload.get("flags", 0)) & SUPPRESS_NOTIFICATIONS)
        target = channel_id
        thread = payload.get("thread")
        if thread:
            target = await self._thread_for(channel_id, thread, notify=part.notify)
            silent = True  # the header message carried the notification
        message = await self._post(target, payload, nonce_for(key), silent=silent)
        guild_id = await self._guild_of(target)
        return Sent(chat_id=str(target), message_ids=(str(message.id),), url=self._url(guild_id, target, message.id),
                    chat_name=self._names.get(target))

    async def _edit(self, dest: Destination, sent: Sent, part: Rendered[DiscordPayload]) -> Sent:
        """Replace a sent message's content (an index after new sections, an edited section)."""
        payload = part.payload
        channel_id = int(sent.chat_id)
        message = self._require().get_partial_messageable(channel_id).get_partial_message(int(sent.message_ids[0]))
        async with self.pace(None):
            await message.edit(**message_kwargs(payload))
        guild_id = await self._guild_of(channel_id)
        return Sent(chat_id=sent.chat_id, message_ids=sent.message_ids,
                    url=sent.url or self._url(guild_id, channel_id, int(sent.message_ids[0])))

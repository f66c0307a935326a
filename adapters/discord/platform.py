"""`DiscordPlatform`: the `bot.ports.Platform` for Discord, on discord.py 2.7.

One `ext_commands.Bot` does both jobs: REST sends for the scheduler (paced by `Pacer`,
errors mapped by `delivery_errors`) and the gateway connection that receives slash
commands (`DigestCommands`). Every send carries a nonce derived from the outbox key with
`enforce_nonce`, so a resend after a timeout or crash returns the first message instead
of posting a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import discord
import yarl
from discord.ext import commands as ext_commands
from discord.gateway import DiscordWebSocket

from adapters.discord.commands import CatalogueTranslator, DigestCommands, PageButton
from adapters.discord.errors import delivery_errors
from adapters.discord.pacing import Pacer
from adapters.discord.render import SUPPRESS_NOTIFICATIONS, DiscordRenderer
from bot.errors import ConfigError
from bot.messages import Answer, Post
from bot.ports import Destination, Rendered, Sent

if TYPE_CHECKING:
    from bot.config import Config
    from bot.query import QueryEngine

__all__ = ["DEFAULT_API_BASE", "DiscordPlatform", "create_platform", "nonce_for"]

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://discord.com/api/v10"
_NONCE_LENGTH = 25  # Discord's maximum


def nonce_for(key: str) -> str:
    """A ≤ 25-character nonce that is the same every time for the same outbox key."""
    if 0 < len(key) <= _NONCE_LENGTH:
        return key
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:_NONCE_LENGTH]


def _message_kwargs(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A stored payload → keyword arguments of discord.py's send/edit."""
    kwargs: dict[str, Any] = {"allowed_mentions": discord.AllowedMentions.none()}
    kwargs["content"] = payload.get("content") or None
    kwargs["embeds"] = [discord.Embed.from_dict(dict(e)) for e in payload.get("embeds", ())]
    return kwargs


class DiscordPlatform:
    """Discord delivery and slash commands (see module docstring).

    Args:
        token: the bot token (never logged).
        api_base_url: REST base; another value points discord.py at a proxy or a fake.
        gateway_url: gateway to connect to ("" = Discord's).
        application_id: optional; discord.py learns it at login otherwise.
        commands: register and answer slash commands in `serve`.
        pacer: shared global/per-channel pacing (a default one: 48 req/s, 5 msgs/5 s/channel).
        max_ratelimit_timeout: longer rate-limit waits become `RetryLater` for the outbox.
        guild_ready_timeout: discord.py's wait after the last GUILD_CREATE before "ready".
        slow_commands: commands acknowledged (deferred) before the engine answers.
    """

    name = "discord"

    def __init__(self, token: str, *, api_base_url: str = DEFAULT_API_BASE, gateway_url: str = "",
                 application_id: str | None = None, commands: bool = True, pacer: Pacer | None = None,
                 max_ratelimit_timeout: float = 30.0, guild_ready_timeout: float = 2.0,
                 ready_timeout: float = 60.0, slow_commands: frozenset[str] = frozenset({"search"})) -> None:
        self._token = token
        self.api_base_url = api_base_url.rstrip("/")
        self.gateway_url = gateway_url
        self.application_id = int(application_id) if application_id else None
        self.commands_enabled = commands
        self.pacer = pacer or Pacer()
        self.max_ratelimit_timeout = max_ratelimit_timeout
        self.guild_ready_timeout = guild_ready_timeout
        self.ready_timeout = ready_timeout
        self.slow_commands = slow_commands
        self.renderer = DiscordRenderer()
        self.client: ext_commands.Bot | None = None
        self._connect_task: asyncio.Task[None] | None = None
        self._saved_urls: tuple[str, yarl.URL] | None = None
        self._guilds: dict[int, int | None] = {}
        self._threads: dict[tuple[int, str], int] = {}
        self._thread_locks: dict[tuple[int, str], asyncio.Lock] = {}
        self._cog: DigestCommands | None = None

    def __repr__(self) -> str:  # never show the token
        return f"DiscordPlatform(api_base_url={self.api_base_url!r})"

    # ----------------------------------------------------------------------- rendering
    def render(self, post: Post, dest: Destination) -> list[Rendered]:
        return self.renderer.render(post, dest)

    def render_answer(self, answer: Answer) -> list[Rendered]:
        return self.renderer.render_answer(answer)

    # ----------------------------------------------------------------------- lifecycle
    def _apply_urls(self) -> None:
        """discord.py reads its REST base and gateway from class attributes; set them, restore on close."""
        from discord.http import Route

        self._saved_urls = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        Route.BASE = self.api_base_url
        if self.gateway_url:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    def _restore_urls(self) -> None:
        from discord.http import Route

        if self._saved_urls is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved_urls
            self._saved_urls = None

    async def start(self) -> None:
        """Log in (REST) and connect the gateway; returns once the guild cache is ready."""
        if self.client is not None:
            return
        self._apply_urls()
        intents = discord.Intents.none()
        intents.guilds = True
        extra: dict[str, Any] = {"application_id": self.application_id} if self.application_id else {}
        client = ext_commands.Bot(command_prefix=ext_commands.when_mentioned, intents=intents, help_command=None,
                              **extra,
                              allowed_mentions=discord.AllowedMentions.none(),
                              max_ratelimit_timeout=self.max_ratelimit_timeout,
                              guild_ready_timeout=self.guild_ready_timeout)
        self.client = client
        try:
            await client.login(self._token)
        except discord.LoginFailure as exc:
            await self.close()
            raise ConfigError("discord.token_env", "Discord refused the token") from exc
        except Exception:
            await self.close()
            raise
        self._connect_task = asyncio.create_task(client.connect(reconnect=True), name="discord-gateway")
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait({ready, self._connect_task}, timeout=self.ready_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            failure = self._connect_task.exception() if self._connect_task in done else None
            await self.close()
            raise ConnectionError("Discord gateway did not become ready") from failure

    async def close(self) -> None:
        """Disconnect and restore discord.py's URLs; idempotent."""
        client, self.client = self.client, None
        if client is not None:
            await client.close()
        task, self._connect_task = self._connect_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._restore_urls()

    def _require(self) -> ext_commands.Bot:
        if self.client is None:
            raise RuntimeError("DiscordPlatform.start() must be awaited before sending")
        return self.client

    # ----------------------------------------------------------------------- delivery
    async def _guild_of(self, channel_id: int) -> int | None:
        """The guild of a channel, for message URLs; from the gateway cache, else one GET."""
        if channel_id in self._guilds:
            return self._guilds[channel_id]
        client = self._require()
        channel = client.get_channel(channel_id)
        guild_id: int | None
        if channel is not None and getattr(channel, "guild", None) is not None:
            guild_id = channel.guild.id  # type: ignore[union-attr]
        else:
            async with self.pacer.slot(None):
                data = await client.http.get_channel(channel_id)
            raw = data.get("guild_id")
            guild_id = int(str(raw)) if raw else None
        self._guilds[channel_id] = guild_id
        return guild_id

    @staticmethod
    def _url(guild_id: int | None, channel_id: int, message_id: int) -> str:
        return f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}/{message_id}"

    async def _post(self, channel_id: int, payload: Mapping[str, Any], nonce: str, *,
                    silent: bool) -> discord.Message:
        client = self._require()
        channel = client.get_partial_messageable(channel_id)
        async with self.pacer.slot(str(channel_id)):
            return await channel.send(nonce=nonce, silent=silent, **_message_kwargs(payload))

    async def _thread_for(self, channel_id: int, spec: Mapping[str, Any], notify: bool) -> int:
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
            async with self.pacer.slot(None):
                thread = await client.http.start_thread_with_message(channel_id, header.id, name=name,
                                                                     auto_archive_duration=10080)
            thread_id = int(str(thread["id"]))
            self._threads[key] = thread_id
            self._guilds[thread_id] = await self._guild_of(channel_id)
            return thread_id

    async def send(self, dest: Destination, part: Rendered, *, key: str) -> Sent:
        """Post one rendered message; `key` (the outbox row id) becomes the nonce.

        Raises:
            RetryLater: 429 beyond `max_ratelimit_timeout`, 5xx, network errors.
            DestinationForbidden: 403/404 — pause this destination; no retry loop.
            Rejected: 400 — the message can never be accepted.
        """
        with delivery_errors(dest.name):
            channel_id = int(dest.chat)
            payload = part.payload
            silent = not part.notify or bool(int(payload.get("flags", 0)) & SUPPRESS_NOTIFICATIONS)
            target = channel_id
            if payload.get("thread"):
                target = await self._thread_for(channel_id, payload["thread"], notify=part.notify)
                silent = True  # the header message carried the notification
            message = await self._post(target, payload, nonce_for(key), silent=silent)
            guild_id = await self._guild_of(target)
            return Sent(chat_id=str(target), message_ids=(str(message.id),),
                        url=self._url(guild_id, target, message.id))

    async def edit(self, dest: Destination, sent: Sent, part: Rendered) -> Sent:
        """Replace a sent message's content (an index after new sections, an edited section).

        Raises:
            RetryLater, DestinationForbidden, Rejected: as for `send`.
        """
        with delivery_errors(dest.name):
            client = self._require()
            channel_id = int(sent.chat_id)
            message = client.get_partial_messageable(channel_id).get_partial_message(int(sent.message_ids[0]))
            async with self.pacer.slot(None):
                await message.edit(**_message_kwargs(part.payload))
            guild_id = await self._guild_of(channel_id)
            return Sent(chat_id=sent.chat_id, message_ids=sent.message_ids,
                        url=sent.url or self._url(guild_id, channel_id, int(sent.message_ids[0])))

    # ----------------------------------------------------------------------- commands
    async def register(self, engine: QueryEngine) -> None:
        """Add the slash commands and publish them (bulk overwrite), localised by our catalogue."""
        client = self._require()
        if self._cog is not None:
            return
        self._cog = DigestCommands(engine, self.render_answer, self.slow_commands)
        await client.add_cog(self._cog)
        client.add_dynamic_items(PageButton)
        await client.tree.set_translator(CatalogueTranslator())
        await client.tree.sync()

    async def serve(self, engine: QueryEngine) -> None:
        """Answer slash commands until cancelled; the connection itself stays until `close()`."""
        await self.start()
        if self.commands_enabled:
            await self.register(engine)
        task = self._connect_task
        if task is None:
            return
        await asyncio.shield(task)


def create_platform(config: Config) -> DiscordPlatform:
    """The composition root's factory: token from the environment, URLs from config.toml."""
    section = config.discord
    return DiscordPlatform(config.secret("discord"), api_base_url=section.api_base_url,
                           gateway_url=section.gateway_url, application_id=section.application_id,
                           commands=section.commands)

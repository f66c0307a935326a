"""`check-config --online` for Discord: the bot logs in, sees each channel and may post there.

One REST call per question, with the real discord.py HTTP client: who am I (the token),
each channel (does it exist, can the bot see it), then the bot's effective permissions in
it — the guild's roles, the bot's roles and the channel's overwrites, combined as Discord
does — against what delivery needs. Problems come back as `ConfigError`s naming the key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import discord
from discord.http import HTTPClient

from adapters.discord.routing import Routes, route_client
from bot.core.errors import ConfigError
from bot.settings.config import Config, DestinationConfig

__all__ = ["effective_permissions", "probe_discord"]

_NEEDED = {"view_channel": "View Channel", "send_messages": "Send Messages", "embed_links": "Embed Links"}
_THREADS = {"create_public_threads": "Create Public Threads", "send_messages_in_threads": "Send Messages in Threads"}


def effective_permissions(guild_id: str, bot_id: str, member_roles: Sequence[str], roles: Sequence[Mapping[str, Any]],
                          overwrites: Sequence[Mapping[str, Any]]) -> discord.Permissions:
    """The bot's permissions in a channel: @everyone + its roles, then the channel's overwrites in
    Discord's order (@everyone, then roles together, then the member)."""
    by_id = {str(role["id"]): int(role.get("permissions", 0)) for role in roles}
    value = by_id.get(guild_id, 0)
    for role in member_roles:
        value |= by_id.get(str(role), 0)
    if value & discord.Permissions.administrator.flag:
        return discord.Permissions.all()
    table = {str(o["id"]): (int(o.get("allow", 0)), int(o.get("deny", 0))) for o in overwrites}
    allow, deny = table.get(guild_id, (0, 0))
    value = (value & ~deny) | allow
    role_allow = role_deny = 0
    for role in member_roles:
        a, d = table.get(str(role), (0, 0))
        role_allow |= a
        role_deny |= d
    value = (value & ~role_deny) | role_allow
    allow, deny = table.get(bot_id, (0, 0))
    return discord.Permissions((value & ~deny) | allow)


async def probe_discord(config: Config, dests: Sequence[DestinationConfig]) -> list[ConfigError]:
    """Log in once, then check each destination's channel and the bot's permissions there."""
    http = HTTPClient(asyncio.get_running_loop())
    route_client(http, Routes(config.discord.api_base_url))  # this client only: nothing global is patched
    try:
        try:
            me = await http.static_login(config.secret("discord"))
        except discord.LoginFailure:
            return [ConfigError("discord.token_env", f"Discord refused the token in {config.discord.token_env} (401)")]
        except (discord.HTTPException, OSError) as exc:
            return [ConfigError("discord.api_base_url", f"Discord did not answer: {type(exc).__name__}")]
        problems: list[ConfigError] = []
        for dest in dests:
            problems += await _channel(http, str(me["id"]), dest)
        return problems
    finally:
        await http.close()


async def _channel(http: HTTPClient, bot_id: str, dest: DestinationConfig) -> list[ConfigError]:
    key = f"destinations.{dest.name}.channel"
    try:
        channel: Any = await http.get_channel(dest.channel)
    except discord.NotFound:
        return [ConfigError(key, "unknown channel (deleted, or not a channel id)")]
    except discord.Forbidden:
        return [ConfigError(key, "the bot cannot see this channel: give its role View Channel, Send Messages "
                                 "and Embed Links there")]
    except discord.HTTPException as exc:
        return [ConfigError(key, f"Discord answered {exc.status} for this channel")]
    guild_id = channel.get("guild_id")
    if not guild_id:
        return [ConfigError(key, "not a server channel (a DM?): digestbot posts in server text channels")]
    try:
        member: Any = await http.get_member(guild_id, bot_id)
        roles: Any = await http.get_roles(guild_id)
    except discord.HTTPException as exc:
        return [ConfigError(key, f"cannot read the bot's roles in its server ({exc.status})")]
    permissions = effective_permissions(str(guild_id), bot_id, [str(r) for r in member.get("roles", [])], roles,
                                        channel.get("permission_overwrites") or [])
    needed = {**_NEEDED, **(_THREADS if dest.thread else {})}
    if dest.format == "text":
        needed.pop("embed_links")
    missing = [label for flag, label in needed.items() if not getattr(permissions, flag)]
    if missing:
        return [ConfigError(key, f"the bot lacks {', '.join(missing)} in #{channel.get('name', dest.channel)}")]
    return []

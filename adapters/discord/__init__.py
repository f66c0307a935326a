"""Discord adapter (discord.py 2.7): renderer, sender and command source; paced fan-out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from adapters.discord.commands import DiscordCommands
from adapters.discord.pacing import Pacer
from adapters.discord.platform import DEFAULT_API_BASE, DiscordSender, nonce_for
from adapters.discord.render import DiscordRenderer
from bot.ports import Adapter

if TYPE_CHECKING:
    from bot.settings.config import Config

__all__ = ["DiscordAdapter", "DiscordCommands", "DiscordRenderer", "DiscordSender", "Pacer", "create_adapter",
           "discord_adapter", "nonce_for"]

#: What `discord_adapter` builds: the three roles with their concrete types.
DiscordAdapter = Adapter[DiscordRenderer, DiscordSender, DiscordCommands]


def discord_adapter(token: str, *, api_base_url: str = DEFAULT_API_BASE, gateway_url: str = "",
                    application_id: str | None = None, commands: bool = True, pacer: Pacer | None = None,
                    answers: Literal["ephemeral", "public"] = "ephemeral", **options: object) -> DiscordAdapter:
    """The three roles on one connection; `options` go to `DiscordSender` (timeouts, token_key …)."""
    sender = DiscordSender(token, api_base_url=api_base_url, gateway_url=gateway_url,
                           application_id=application_id, pacer=pacer, **options)  # type: ignore[arg-type]
    renderer = DiscordRenderer()
    return Adapter("discord", renderer, sender, DiscordCommands(sender, renderer, enabled=commands, answers=answers))


def create_adapter(config: Config) -> DiscordAdapter:
    """The adapter as config.toml describes it: token from `config.secret("discord")`, URLs from [discord]."""
    section = config.discord
    key, source = config.secret_origin("discord")
    return discord_adapter(config.secret("discord"), api_base_url=section.api_base_url,
                           gateway_url=section.gateway_url, application_id=section.application_id,
                           commands=section.commands, answers=section.answers, token_key=key, token_source=source)

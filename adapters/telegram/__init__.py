"""Telegram adapter (python-telegram-bot 22): renderer, sender and command source, flood control."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.telegram.commands import CommandThrottle, TelegramCommands
from adapters.telegram.limiter import FloodLimiter
from adapters.telegram.platform import DEFAULT_API_BASE, TelegramSender, message_url
from adapters.telegram.render import TelegramRenderer
from bot.ports import Adapter

if TYPE_CHECKING:
    from bot.settings.config import Config

__all__ = ["TelegramAdapter", "TelegramCommands", "TelegramRenderer", "TelegramSender", "create_adapter", "message_url",
           "telegram_adapter"]

#: What `telegram_adapter` builds: the three roles with their concrete types.
TelegramAdapter = Adapter[TelegramRenderer, TelegramSender, TelegramCommands]


def telegram_adapter(token: str, *, base_url: str = DEFAULT_API_BASE, base_file_url: str | None = None,
                     commands: bool = True, time_scale: float = 1.0, poll_timeout: float = 10.0,
                     token_key: str = "telegram.token_env",
                     token_source: str = "$TELEGRAM_BOT_TOKEN") -> TelegramAdapter:
    """The three roles on one connection: renderer, sender, command source.

    `time_scale` multiplies every flood window (and the command throttle's refill interval): 1 for
    Telegram; a Bot API server with tighter windows (a local test server) sets it lower.
    """
    limiter = FloodLimiter(time_scale=time_scale)
    sender = TelegramSender(token, base_url=base_url, base_file_url=base_file_url, limiter=limiter,
                            poll_timeout=poll_timeout, token_key=token_key, token_source=token_source)
    renderer = TelegramRenderer()
    throttle = CommandThrottle(interval=2.0 * min(time_scale, 1.0))
    source = TelegramCommands(sender, renderer, throttle=throttle, enabled=commands)
    return Adapter("telegram", renderer, sender, source)


def create_adapter(config: Config) -> TelegramAdapter:
    """The adapter as config.toml describes it; the token comes from `config.secret("telegram")`."""
    section = config.telegram
    key, source = config.secret_origin("telegram")
    return telegram_adapter(config.secret("telegram"), base_url=section.api_base_url,
                            base_file_url=section.file_base_url, commands=section.commands,
                            time_scale=section.time_scale, token_key=key, token_source=source)

"""The HTTP face of `digestbot run`: /healthz and /metrics, and the web panel with the platforms'
renderers and size meters handed in (so `web/` never imports an adapter).

The web server and the renderers are imported only here and only when `run` serves them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from adapters.text import utf16_len
from bot.chat.query import QueryEngine
from bot.core.errors import ConfigError
from bot.ports import Rendered
from bot.settings.config import Config
from bot.storage.store import Store
from scheduler.operations import Operations

if TYPE_CHECKING:
    from aiohttp.web import AppRunner

    from web import Metrics
    from web.panel import Measure, PanelState

__all__ = ["panel_state", "start_web"]

log = logging.getLogger("digestbot")


async def start_web(config: Config, store: Store, metrics: Metrics, scheduler_running: Callable[[], bool],
                    panel: PanelState | None = None) -> AppRunner | None:
    """`[web] listen`: /healthz and /metrics in this event loop (absent: no HTTP server), and the panel."""
    address = config.web.address
    if address is None:
        return None
    from web import WebState, create_app, start_server

    try:
        return await start_server(create_app(WebState(store, metrics, scheduler_running), panel), *address)
    except OSError as exc:
        raise ConfigError("web.listen", f"cannot listen on {config.web.listen}: {exc.strerror or exc}") from exc


def panel_state(config: Config, operations: Operations, engine: QueryEngine) -> PanelState | None:
    """The web panel's parts (the operations, the engine, both platforms' renderers), or None without a token."""
    if config.web.address is None:
        return None
    token = config.web.token()
    if token is None:
        log.warning("web: panel off: set %s to a long random token to serve it (only /healthz and /metrics now)",
                    config.web.token_env)
        return None
    from adapters.discord.render import DiscordRenderer, section_color
    from adapters.telegram.render import TelegramRenderer
    from web.panel import PanelState, PreviewFace

    faces = {"telegram": PreviewFace("telegram", TelegramRenderer().render, _telegram_sizes),
             "discord": PreviewFace("discord", DiscordRenderer().render, _discord_sizes)}
    return PanelState(token=token, operations=operations, engine=engine, faces=faces, section_color=section_color)


def _telegram_sizes(part: Rendered) -> list[Measure]:
    """A Telegram message against its limit: a caption's (photos) or a text's, in UTF-16 units."""
    from adapters.telegram.render import CAPTION_LIMIT, TEXT_LIMIT
    from web.panel import Measure

    caption = part.kind in ("photo", "media_group")
    limit = CAPTION_LIMIT if caption else TEXT_LIMIT
    return [Measure("caption" if caption else "text", utf16_len(part.text), limit)]


def _discord_sizes(part: Rendered) -> list[Measure]:
    """A Discord message against its limits: the content, the number of embeds, their total text."""
    from adapters.discord.render import CONTENT_LIMIT, EMBED_TOTAL_LIMIT, EMBEDS_PER_MESSAGE, embed_length
    from web.panel import Measure

    embeds = list(part.payload.get("embeds", ()))
    sizes = [Measure("content", utf16_len(str(part.payload.get("content", ""))), CONTENT_LIMIT)]
    if embeds:
        sizes += [Measure("embeds", len(embeds), EMBEDS_PER_MESSAGE),
                  Measure("embed text", sum(embed_length(e) for e in embeds), EMBED_TOTAL_LIMIT)]
    return sizes

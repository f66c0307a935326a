"""Turns configured destinations into the platform-neutral `Destination` value."""

from __future__ import annotations

from bot.config import DestinationConfig
from bot.ports import Destination

__all__ = ["destination_from_config"]

_OPTION_KEYS = ("link_preview", "images", "topic", "topics", "index", "format", "thread", "feeds")


def destination_from_config(config: DestinationConfig) -> Destination:
    """One `Destination` per `[[destinations]]` table; options carry the platform settings."""
    options = {key: getattr(config, key) for key in _OPTION_KEYS}
    return Destination(
        name=config.name,
        platform=config.platform,
        chat=config.target,
        languages=tuple(config.languages),
        sections=tuple(config.sections),
        schedule=config.schedule,
        timezone=config.timezone,
        on_edit=config.on_edit,
        backfill=config.backfill,
        options=options,
    )

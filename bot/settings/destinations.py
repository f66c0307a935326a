"""Builds the typed `Destination` (bot/contract/destination.py) from config.toml, once, and lays overrides over it."""

from __future__ import annotations

from dataclasses import replace

from bot.contract.destination import (
    IMAGE_MODES,
    Change,
    ConsoleOptions,
    Destination,
    DiscordOptions,
    Override,
    PlatformOptions,
    TelegramOptions,
)
from bot.contract.filters import ItemFilter
from bot.contract.presentation import Compact, Presentation
from bot.contract.schedule import CronDrip, parse_schedule
from bot.settings.config import DestinationConfig

__all__ = ["destination_from_config", "override_of", "with_subscription"]


def destination_from_config(config: DestinationConfig) -> Destination:
    """One `Destination` per `[[destinations]]` table (already validated: the schedule parses)."""
    schedule = parse_schedule(config.schedule, config.timezone)
    if isinstance(schedule, CronDrip):
        schedule = replace(schedule, per_tick=config.per_tick)
    return Destination(
        name=config.name,
        platform=config.platform,
        chat=config.target,
        languages=tuple(config.languages),
        sections=tuple(config.sections),
        schedule=schedule,
        on_edit=config.on_edit,
        backfill=config.backfill,
        feeds=tuple(config.feeds),
        filters=ItemFilter(tuple(config.include), tuple(config.exclude)),
        presentation=Presentation(compact=Compact.of(config.compact), max_item_chars=config.max_item_chars),
        options=_options(config),
    )


def _options(config: DestinationConfig) -> PlatformOptions:
    match config.platform:
        case "telegram":
            images = config.images if config.images in IMAGE_MODES["telegram"] else "none"
            return TelegramOptions(link_preview=config.link_preview, images=images,  # type: ignore[arg-type]
                                   topic=config.topic, topics=dict(config.topics), index=config.index)
        case "discord":
            images = config.images if config.images in IMAGE_MODES["discord"] else "thumbnail"
            return DiscordOptions(format=config.format, thread=config.thread, images=images,  # type: ignore[arg-type]
                                  mention_role=config.mention_role, mention_roles=dict(config.mention_roles),
                                  index=config.index)
        case "console":
            return ConsoleOptions(index=config.index)


def override_of(sub: Destination) -> Override:
    """The part of a stored `/subscribe` row that overrides a configured destination."""
    change = sub.change or Change("", sub.chat)
    return Override(sections=sub.sections, schedule=sub.schedule, filters=sub.filters, change=change)


def with_subscription(configured: Destination, sub: Destination) -> Destination:
    """A configured destination updated by a `/subscribe` in its chat (stored under the same name).

    Sections, schedule and topic filters come from the subscription; the chat, languages, feeds and
    presentation from config.toml. The name stays, so the outbox remembers what it sent.
    """
    return override_of(sub).over(configured)

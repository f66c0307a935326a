"""Turns configured destinations into the platform-neutral `Destination` value."""

from __future__ import annotations

from dataclasses import replace

from bot.config import DestinationConfig
from bot.ports import Destination

__all__ = ["destination_from_config", "with_subscription"]

_OPTION_KEYS = ("link_preview", "images", "topic", "topics", "index", "format", "thread", "feeds", "include", "exclude",
                "compact", "max_item_chars", "per_tick", "mention_role", "mention_roles")


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


#: What `/subscribe` in a configured destination's chat may change; the rest stays as configured.
_SUBSCRIBED_OPTIONS = ("include", "exclude")


def with_subscription(configured: Destination, sub: Destination) -> Destination:
    """A configured destination updated by a `/subscribe` in its chat (stored under the same name).

    Sections, schedule and topic filters come from the subscription; the chat, languages and
    presentation options from config.toml. The name stays, so the outbox remembers what it sent.
    """
    options = {key: value for key, value in configured.options.items() if key not in _SUBSCRIBED_OPTIONS}
    options.update({key: sub.options[key] for key in _SUBSCRIBED_OPTIONS if sub.options.get(key)})
    return replace(configured, sections=sub.sections, schedule=sub.schedule, options=options)

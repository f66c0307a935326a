"""Typed destinations for tests, written the way config.toml or a stored row spells their options."""

from __future__ import annotations

from typing import Any

from bot.contract.destination import Destination, destination_from_json


def destination(name: str, platform: str, chat: str, **options: Any) -> Destination:
    """`destination("d", "discord", "1", format="text", compact=True)`: parsed by the one stored-row parser."""
    return destination_from_json({"name": name, "platform": platform, "chat": chat, "options": options})


def store_unrunnable(store: Any, name: str, chat: str, schedule: str, languages: tuple[str, ...] = ("fr",),
                     platform: str = "console") -> None:
    """A subscription row stored before schedules were checked as the scheduler checks them (raw JSON:
    the typed `Destination` cannot even hold such a schedule)."""
    import json

    row = {"name": name, "platform": platform, "chat": chat, "languages": list(languages), "sections": ["*"],
           "schedule": schedule, "timezone": "UTC", "on_edit": "ignore", "backfill": 1, "options": {}}
    with store.transaction():
        store.db.table("subscriptions").upsert({"name": name, "platform": platform, "destination": json.dumps(row),
                                                "created": "2026-01-01T00:00:00+00:00"}, pk="name")
        store.db.execute("update meta set value = cast(value as integer) + 1 where key = 'subscriptions_version'")

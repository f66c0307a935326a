"""The destination contract (bot/contract/destination.py) and the one selection (scheduler/selection.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.contract.destination import (
    Change,
    ConsoleOptions,
    Destination,
    DiscordOptions,
    TelegramOptions,
    destination_from_json,
    destination_to_json,
)
from bot.contract.filters import ItemFilter
from bot.contract.schedule import CronDrip, Digest, parse_schedule
from bot.core.messages import DigestPost, IndexPost, SectionPost
from bot.settings.config import DestinationConfig
from bot.settings.destinations import destination_from_config, with_subscription
from scheduler.selection import receives
from tests.harness.corpus import corpus_issues


def _config(**raw: object) -> DestinationConfig:
    return DestinationConfig.model_validate({"name": "d", "platform": "telegram", "chat": "@channel", **raw})


def test_config_is_parsed_once_into_typed_values() -> None:
    dest = destination_from_config(_config(schedule="cron 0 9 * * *", timezone="Europe/Paris", per_tick=3,
                                           feeds=["nlp"], include=["bert"], topics={"education": 7},
                                           images="first", compact=True))
    assert dest.schedule == CronDrip("0 9 * * *", "Europe/Paris", per_tick=3)
    assert dest.timezone == "Europe/Paris" and dest.feeds == ("nlp",)
    assert dest.filters == ItemFilter(("bert",), ())
    assert dest.presentation.compact
    assert dest.options == TelegramOptions(images="first", topics={"education": 7})
    assert dest.telegram.thread_for("education") == 7 and dest.telegram.thread_for("jobs") is None
    assert dest.source() == "config.toml"
    discord = destination_from_config(DestinationConfig.model_validate(
        {"name": "x", "platform": "discord", "channel": "123456789012345678", "mention_role": "223456789012345678"}))
    assert discord.options == DiscordOptions(mention_role="223456789012345678")
    assert discord.telegram == TelegramOptions()  # another platform's options are only ever the defaults


def test_another_platforms_options_cannot_be_built() -> None:
    with pytest.raises(TypeError, match="DiscordOptions on a telegram destination"):
        Destination("d", "telegram", "@channel", options=DiscordOptions())
    assert Destination("d", "discord", "1").options == DiscordOptions()  # the default follows the platform
    assert Destination("d", "console", "").options == ConsoleOptions()


def test_a_stored_row_round_trips_and_an_old_row_still_loads() -> None:
    at = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    dest = replace(destination_from_config(_config(schedule="digest @weekly", exclude=["crypto"], topic=3)),
                   change=Change("alice", "-100", at))
    assert destination_from_json(destination_to_json(dest)) == dest
    old = {"name": "telegram:42", "platform": "telegram", "chat": "42", "languages": ["fr"], "sections": ["*"],
           "schedule": "cron 0 9 * * *", "timezone": "UTC", "on_edit": "ignore", "backfill": 1,
           "options": {"index": True, "subscribed_by": "7", "include": ["bert"], "per_tick": 2}}
    loaded = destination_from_json(old, "2026-01-01T00:00:00+00:00")
    assert loaded.schedule == CronDrip("0 9 * * *", per_tick=2) and loaded.filters.include == ("bert",)
    assert loaded.change == Change("7", "42", datetime(2026, 1, 1, tzinfo=UTC))


def test_an_override_changes_the_selection_and_says_who() -> None:
    configured = destination_from_config(_config(languages=["fr"], feeds=["nlp"], schedule="cron 0 9 * * *",
                                                 per_tick=2, link_preview=True))
    at = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)
    sub = Destination("d", "telegram", "@channel", sections=("education",), schedule=parse_schedule("cron 0 8 * * *"),
                      filters=ItemFilter(("bert",)), change=Change("alice", "@channel", at))
    effective = with_subscription(configured, sub)
    assert effective.sections == ("education",) and effective.filters.include == ("bert",)
    assert effective.schedule == CronDrip("0 8 * * *", per_tick=2)  # the tick's pace stays config.toml's
    assert (effective.languages, effective.feeds, effective.options) == (("fr",), ("nlp",), configured.options)
    assert effective.overridden
    assert effective.source() == "changed by /subscribe in chat @channel at 2026-12-07 06:30 UTC (by alice)"


def test_receives_is_the_one_answer() -> None:
    issue = next(i for i in corpus_issues() if i.language == "fr" and len(i.sections) > 3)
    fr = Destination("fr", "console", "", languages=("fr",), feeds=(issue.feed,))
    posts = receives(fr, issue).posts()
    assert [type(p) for p in posts] == [SectionPost] * (len(posts) - 1) + [IndexPost]  # the index comes last
    assert [p.notify for p in posts if isinstance(p, SectionPost)] == [True] + [False] * (len(posts) - 2)
    assert receives(replace(fr, languages=("en",)), issue).posts() == []
    assert receives(replace(fr, feeds=("rust",)), issue).posts() == []
    assert not receives(replace(fr, options=ConsoleOptions(index=False)), issue).index
    (digest,) = receives(replace(fr, schedule=Digest("0 9 * * *")), issue).posts()
    assert isinstance(digest, DigestPost) and len(digest.sections) == len(posts) - 1
    key = issue.sections[1].key
    (only,) = receives(fr, issue, only=key).posts()  # one section: never an index, never a digest
    assert isinstance(only, SectionPost) and only.section.key == key
    one = receives(replace(fr, sections=(key,)), issue)
    assert [s.key for s in one.sections] == [key] and not one.index  # an index needs two sections


def test_a_run_time_destination_says_how_it_was_made() -> None:
    at = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    made = Destination("team", "console", "team", change=Change("", "team", at, via="the web panel"))
    assert made.source() == "created by the web panel for team at 2026-12-07 07:00 UTC"
    legacy = {"name": "console:9", "platform": "console", "chat": "9", "schedule": "on_publish", "options": {}}
    assert destination_from_json(legacy, "2026-01-01T00:00:00+00:00").source() == \
        "created by /subscribe in chat 9 at 2026-01-01 00:00 UTC"

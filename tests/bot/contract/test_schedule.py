"""bot/contract/schedule.py: one parse for every schedule, errors that name the field, fire times across DST."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.contract.schedule import CronDrip, Digest, OnPublish, ScheduleError, parse_schedule

PARIS = ZoneInfo("Europe/Paris")


def test_each_kind_parses_to_its_own_type() -> None:
    assert parse_schedule("on_publish", "Europe/Paris") == OnPublish("Europe/Paris")
    assert parse_schedule("  cron   0 9 * * *  ") == CronDrip("0 9 * * *", "UTC")
    assert parse_schedule("digest 0 8 * * mon", "Europe/Paris") == Digest("0 8 * * MON", "Europe/Paris")


@pytest.mark.parametrize(("alias", "expression"), [("@hourly", "0 * * * *"), ("@daily", "0 0 * * *"),
                                                   ("@weekly", "0 0 * * 0"), ("@monthly", "0 0 1 * *")])
def test_shortcuts_are_accepted(alias: str, expression: str) -> None:
    assert parse_schedule(f"cron {alias}") == CronDrip(expression)
    assert parse_schedule(f"digest {alias.upper()}") == Digest(expression)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("cron 99 99 * * *", ['minute: "99"', "0-59"]),
        ("cron 0 24 * * *", ['hour: "24"', "0-23"]),
        ("cron 0 9 32 * *", ['day of month: "32"', "1-31"]),
        ("cron 0 9 * 13 *", ['month: "13"', "1-12"]),
        ("digest 0 8 * * FUNDAY", ['day of week: "FUNDAY"', "0-7"]),
        ("cron 0 9 * *", ["4 fields", "minute hour day-of-month month day-of-week"]),
        ("cron @yearly", ["unknown shortcut", "@daily"]),
        ("weekly", ["is not a schedule", "on_publish"]),
        ("on_publish now", ["is not a schedule"]),
    ],
)
def test_errors_name_the_field_and_what_it_allows(text: str, words: list[str]) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_unknown_timezone_is_refused() -> None:
    with pytest.raises(ScheduleError, match="Mars/Olympus"):
        parse_schedule("cron @daily", "Mars/Olympus")


def test_words_say_when_in_the_destinations_zone() -> None:
    assert parse_schedule("cron 0 9 * * *", "Europe/Paris").words() == "one section at 09:00 every day (Europe/Paris)"
    assert parse_schedule("digest 0 8 * * MON").words() == "a digest at 08:00 on Monday (UTC)"
    assert parse_schedule("on_publish").words() == "as soon as an issue is published"


def test_fire_times_follow_local_time_across_both_dst_changes() -> None:
    daily = parse_schedule("cron 0 9 * * *", "Europe/Paris")
    assert isinstance(daily, CronDrip)
    spring = daily.fires_until(datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 30, 12, tzinfo=UTC))
    assert [f.isoformat() for f in spring] == ["2026-03-29T09:00:00+02:00", "2026-03-30T09:00:00+02:00"]
    assert [f.astimezone(UTC).hour for f in spring] == [7, 7]
    autumn = daily.fires_until(datetime(2026, 10, 24, 12, tzinfo=UTC), datetime(2026, 10, 26, 12, tzinfo=UTC))
    assert [f.astimezone(UTC).hour for f in autumn] == [8, 8]


def test_a_time_in_the_skipped_or_repeated_hour_runs_once() -> None:
    night = parse_schedule("cron 30 2 * * *", "Europe/Paris")
    assert isinstance(night, CronDrip)
    spring = night.fires_until(datetime(2026, 3, 28, 12, tzinfo=PARIS), datetime(2026, 3, 29, 12, tzinfo=PARIS))
    assert [f.isoformat() for f in spring] == ["2026-03-29T03:00:00+02:00"]  # 02:30 does not exist that night
    autumn = night.fires_until(datetime(2026, 10, 24, 12, tzinfo=PARIS), datetime(2026, 10, 25, 12, tzinfo=PARIS))
    assert len(autumn) == 1  # 02:30 happens twice that night; the job runs once


def test_last_fire_and_count() -> None:
    hourly = parse_schedule("cron @hourly")
    assert isinstance(hourly, CronDrip)
    at = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert hourly.last_fire(at) == at
    assert hourly.last_fire(datetime(2026, 1, 1, 10, 59, 59, 999, tzinfo=UTC)) == at
    assert hourly.count_fires(datetime(2026, 1, 1, 0, 0, tzinfo=UTC), at) == 10
    assert hourly.next_fire(at) == datetime(2026, 1, 1, 11, 0, tzinfo=UTC)

"""Schedules as APScheduler triggers, and the one rule for "is a tick due now?".

Config schedules use standard crontab fields ("0 9 * * 1" = Mondays 09:00), but
APScheduler 3.x numbers weekdays from Monday=0; weekday numbers are translated to
names here so that a maintainer's crontab means what it means everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from apscheduler.triggers.cron import CronTrigger

from bot.config import Config
from bot.errors import ConfigError

__all__ = ["Schedule", "crontab_trigger", "due_tick", "parse_schedule", "validate_schedules"]

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_SCAN = 100_000


@dataclass(frozen=True, slots=True)
class Schedule:
    """A destination's schedule: `on_publish`, or a cron trigger that drips sections or sends a digest."""

    mode: Literal["on_publish", "cron", "digest"]
    expression: str = ""
    timezone: str = "UTC"

    def trigger(self) -> CronTrigger | None:
        return crontab_trigger(self.expression, self.timezone) if self.mode != "on_publish" else None


def parse_schedule(text: str, timezone: str = "UTC") -> Schedule:
    """`"on_publish"`, `"cron 0 9 * * *"` or `"digest 0 8 * * MON"` → Schedule.

    Raises:
        ValueError: the text is not one of these shapes or the cron fields are invalid.
    """
    words = text.split()
    if words == ["on_publish"]:
        return Schedule("on_publish", "", timezone)
    if len(words) == 6 and words[0] in ("cron", "digest"):
        expression = " ".join(words[1:])
        crontab_trigger(expression, timezone)  # validates
        return Schedule(words[0], expression, timezone)  # type: ignore[arg-type]
    raise ValueError(f"{text!r} is not 'on_publish', 'cron <5 fields>' or 'digest <5 fields>'")


def _weekday_field(field: str) -> str:
    """Crontab weekday field (0 or 7 = Sunday) → APScheduler names, so numbering cannot be misread."""
    if not any(ch.isdigit() for ch in field):
        return field.lower()
    days: list[int] = []
    for token in field.split(","):
        span, _, step_text = token.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"bad step in day-of-week {token!r}")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            a, b = span.split("-", 1)
            first, last = _day_number(a), _day_number(b)
            if last == 0:
                last = 7
        else:
            first = _day_number(span)
            last = first if not step_text else 6
        if first > last:
            raise ValueError(f"day-of-week range {span!r} runs backwards")
        days.extend(range(first, last + 1, step))
    names = dict.fromkeys(_DAY_NAMES[d] for d in days)
    return ",".join(names)


def _day_number(text: str) -> int:
    if text.isdigit():
        value = int(text)
        if not 0 <= value <= 7:
            raise ValueError(f"day of week {value} is not 0-7")
        return value
    names = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
    try:
        return names.index(text.lower()[:3])
    except ValueError:
        raise ValueError(f"unknown day of week {text!r}") from None


def crontab_trigger(expression: str, timezone: str) -> CronTrigger:
    """A CronTrigger for a 5-field crontab in `timezone` (DST handled by APScheduler/zoneinfo).

    Raises:
        ValueError: wrong field count or a value APScheduler rejects.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"cron {expression!r} must have 5 fields: minute hour day month day_of_week")
    minute, hour, day, month, weekday = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                       day_of_week=_weekday_field(weekday), timezone=timezone)


def validate_schedules(config: Config) -> None:
    """Check every destination's schedule with APScheduler itself.

    Raises:
        ConfigError: naming `destinations.<name>.schedule` and what is wrong.
    """
    for dest in config.destinations:
        try:
            parse_schedule(dest.schedule, dest.timezone)
        except ValueError as exc:
            raise ConfigError(f"destinations.{dest.name}.schedule", str(exc)) from exc


def due_tick(trigger: CronTrigger, last: datetime, now: datetime, grace: float) -> tuple[datetime | None, int]:
    """The coalesced tick to run now, if any: (latest fire time in (last, now], number missed).

    Misfires are coalesced (many missed fire times → one run) and a run later than
    `grace` seconds after its fire time is skipped, as APScheduler does with
    `coalesce=True, misfire_grace_time=grace`. Returns (None, n) when nothing is due
    or the latest tick is too late.
    """
    fire = trigger.get_next_fire_time(None, last + timedelta(microseconds=1))
    latest: datetime | None = None
    missed = 0
    while fire is not None and fire <= now and missed < _MAX_SCAN:
        latest = fire
        missed += 1
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    if latest is None:
        return None, 0
    if (now - latest).total_seconds() > grace:
        return None, missed
    return latest, missed

"""Destination schedules, parsed once: what `schedule = "..."` means, when it fires, and in words.

Config loading, `/subscribe`, the scheduler's jobs, `status` and `plan` all read a
schedule through this module, so a schedule the bot accepts is one it can run and
every part agrees on when it fires. Cron arithmetic (fields, day names, DST) is
cronsim's: it follows Debian cron, so a 02:30 job on the night clocks go forward
runs once at 03:00 and once (not twice) on the night they go back.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from cronsim import CronSim, CronSimError

from bot.core.i18n import plural_en

__all__ = [
    "ALIASES",
    "CronDrip",
    "Digest",
    "OnPublish",
    "Schedule",
    "ScheduleError",
    "check_timezone",
    "parse_schedule",
]

ALIASES: Final = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
                  "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *"}
# (name, what the field accepts), in crontab order; cronsim's own names map onto these.
_FIELDS: Final = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day of month", "1-31, L or LW"),
    ("month", "1-12 or JAN-DEC"),
    ("day of week", "0-7 (0 and 7 are Sunday), SUN-SAT, 5L or 1#2"),
)
_CRONSIM_NAMES: Final = {"minute": 0, "hour": 1, "day-of-month": 2, "month": 3, "day-of-week": 4}
_SHAPE: Final = "use 'on_publish', 'cron <5 fields>' or 'digest <5 fields>' (or @hourly, @daily, @weekly, @monthly)"
_LAST_FIRES_SCAN: Final = 10_000


class ScheduleError(ValueError):
    """A schedule text the bot cannot run; `str()` is one line naming the field and what it allows."""


@dataclass(frozen=True, slots=True)
class OnPublish:
    """Every selected section of an issue, as soon as it is published."""

    timezone: str = "UTC"

    @property
    def text(self) -> str:
        return "on_publish"

    def words(self) -> str:
        return "as soon as an issue is published"


@dataclass(frozen=True, slots=True)
class _Cron:
    """A 5-field crontab in a time zone: the part CronDrip and Digest share."""

    expression: str
    timezone: str = "UTC"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def fires(self, after: datetime) -> Iterator[datetime]:
        """Fire times strictly after `after`, in the schedule's time zone (aware datetimes)."""
        return iter(CronSim(self.expression, after.astimezone(self.zone)))

    def next_fire(self, after: datetime) -> datetime | None:
        """The first fire time strictly after `after` (None if the crontab never matches again)."""
        return next(self.fires(after), None)

    def fires_until(self, after: datetime, until: datetime) -> list[datetime]:
        """Fire times in (after, until], oldest first."""
        found: list[datetime] = []
        for fire in self.fires(after):
            if fire > until:
                break
            found.append(fire)
        return found

    def last_fire(self, at: datetime) -> datetime | None:
        """The latest fire time at or before `at` (None if none in cronsim's 50-year window)."""
        start = at.astimezone(self.zone).replace(microsecond=0) + timedelta(seconds=1)
        return next(iter(CronSim(self.expression, start, reverse=True)), None)

    def count_fires(self, after: datetime, until: datetime, cap: int = _LAST_FIRES_SCAN) -> int:
        """How many fire times fall in (after, until], counting at most `cap`."""
        count = 0
        for fire in self.fires(after):
            if fire > until or count >= cap:
                break
            count += 1
        return count

    def _when(self) -> str:
        explained = CronSim(self.expression, datetime.now(self.zone)).explain()
        return f"{explained[:1].lower()}{explained[1:]} ({self.timezone})"


@dataclass(frozen=True, slots=True)
class CronDrip(_Cron):
    """`per_tick` sections per tick (a destination's option, default 1): the next selected ones not yet
    sent, oldest issue first."""

    per_tick: int = 1

    @property
    def text(self) -> str:
        return f"cron {self.expression}"

    def words(self) -> str:
        each = "one section" if self.per_tick == 1 else f"{self.per_tick} sections"
        return f"{each} {self._when()}"


@dataclass(frozen=True, slots=True)
class Digest(_Cron):
    """One summary post per tick for each issue published since the last one."""

    @property
    def text(self) -> str:
        return f"digest {self.expression}"

    def words(self) -> str:
        return f"a digest {self._when()}"


Schedule = OnPublish | CronDrip | Digest


def parse_schedule(text: str, timezone: str = "UTC") -> Schedule:
    """`"on_publish"`, `"cron 0 9 * * *"`, `"digest @weekly"` … in `timezone` → a Schedule.

    Raises:
        ScheduleError: one line naming what is wrong (`minute: "99" is not valid (allowed: 0-59)`).
    """
    return _parse(" ".join(text.split()), timezone)


@functools.lru_cache(maxsize=1024)
def _parse(text: str, timezone: str) -> Schedule:
    check_timezone(timezone)
    kind, _, rest = text.partition(" ")
    if kind == "on_publish" and not rest:
        return OnPublish(timezone)
    if kind not in ("cron", "digest") or not rest:
        raise ScheduleError(f"{text!r} is not a schedule: {_SHAPE}")
    expression = _expression(rest)
    return CronDrip(expression, timezone) if kind == "cron" else Digest(expression, timezone)


def check_timezone(timezone: str) -> None:
    """Raise ScheduleError naming `timezone` unless it is an IANA zone the system knows (config and /subscribe)."""
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown timezone {timezone!r} (use an IANA name like 'Europe/Paris')") from exc


def _expression(text: str) -> str:
    """A validated 5-field crontab (aliases expanded, upper-cased names)."""
    if text.startswith("@"):
        if text.lower() not in ALIASES:
            raise ScheduleError(f"unknown shortcut {text!r}: use one of {', '.join(sorted(ALIASES))}")
        return ALIASES[text.lower()]
    fields = text.split()
    if len(fields) != len(_FIELDS):
        raise ScheduleError(f"cron {text!r} has {plural_en(len(fields), 'field')}; it needs 5: "
                            + " ".join(name.replace(" ", "-") for name, _ in _FIELDS))
    expression = " ".join(fields).upper()
    try:
        CronSim(expression, datetime(2000, 1, 1))
    except CronSimError as exc:
        raise ScheduleError(_field_error(str(exc), fields)) from exc
    return expression


def _field_error(message: str, fields: list[str]) -> str:
    """cronsim's "Bad day-of-month" → `day of month: "32" is not valid (allowed: 1-31, L or LW)`."""
    cronsim_name = message.removeprefix("Bad ").strip()
    index = _CRONSIM_NAMES.get(cronsim_name)
    if index is None:
        return f"cron {' '.join(fields)!r}: {message}"
    name, allowed = _FIELDS[index]
    return f'{name}: "{fields[index]}" is not valid (allowed: {allowed})'

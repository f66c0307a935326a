"""Destination schedules as APScheduler triggers, and the one rule for "is a tick due now?".

Both delegate to `bot.contract.schedule`: the jobs fire at exactly the times `plan` and
`status` announce, because there is one piece of code that computes them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger

from bot.contract.schedule import CronDrip, Digest

__all__ = ["ScheduleTrigger", "due_tick"]

_MISSED_CAP = 10_000


class ScheduleTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 ships no type hints
    """An APScheduler trigger whose fire times are `bot.contract.schedule`'s (time zone and DST included)."""

    def __init__(self, schedule: CronDrip | Digest) -> None:
        self.schedule = schedule

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """The first fire time after the previous one (or at/after `now` for a new job)."""
        after = previous_fire_time if previous_fire_time is not None else now - timedelta(seconds=1)
        return self.schedule.next_fire(after)

    def __str__(self) -> str:
        return f"schedule[{self.schedule.text} {self.schedule.timezone}]"

    def __repr__(self) -> str:
        return f"<ScheduleTrigger {self.schedule!r}>"


def due_tick(schedule: CronDrip | Digest, last: datetime, now: datetime,
             grace: float) -> tuple[datetime | None, int]:
    """The coalesced tick to run now, if any: (latest fire time in (last, now], number missed).

    Misfires are coalesced (many missed fire times → one run) and a run later than
    `grace` seconds after its fire time is skipped, as APScheduler does with
    `coalesce=True, misfire_grace_time=grace`. Returns (None, n) when nothing is due
    or the latest tick is too late.
    """
    latest = schedule.last_fire(now)
    if latest is None or latest <= last:
        return None, 0
    missed = schedule.count_fires(last, now, cap=_MISSED_CAP)
    if (now - latest).total_seconds() > grace:
        return None, missed
    return latest, missed

"""`build_plan`'s deliveries laid out as a calendar: one row per destination, one column per day.

Each delivery already carries its time in the destination's zone; this only places it
in the column of that local date, so a 09:00 Europe/Paris drip sits on the Paris day
whatever the server's zone is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.plan import DestinationPlan, PlannedDelivery

__all__ = ["CalendarEntry", "CalendarRow", "PlanCalendar", "plan_calendar"]

@dataclass(frozen=True, slots=True)
class CalendarEntry:
    time: str  # "09:00" in the destination's zone
    what: str
    kind: str
    key: str  # the section key (or "digest", "index") the colour stands for
    color: str  # "#3498db": one per section key, the same on every row
    queued: bool


@dataclass(frozen=True, slots=True)
class CalendarRow:
    plan: DestinationPlan
    cells: tuple[tuple[CalendarEntry, ...], ...]  # one per calendar day
    beyond: int  # deliveries after the last day shown


@dataclass(frozen=True, slots=True)
class PlanCalendar:
    days: tuple[date, ...]
    rows: tuple[CalendarRow, ...]

    @property
    def legend(self) -> list[tuple[str, str]]:
        """(colour, section key or kind) for every colour shown, in order of first appearance."""
        seen: dict[str, str] = {}
        for row in self.rows:
            for cell in row.cells:
                for entry in cell:
                    seen.setdefault(entry.key, entry.color)
        return [(color, key) for key, color in seen.items()]


def _entry(delivery: PlannedDelivery, color: Callable[[str], int]) -> CalendarEntry:
    assert delivery.when is not None
    key = delivery.unit or delivery.kind
    return CalendarEntry(delivery.when.strftime("%H:%M"), delivery.what, delivery.kind, key.lstrip("#"),
                         f"#{color(key):06x}", delivery.queued)


def plan_calendar(plans: Sequence[DestinationPlan], now: datetime, days: int,
                  color: Callable[[str], int]) -> PlanCalendar:
    """Columns from the earliest destination's local today, `days` long (plus a day if zones straddle midnight).

    `color` is the section colour Discord's embeds use, so a section looks the same everywhere.
    """
    todays = [now.astimezone(ZoneInfo(p.timezone)).date() for p in plans] or [now.date()]
    first, last = min(todays), max(todays) + timedelta(days=days - 1)
    columns = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
    index = {day: i for i, day in enumerate(columns)}
    rows = []
    for plan in plans:
        cells: list[list[CalendarEntry]] = [[] for _ in columns]
        beyond = 0
        for delivery in plan.deliveries:
            if delivery.when is None:
                continue
            column = index.get(delivery.when.date())
            if column is None:
                beyond += 1
                continue
            cells[column].append(_entry(delivery, color))
        rows.append(CalendarRow(plan, tuple(tuple(c) for c in cells), beyond))
    return PlanCalendar(columns, tuple(rows))

"""`build_plan`'s deliveries laid out for reading: a calendar grid and a day-by-day agenda.

Each delivery already carries its time in the destination's zone; this only places it
on that local date, so a 09:00 Europe/Paris drip sits on the Paris day whatever the
server's zone is. Rows in different zones are different timelines: each row and each
agenda entry says its zone, and "today" is marked per row (it is not the same day
everywhere). Colours are palette slots (`web.panel.colors`), distinct per section on
the page; the legend names the sections as readers know them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.forecast import DestinationPlan, PlannedDelivery
from web.panel.colors import section_name, section_slots

__all__ = ["AgendaDay", "AgendaEntry", "CalendarEntry", "CalendarRow", "PlanCalendar", "plan_calendar"]

#: A delivery's section name ("Outils et jeux de données"), or None when no stored issue names it.
NameOf = Callable[[PlannedDelivery], str | None]


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    time: str  # "09:00" in the destination's zone
    zone: str  # "CET": the abbreviation at that time
    when: datetime
    what: str
    kind: str
    key: str  # the section key (or "digest", "index") the colour stands for
    slot: int  # the palette slot of `key` on this page
    queued: bool


@dataclass(frozen=True, slots=True)
class CalendarRow:
    plan: DestinationPlan
    cells: tuple[tuple[CalendarEntry, ...], ...]  # one per calendar day
    beyond: int  # deliveries after the last day shown
    today: date  # today in the destination's zone
    zone: str  # "Europe/Paris (UTC+01:00)"


@dataclass(frozen=True, slots=True)
class AgendaEntry:
    destination: DestinationPlan
    entry: CalendarEntry


@dataclass(frozen=True, slots=True)
class AgendaDay:
    day: date
    today: bool  # today in at least one listed entry's zone
    entries: tuple[AgendaEntry, ...]  # in the order they happen


@dataclass(frozen=True, slots=True)
class PlanCalendar:
    days: tuple[date, ...]
    rows: tuple[CalendarRow, ...]
    legend: tuple[tuple[int, str, str], ...]  # (slot, key, name) for every section shown, by name
    todays: frozenset[date]  # the dates that are today in some row's zone

    @property
    def agenda(self) -> tuple[AgendaDay, ...]:
        """Day by day, every dated delivery of every destination, each at its local time."""
        days: dict[date, list[AgendaEntry]] = {}
        for row in self.rows:
            for cell in row.cells:
                for entry in cell:
                    days.setdefault(entry.when.date(), []).append(AgendaEntry(row.plan, entry))
        return tuple(AgendaDay(day, day in self.todays, tuple(sorted(entries, key=lambda a: a.entry.when)))
                     for day, entries in sorted(days.items()))

    def weekend(self, day: date) -> bool:
        return day.weekday() >= 5


def zone_label(timezone: str, now: datetime) -> str:
    """ "Europe/Paris (UTC+01:00)": the zone and its current offset, so rows in different zones read apart."""
    offset = now.astimezone(ZoneInfo(timezone)).strftime("%z")
    return f"{timezone} (UTC{offset[:3]}:{offset[3:]})" if offset else timezone


def plan_calendar(plans: Sequence[DestinationPlan], now: datetime, days: int,
                  name_of: NameOf = lambda _: None) -> PlanCalendar:
    """Columns from the earliest destination's local today, `days` long (plus a day if zones straddle midnight)."""
    todays = {p.name: now.astimezone(ZoneInfo(p.timezone)).date() for p in plans}
    first = min(todays.values(), default=now.date())
    last = max(todays.values(), default=now.date()) + timedelta(days=days - 1)
    columns = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
    index = {day: i for i, day in enumerate(columns)}
    dated = [(plan, d) for plan in plans for d in plan.deliveries if d.when is not None and d.when.date() in index]
    slots = section_slots(_key(d) for _, d in dated)
    names: dict[str, str] = {}
    for _, delivery in dated:
        key = _key(delivery)
        if key not in names:
            names[key] = name_of(delivery) or section_name(key)
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
            cells[column].append(_entry(delivery, slots[_key(delivery)]))
        rows.append(CalendarRow(plan, tuple(tuple(c) for c in cells), beyond,
                                todays.get(plan.name, now.date()), zone_label(plan.timezone, now)))
    legend = tuple(sorted(((slots[k], k, names[k]) for k in slots), key=lambda t: t[2].casefold()))
    return PlanCalendar(columns, tuple(rows), legend, frozenset(todays.values()))


def _key(delivery: PlannedDelivery) -> str:
    return (delivery.unit or delivery.kind).lstrip("#")


def _entry(delivery: PlannedDelivery, slot: int) -> CalendarEntry:
    assert delivery.when is not None
    return CalendarEntry(delivery.when.strftime("%H:%M"), delivery.when.strftime("%Z"), delivery.when,
                         delivery.what, delivery.kind, _key(delivery), slot, delivery.queued)

"""What each destination will receive over the next days, and when: the forecast behind `digestbot plan`.

Read-only and computed from the code the scheduler runs: fire times from
`bot.contract.schedule` (the same objects the APScheduler jobs delegate to), what goes next
from `Planner.upcoming` (the admission and section-selection rules the ticks use)
and what is already queued from the outbox. The CLI formats it; a web panel can
render the same data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from bot.contract.destination import Unrunnable
from bot.contract.schedule import CronDrip, OnPublish
from bot.core.i18n import plural_en
from bot.core.models import Issue, Section
from bot.ports import Destination
from bot.settings.config import Config
from bot.storage.store import Store
from scheduler.outbox import OPEN_STATES, Outbox
from scheduler.planner import DIGEST, INDEX, Planner

__all__ = ["DestinationPlan", "PlannedDelivery", "ServiceView", "build_plan", "iso", "issue_label",
           "plan_destination", "plan_json", "section_label", "unit_label"]


class ServiceView(Protocol):
    """What `plan` and `status` read of a running (or CLI-built) DeliveryService."""

    config: Config
    store: Store
    outbox: Outbox
    planner: Planner

    def destinations(self) -> dict[str, Destination]: ...
    def invalid(self) -> dict[str, tuple[Unrunnable, str]]: ...
    def clock(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    """One post a destination will receive.

    `when` is in the destination's time zone; None means "when the next issue is
    published". `queued` posts are already rows in the outbox (they go out as soon
    as the worker reaches them, or after their retry delay).
    """

    when: datetime | None
    kind: Literal["section", "digest", "index"]
    what: str
    entry_id: str | None = None
    unit: str | None = None
    queued: bool = False


@dataclass(frozen=True, slots=True)
class DestinationPlan:
    """A destination's deliveries over the planning window, oldest first."""

    name: str
    platform: str
    to: str
    timezone: str
    schedule: str
    schedule_words: str
    deliveries: tuple[PlannedDelivery, ...]
    idle_ticks: tuple[datetime, ...] = ()  # ticks in the window with nothing left to release
    then: str | None = None  # what happens after the listed deliveries (e.g. on the next publish)
    paused: str | None = None
    backlog: int = 0  # posts not in the outbox yet that the schedule will release, in or beyond the window


def issue_label(issue: Issue) -> str:
    """ "#7 (FR)" — the short form used after a section name; the title when there is no number."""
    ref = issue.ref
    return f"#{ref.number} ({ref.language.upper()})" if ref.number is not None else ref.label


def section_label(issue: Issue, section: Section) -> str:
    """ "Publications #7 (FR)": what a maintainer reads in `status` and `plan`."""
    return f"{section.title or section.heading or section.key} {issue_label(issue)}"


def unit_label(issue: Issue | None, entry_id: str, unit: str) -> str:
    """Label of an outbox unit: a section, an edition's digest or its index."""
    if issue is None:
        return f"{unit} of {entry_id}"
    if unit == DIGEST:
        return f"digest of {issue.ref.label}"
    if unit == INDEX:
        return f"index of {issue.ref.label}"
    section = next((s for s in issue.sections if s.key == unit), None)
    return section_label(issue, section) if section else f"{unit} {issue_label(issue)}"


def plan_destination(service: ServiceView, dest: Destination, now: datetime,
                     until: datetime) -> DestinationPlan:
    """Deliveries to one destination between `now` and `until`, from the scheduler's own rules."""
    schedule = dest.schedule
    zone = ZoneInfo(dest.timezone)
    state = service.outbox.dest_state(dest.name)
    queued = _queued(service, dest, now, zone)
    upcoming = service.planner.upcoming(dest)
    deliveries = list(queued)
    idle: list[datetime] = []
    then: str | None
    if isinstance(schedule, OnPublish):
        spacing = service.config.delivery.spacing
        deliveries += [_delivery((now + timedelta(seconds=i * spacing)).astimezone(zone), issue, section)
                       for i, (issue, section) in enumerate(upcoming)]
        then = "every selected section of each new issue as soon as it is published"
    else:
        fires = schedule.fires_until(now, until)
        if isinstance(schedule, CronDrip):  # `per_tick` sections per tick
            step = schedule.per_tick
            deliveries += [_delivery(fires[i // step], issue, section)
                           for i, (issue, section) in enumerate(upcoming[: len(fires) * step])]
            busy = -(-len(upcoming) // step)
            idle = fires[busy:]
            each = "one section" if step == 1 else f"{step} sections"
            then = _later(len(upcoming) - len(fires) * step, "section", f"{each} per tick of each new issue")
        else:  # every waiting digest at the first tick
            if fires:
                deliveries += [_delivery(fires[0], issue, section) for issue, section in upcoming]
            idle = fires[1:] if upcoming else fires
            then = _later(0 if fires else len(upcoming), "digest",
                          "a digest of each new issue at the first tick after it is published")
    return DestinationPlan(
        name=dest.name, platform=dest.platform, to=dest.chat, timezone=dest.timezone, schedule=schedule.text,
        schedule_words=schedule.words(), deliveries=tuple(deliveries), idle_ticks=tuple(idle), then=then,
        paused=state.paused_reason if state else None, backlog=len(upcoming),
    )


def build_plan(service: ServiceView, days: int = 7, now: datetime | None = None) -> list[DestinationPlan]:
    """Every destination's deliveries over the next `days` days (destinations that cannot run are listed paused)."""
    start = now or service.clock()
    until = start + timedelta(days=days)
    service.planner.forget()
    plans = [plan_destination(service, dest, start, until) for dest in service.destinations().values()]
    for name, (dest, reason) in service.invalid().items():
        plans.append(DestinationPlan(name=name, platform=dest.platform, to=dest.chat, timezone=dest.timezone,
                                     schedule=dest.schedule, schedule_words=dest.schedule, deliveries=(),
                                     paused=reason))
    return plans


def plan_json(plans: list[DestinationPlan], now: datetime, days: int) -> dict[str, Any]:
    """The stable JSON shape of `plan --json` (ISO 8601 times with offsets, no microseconds).

    `from` is the start of the window (the minute the plan was asked, or `--at`): no wall-clock
    second appears, so the same state gives the same bytes.
    """
    return {
        "from": iso(now), "days": days,
        "destinations": [{
            "name": p.name, "platform": p.platform, "to": p.to, "timezone": p.timezone, "schedule": p.schedule,
            "schedule_words": p.schedule_words, "paused": p.paused, "backlog": p.backlog, "then": p.then,
            "deliveries": [{"when": iso(d.when), "kind": d.kind, "what": d.what, "entry_id": d.entry_id,
                            "unit": d.unit, "queued": d.queued} for d in p.deliveries],
            "idle_ticks": [iso(t) for t in p.idle_ticks],
        } for p in plans],
    }


def iso(when: datetime | None) -> str | None:
    """ISO 8601 with the offset and without microseconds (what every time in `--json` looks like)."""
    return when.replace(microsecond=0).isoformat() if when is not None else None


def _delivery(when: datetime, issue: Issue, section: Section | None) -> PlannedDelivery:
    """A post the schedule will release: a section, or (no section) the edition's digest."""
    if section is None:
        return PlannedDelivery(when, "digest", f"digest of {issue.ref.label}", issue.entry_id, DIGEST)
    return PlannedDelivery(when, "section", section_label(issue, section), issue.entry_id, section.key)


def _later(waiting: int, what: str, afterwards: str) -> str:
    """What follows the window: the backlog the next ticks still hold, then the steady state."""
    if waiting <= 0:
        return afterwards
    return f"{plural_en(waiting, f'more {what}')} at the next ticks; after that, {afterwards}"


def _queued(service: ServiceView, dest: Destination, now: datetime, zone: ZoneInfo) -> list[PlannedDelivery]:
    """Posts already in the outbox, one per unit (a section's parts travel together), in queue order."""
    seen: dict[tuple[str, str, str], PlannedDelivery] = {}
    for row in service.outbox.rows(dest.name):
        if row.state not in OPEN_STATES:
            continue
        key = (row.entry_id, row.unit, row.op)
        if key in seen:
            continue
        when = max(now, datetime.fromtimestamp(row.next_attempt_at, now.tzinfo)).astimezone(zone)
        what = unit_label(service.planner.issue(row.entry_id), row.entry_id, row.unit)
        kind: Literal["section", "digest", "index"] = (
            "digest" if row.unit == DIGEST else "index" if row.unit == INDEX else "section")
        seen[key] = PlannedDelivery(when, kind, f"edit of {what}" if row.op == "edit" else what,
                                    row.entry_id, row.unit, queued=True)
    return list(seen.values())


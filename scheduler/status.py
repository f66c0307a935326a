"""What the service is doing: feeds, destinations, queues — the data behind `digestbot status`.

One function builds it (`build_status`); `to_json` gives the stable JSON shape
(ISO 8601 times with offsets and no microseconds, durations in whole seconds) that
`status --json` prints and a web panel can serve. "What is next" is the first entry
of the destination's plan, so `status` and `plan` never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.contract.destination import Destination, Unrunnable
from bot.contract.schedule import OnPublish
from bot.storage.store import HeldIssue
from scheduler.forecast import DestinationPlan, ServiceView, iso, plan_destination
from scheduler.outbox import DestState, Outbox

__all__ = ["DestinationStatus", "FailedPost", "FeedStatus", "Selection", "ServiceStatus", "build_status", "to_json"]

_STATES = ("pending", "sending", "sent", "failed", "dead")
_MAX_ISSUES = 10_000


@dataclass(frozen=True, slots=True)
class FeedStatus:
    name: str
    url: str
    poll_interval: int  # seconds
    last_poll: datetime | None
    last_ok: datetime | None
    last_error: str | None
    error_count: int
    issues: int  # newsletter editions stored from this feed
    held: tuple[HeldIssue, ...] = ()  # stored but not delivered: over a size limit
    entries: int | None = None  # entries in the feed at its last read (None: never read)
    skipped: dict[str, int] = field(default_factory=dict)  # entries that are not issues, by reason


@dataclass(frozen=True, slots=True)
class FailedPost:
    """A post that failed and waits for its next attempt (capped by `delivery.max_retry_wait`)."""

    entry_id: str
    unit: str
    part: int
    attempts: int
    next_attempt: datetime
    error: str | None


@dataclass(frozen=True, slots=True)
class Selection:
    """A destination's effective selection and where it comes from (config.toml or a `/subscribe`)."""

    feeds: tuple[str, ...]
    languages: tuple[str, ...]
    sections: tuple[str, ...]
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    source: str  # "config.toml" or "changed by /subscribe in chat X at T (by U)"
    overridden: bool  # a /subscribe changed config.toml's selection (`digestbot reset` drops it)
    changed_by: str | None = None
    changed_in: str | None = None
    changed_at: datetime | None = None

    @classmethod
    def of(cls, dest: Destination) -> Selection:
        change = dest.change
        return cls(dest.feeds, dest.languages, dest.sections, dest.filters.include, dest.filters.exclude,
                   dest.source(), dest.overridden, change.by if change else None, change.chat if change else None,
                   change.at if change else None)

    def to_json(self) -> dict[str, Any]:
        return {"feeds": list(self.feeds), "languages": list(self.languages), "sections": list(self.sections),
                "include": list(self.include), "exclude": list(self.exclude), "source": self.source,
                "overridden": self.overridden, "changed_by": self.changed_by, "changed_in": self.changed_in,
                "changed_at": iso(self.changed_at)}


@dataclass(frozen=True, slots=True)
class DestinationStatus:
    """One destination as a maintainer needs to see it; `removed` ones only have their outbox left."""

    name: str
    platform: str | None
    to: str | None
    schedule: str | None
    schedule_words: str | None
    timezone: str | None
    next_run: datetime | None  # next tick in the destination's zone; None for on_publish and removed ones
    queued: int  # posts waiting: already in the outbox, plus those the next ticks will release
    next: str | None  # what goes out next ("Publications #7 (FR)")
    outbox: dict[str, int] = field(default_factory=dict)  # rows by state
    last_delivery: datetime | None = None
    paused: str | None = None
    removed: bool = False
    failed: tuple[FailedPost, ...] = ()
    blocked_until: datetime | None = None  # its next post waits for a retry time (a flood block, an outage)
    blocked_reason: str | None = None
    selection: Selection | None = None  # None for removed and unrunnable destinations


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    generated_at: datetime
    feeds: tuple[FeedStatus, ...]
    destinations: tuple[DestinationStatus, ...]


def build_status(service: ServiceView, now: datetime | None = None) -> ServiceStatus:
    """Feeds (last poll, last error, issues stored) and destinations (schedule, next run, queue, counts, pause):
    the running ones, then those whose schedule cannot run, then those only the outbox still knows."""
    now = now or service.clock()
    service.planner.forget()
    queues = _Queues.read(service.outbox, now)
    dests, invalid = service.destinations(), service.invalid()
    destinations = [_running(service, dest, queues, now) for dest in dests.values()]
    destinations += [_unrunnable(bad, reason, queues) for bad, reason in invalid.values()]
    destinations += [_removed(name, queues) for name in queues.states if name not in dests and name not in invalid]
    return ServiceStatus(now, _feeds(service), tuple(destinations))


def _feeds(service: ServiceView) -> tuple[FeedStatus, ...]:
    """Each configured feed with its last poll's outcome (none yet: a feed never polled)."""
    states = {s.name: s for s in service.store.feed_states()}
    feeds = []
    for feed in service.config.feeds:
        fs = states.get(feed.name)
        feeds.append(FeedStatus(
            name=feed.name, url=feed.url, poll_interval=round(feed.poll_interval),
            last_poll=_parse(fs.last_polled) if fs else None, last_ok=_parse(fs.last_ok) if fs else None,
            last_error=fs.last_error if fs else None, error_count=fs.error_count if fs else 0,
            issues=len(service.store.list_issues(feed=feed.name, limit=_MAX_ISSUES)),
            held=tuple(service.store.held_issues(feed.name)), entries=fs.entries if fs else None,
            skipped=dict(fs.skipped) if fs else {}))
    return tuple(feeds)


@dataclass(frozen=True, slots=True)
class _Queues:
    """The outbox as `status` reads it: one query per kind, for every destination at once."""

    counts: dict[str, dict[str, int]]
    states: dict[str, DestState]
    last: dict[str, float]
    waiting: dict[str, tuple[FailedPost, ...]]
    blocked: dict[str, tuple[float, str | None]]

    @classmethod
    def read(cls, outbox: Outbox, now: datetime) -> _Queues:
        waiting = {name: tuple(FailedPost(r["entry_id"], r["unit"], r["part"], r["attempts"],
                                          datetime.fromtimestamp(r["next_attempt_at"], UTC), r["error"])
                               for r in rows)
                   for name, rows in outbox.waiting().items()}
        return cls(outbox.counts(), outbox.dest_states(), outbox.last_deliveries(), waiting,
                   outbox.blocked(now.timestamp()))

    def outbox(self, name: str) -> dict[str, int]:
        return {state: self.counts.get(name, {}).get(state, 0) for state in _STATES}

    def paused(self, name: str) -> str | None:
        state = self.states.get(name)
        return state.paused_reason if state else None


def _running(service: ServiceView, dest: Destination, queues: _Queues, now: datetime) -> DestinationStatus:
    """A destination that runs: its schedule, what goes next (its plan's first entry), its queue."""
    name, schedule = dest.name, dest.schedule
    next_run = None if isinstance(schedule, OnPublish) else schedule.next_fire(now)
    plan = plan_destination(service, dest, now, next_run or now)
    blocked = queues.blocked.get(name)
    return DestinationStatus(
        name=name, platform=dest.platform, to=dest.chat, schedule=schedule.text,
        schedule_words=schedule.words(), timezone=dest.timezone, next_run=next_run,
        queued=_waiting(plan), next=plan.deliveries[0].what if plan.deliveries else None,
        outbox=queues.outbox(name), last_delivery=_time(queues.last.get(name)), paused=queues.paused(name),
        failed=queues.waiting.get(name, ()),
        blocked_until=_time(blocked[0]) if blocked else None, blocked_reason=blocked[1] if blocked else None,
        selection=Selection.of(dest))


def _unrunnable(bad: Unrunnable, reason: str, queues: _Queues) -> DestinationStatus:
    """A destination set apart because its schedule cannot run: paused, with the reason."""
    outbox = queues.outbox(bad.name)
    return DestinationStatus(
        name=bad.name, platform=bad.platform, to=bad.chat, schedule=bad.schedule, schedule_words=None,
        timezone=bad.timezone, next_run=None, queued=_open(outbox), next=None, outbox=outbox,
        last_delivery=_time(queues.last.get(bad.name)), paused=reason)


def _removed(name: str, queues: _Queues) -> DestinationStatus:
    """A destination no longer configured: only its outbox is left."""
    outbox = queues.outbox(name)
    return DestinationStatus(
        name=name, platform=None, to=None, schedule=None, schedule_words=None, timezone=None,
        next_run=None, queued=_open(outbox), next=None, outbox=outbox, last_delivery=_time(queues.last.get(name)),
        paused=queues.paused(name), removed=True)


def _waiting(plan: DestinationPlan) -> int:
    """Posts in the outbox plus everything the destination's next ticks will release (the whole backlog)."""
    return sum(1 for d in plan.deliveries if d.queued) + plan.backlog


def _open(outbox: dict[str, int]) -> int:
    return outbox["pending"] + outbox["sending"] + outbox["failed"]


def to_json(status: ServiceStatus) -> dict[str, Any]:
    """The stable JSON shape of `status --json`."""
    return {
        "generated_at": iso(status.generated_at),
        "feeds": [{
            "name": f.name, "url": f.url, "poll_interval": f.poll_interval, "last_poll": iso(f.last_poll),
            "last_ok": iso(f.last_ok), "last_error": f.last_error, "error_count": f.error_count,
            "issues": f.issues,
            "held": [{"issue": h.entry_id, "title": h.title, "reason": h.reason} for h in f.held],
            "entries": f.entries,
            "skipped": f.skipped,
        } for f in status.feeds],
        "destinations": [{
            "name": d.name, "platform": d.platform, "to": d.to, "schedule": d.schedule,
            "schedule_words": d.schedule_words, "timezone": d.timezone, "next_run": iso(d.next_run),
            "queued": d.queued, "next": d.next, "outbox": dict(d.outbox), "last_delivery": iso(d.last_delivery),
            "paused": d.paused, "removed": d.removed,
            "blocked_until": iso(d.blocked_until), "blocked_reason": d.blocked_reason,
            "selection": d.selection.to_json() if d.selection is not None else None,
            "failed": [{"entry_id": f.entry_id, "unit": f.unit, "part": f.part, "attempts": f.attempts,
                        "next_attempt_at": iso(f.next_attempt), "error": f.error} for f in d.failed],
        } for d in status.destinations],
    }


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _time(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


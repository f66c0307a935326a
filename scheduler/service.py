"""DeliveryService: polls feeds, runs the schedules and drains the outbox until stopped.

Jobs live in APScheduler's in-memory job store and are rebuilt from config and the
database at every start: the database (outbox, destination state, last tick) is
the single source of truth, so added, changed and removed destinations are
reconciled on restart without duplicates, and nothing about jobs needs pickling.
Missed cron ticks after downtime are replayed once (coalesced) at start if the
latest one is within `delivery.misfire_grace_time`, from the persisted last tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Config, FeedConfig
from bot.destinations import destination_from_config
from bot.errors import ConfigError, DigestbotError, FeedError
from bot.models import IssueRef
from bot.ports import Destination, Platform
from bot.sections import SectionAliases
from bot.store import Store
from scheduler.cron import due_tick, parse_schedule, validate_schedules
from scheduler.outbox import Outbox, OutboxRow
from scheduler.planner import Planner
from scheduler.selection import SectionMatcher, matches_issue
from scheduler.worker import DeliveryWorker

if TYPE_CHECKING:
    from bot.ingest import Ingestor

__all__ = ["DeliveryService", "validate_schedules"]

log = logging.getLogger(__name__)

_SUBSCRIPTION_CHECK = 1.0  # seconds between cheap checks of Store.subscriptions_version()
_IDLE_WAIT = 1.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DeliveryService:
    """One per database: the composition of planner (what), worker (how) and APScheduler (when)."""

    def __init__(self, config: Config, store: Store, platforms: Mapping[str, Platform],
                 ingestor: Ingestor, *, clock: Callable[[], datetime] | None = None,
                 scheduler: AsyncIOScheduler | None = None) -> None:
        self.config = config
        self.store = store
        self.platforms = platforms
        self.ingestor = ingestor
        self._clock = clock or _utcnow
        self.scheduler = scheduler or AsyncIOScheduler(timezone=UTC)
        self.outbox = Outbox(store.db)
        self.matcher = SectionMatcher(SectionAliases(config.sections.aliases))
        self.planner = Planner(store, self.outbox, platforms, self._now, spacing=config.delivery.spacing,
                               matcher=self.matcher)
        self.worker = DeliveryWorker(self.outbox, platforms, self.destinations, config.delivery, self._now,
                                     on_sent=self._after_sent)
        self._dests: dict[str, Destination] | None = None
        self._subs_version: int | None = None
        self._wake = asyncio.Event()
        self._prepared = False

    # ------------------------------------------------------------------ time and destinations
    def _now(self) -> float:
        return self._clock().timestamp()

    def destinations(self) -> dict[str, Destination]:
        """Configured destinations, then those created by `/subscribe` (config wins a name clash)."""
        if self._dests is None:
            dests = {d.name: destination_from_config(d) for d in self.config.destinations}
            for sub in self.store.subscriptions():
                dests.setdefault(sub.name, sub)
            self._dests = dests
            self._subs_version = self.store.subscriptions_version()
        return self._dests

    def _refresh_subscriptions(self) -> bool:
        """Pick up destinations added or removed at run time; True when something changed."""
        version = self.store.subscriptions_version()
        if version == self._subs_version:
            return False
        self._dests = None
        self.destinations()
        self.outbox.mark_removed(self.destinations())
        self._sync_jobs()
        return True

    def _prepare(self) -> None:
        """Reconcile with the database: flag removed destinations, resume rows left in `sending`."""
        if self._prepared:
            return
        dests = self.destinations()
        now = self._now()
        for name in dests:
            self.outbox.ensure_dest(name, now)
        gone = self.outbox.mark_removed(dests)
        for name in gone:
            log.warning("destination %s is no longer configured; its queued posts stay queued", name)
        self._prepared = True

    # ------------------------------------------------------------------ planning
    def _plan(self) -> int:
        """Admit new editions and enqueue on_publish work (including work a crash interrupted)."""
        dests = self.destinations()
        self.planner.forget()
        self.planner.admit(dests)
        count = 0
        for dest in dests.values():
            if dest.schedule == "on_publish" and dest.platform in self.platforms:
                for entry_id in self.outbox.open_admissions(dest.name):
                    count += self.planner.enqueue_issue(dest, entry_id)
        if count:
            self._wake.set()
        return count

    async def _poll(self, feed: FeedConfig) -> None:
        try:
            results = await self.ingestor.poll(feed)
        except FeedError as exc:
            log.error("feed %s failed, will retry at the next poll: %s", feed.name, exc.reason)
            return
        dests = self.destinations()
        self.planner.forget()
        for result in results:
            if result.status == "changed" and not result.held:  # a held issue is not delivered, edits neither
                self.planner.on_changed(result, dests)
        self._plan()
        self._wake.set()

    async def _poll_job(self, feed_name: str) -> None:
        feed = next((f for f in self.config.feeds if f.name == feed_name), None)
        if feed is not None:
            await self._poll(feed)

    def run_due(self, only: str | None = None) -> int:
        """Run the cron/digest ticks that are due by the clock (coalesced); returns rows enqueued.

        APScheduler's jobs call this at fire time; tests call it after moving their clock.
        """
        now_dt = self._clock()
        now = now_dt.timestamp()
        grace = self.config.delivery.misfire_grace_time
        count = 0
        self.planner.forget()
        for dest in self.destinations().values():
            if (only is not None and dest.name != only) or dest.platform not in self.platforms:
                continue
            schedule = parse_schedule(dest.schedule, dest.timezone)
            trigger = schedule.trigger()
            if trigger is None:
                continue
            state = self.outbox.ensure_dest(dest.name, now)
            if state.last_tick_at is None:
                self.outbox.set_last_tick(dest.name, now)
                continue
            last = datetime.fromtimestamp(state.last_tick_at, UTC)
            fire, missed = due_tick(trigger, last, now_dt, grace)
            if fire is None and not missed:
                continue
            self.outbox.set_last_tick(dest.name, now)
            if fire is None:
                log.warning("destination %s: %d tick(s) missed beyond the grace time; skipped", dest.name, missed)
                continue
            if missed > 1:
                log.info("destination %s: %d missed ticks coalesced into one", dest.name, missed)
            count += self.planner.digest(dest) if schedule.mode == "digest" else self.planner.drip(dest)
        if count:
            self._wake.set()
        return count

    async def _tick_job(self, name: str) -> None:
        self.run_due(only=name)

    def _after_sent(self, row: OutboxRow) -> None:
        dest = self.destinations().get(row.destination)
        if dest is not None:
            self.planner.after_sent(dest, row)

    # ------------------------------------------------------------------ APScheduler jobs
    def _job_defaults(self) -> dict[str, Any]:
        return {"coalesce": True, "max_instances": 1,
                "misfire_grace_time": max(1, int(self.config.delivery.misfire_grace_time))}

    def _sync_jobs(self) -> None:
        """Make the scheduler's jobs match config + subscriptions (add, replace, remove)."""
        wanted: set[str] = set()
        for feed in self.config.feeds:
            job_id = f"poll:{feed.name}"
            wanted.add(job_id)
            if self.scheduler.get_job(job_id) is None:
                self.scheduler.add_job(self._poll_job, IntervalTrigger(seconds=feed.poll_interval, timezone=UTC),
                                       args=[feed.name], id=job_id, name=job_id, next_run_time=datetime.now(UTC),
                                       **self._job_defaults())
        for dest in self.destinations().values():
            trigger = parse_schedule(dest.schedule, dest.timezone).trigger()
            if trigger is None:
                continue
            job_id = f"tick:{dest.name}"
            wanted.add(job_id)
            job = self.scheduler.get_job(job_id)
            if job is None or str(job.trigger) != str(trigger):
                self.scheduler.add_job(self._tick_job, trigger, args=[dest.name], id=job_id, name=job_id,
                                       replace_existing=True, **self._job_defaults())
        for job in self.scheduler.get_jobs():
            if job.id not in wanted:
                job.remove()

    # ------------------------------------------------------------------ entry points
    async def run_once(self) -> None:
        """One poll of every feed, the due ticks and on_publish work, then drain what is ready."""
        self._prepare()
        for feed in self.config.feeds:
            await self._poll(feed)
        self._plan()
        self.run_due()
        await self.worker.drain()

    async def run(self, stop: asyncio.Event) -> None:
        """Poll, schedule and deliver until `stop` is set; the send in flight is finished first."""
        self._prepare()
        self._sync_jobs()
        self._plan()
        self.run_due()  # catch up ticks missed while down (coalesced, within the grace time)
        self.scheduler.start()  # poll jobs run at once, then every poll_interval
        last_check = 0.0
        stop_task = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                now = self._now()
                if now - last_check >= _SUBSCRIPTION_CHECK:
                    last_check = now
                    if self._refresh_subscriptions():
                        self._plan()
                        self.run_due()
                if await self.worker.drain_round():
                    await asyncio.sleep(0)
                    continue
                self._wake.clear()
                due = self.outbox.next_due()
                timeout = _IDLE_WAIT if due is None else min(_IDLE_WAIT, max(0.0, due - self._now()))
                wake_task = asyncio.ensure_future(self._wake.wait())
                await asyncio.wait({wake_task, stop_task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                wake_task.cancel()
        finally:
            stop_task.cancel()
            self.ingestor.stop()  # an ingest in its worker thread stops too; shutdown never waits for it
            with contextlib.suppress(Exception):
                self.scheduler.shutdown(wait=False)

    # ------------------------------------------------------------------ maintenance commands
    def status(self) -> dict[str, Any]:
        """Feeds (last poll, errors) and destinations (next run, last delivery, pause, outbox counts)."""
        now_dt = self._clock()
        feeds = []
        states = {s.name: s for s in self.store.feed_states()}
        for feed in self.config.feeds:
            fs = states.get(feed.name)
            feeds.append({
                "name": feed.name, "url": feed.url, "poll_interval": feed.poll_interval,
                "last_poll": fs.last_polled if fs else None, "last_ok": fs.last_ok if fs else None,
                "last_error": fs.last_error if fs else None, "error_count": fs.error_count if fs else 0,
                "held": [{"issue": h.entry_id, "title": h.title, "reason": h.reason}
                         for h in self.store.held_issues(feed.name)],
            })
        counts = self.outbox.counts()
        dest_states = self.outbox.dest_states()
        last_deliveries = self.outbox.last_deliveries()
        destinations = []
        dests = self.destinations()
        for name in list(dests) + [n for n in dest_states if n not in dests]:
            dest = dests.get(name)
            ds = dest_states.get(name)
            next_run: str | None = None
            if dest is not None:
                trigger = parse_schedule(dest.schedule, dest.timezone).trigger()
                fire = trigger.get_next_fire_time(None, now_dt) if trigger is not None else None
                next_run = fire.isoformat() if fire else "on publish"
            destinations.append({
                "name": name, "platform": dest.platform if dest else None,
                "schedule": dest.schedule if dest else None, "removed": dest is None,
                "next_run": next_run,
                "last_delivery": _iso(last_deliveries.get(name)),
                "paused": ds.paused_reason if ds else None,
                "outbox": {state: counts.get(name, {}).get(state, 0)
                           for state in ("pending", "sending", "sent", "failed", "dead")},
            })
        return {"feeds": feeds, "destinations": destinations}

    async def send_now(self, destination: str, issue: int | None = None, section: str | None = None) -> int:
        """Push an edition (or one section) to a destination now; returns rows enqueued (then delivered)."""
        self._prepare()
        dest = self._dest(destination)
        ref = self._pick_edition(dest, issue)
        if ref is None:
            raise DigestbotError(f"no stored edition for destination {destination!r}"
                              + (f" and issue #{issue}" if issue is not None else ""))
        key = None
        if section is not None:
            stored = self.planner.issue(ref.entry_id)
            match = next((s for s in (stored.sections if stored else ())
                          if self.matcher.wanted(s, (section,))), None)
            if match is None:
                raise DigestbotError(f"{ref.label} has no section {section!r}")
            key = match.key
        count = self.planner.send_now(dest, ref.entry_id, key)
        await self.worker.drain()
        return count

    def retry(self, destination: str) -> int:
        """Un-pause a destination and re-queue its dead rows; returns the rows re-queued."""
        self._dest(destination)
        self.outbox.unpause(destination)
        count = self.outbox.requeue_dead(destination, self._now())
        self._wake.set()
        return count

    def _dest(self, name: str) -> Destination:
        dest = self.destinations().get(name)
        if dest is None:
            raise ConfigError(f"destinations.{name}", "unknown destination (see `digestbot status`)")
        return dest

    def _pick_edition(self, dest: Destination, number: int | None) -> IssueRef | None:
        refs = self.store.editions(number) if number is not None else self.store.list_issues(limit=10_000)
        return next((r for r in refs if matches_issue(dest, r)), None)


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat() if epoch is not None else None

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
import sqlite3
from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.contract.destination import Unrunnable
from bot.contract.schedule import CronDrip, OnPublish
from bot.core.errors import ConfigError, DigestbotError, FeedError
from bot.core.i18n import plural_en
from bot.ports import Destination, Outlet
from bot.settings.config import Config, FeedConfig
from bot.settings.destinations import destination_from_config, with_subscription
from bot.splitting.sections import SectionAliases
from bot.storage.fault import StorageHealth, is_storage_fault, probe_write
from bot.storage.store import Store
from scheduler.cron import ScheduleTrigger, due_tick
from scheduler.outbox import Outbox, OutboxRow
from scheduler.planner import Planner
from scheduler.selection import SectionMatcher
from scheduler.sendnow import describe_unit
from scheduler.status import build_status, to_json
from scheduler.worker import DeliveryWorker

if TYPE_CHECKING:
    from bot.feeds.ingest import Ingestor

__all__ = ["INVALID_SCHEDULE", "DeliveryService"]

log = logging.getLogger(__name__)

_SUBSCRIPTION_CHECK = 1.0  # seconds between cheap checks of Store.subscriptions_version()
_IDLE_WAIT = 1.0
_PLAN_CHUNK = 20  # destinations planned per transaction before the event loop gets a turn (~10 ms)
_STOP_GRACE = 2.0  # seconds sends in flight get to finish at shutdown (SIGTERM must stop `run` within 5 s)
INVALID_SCHEDULE = "invalid schedule:"  # prefix of the pause reason of a destination whose schedule cannot run


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DeliveryService:
    """One per database: the composition of planner (what), worker (how) and APScheduler (when)."""

    def __init__(self, config: Config, store: Store, platforms: Mapping[str, Outlet],
                 ingestor: Ingestor, *, clock: Callable[[], datetime] | None = None,
                 scheduler: AsyncIOScheduler | None = None, health: StorageHealth | None = None) -> None:
        self.config = config
        self.store = store
        self.platforms = platforms
        self.ingestor = ingestor
        self._clock = clock or _utcnow
        self.scheduler = scheduler or AsyncIOScheduler(timezone=UTC)
        self.outbox = Outbox(store.db)
        self.matcher = SectionMatcher(SectionAliases(config.sections.aliases))
        renderers = {name: outlet.renderer for name, outlet in platforms.items()}
        senders = {name: outlet.sender for name, outlet in platforms.items()}
        self.planner = Planner(store, self.outbox, renderers, self._now, spacing=config.delivery.spacing,
                               matcher=self.matcher)
        self.worker = DeliveryWorker(self.outbox, senders, self.destinations, config.delivery, self._now,
                                     on_sent=self._after_sent, describe=self.describe, tier=self._tier,
                                     on_error=self._delivery_fault)
        self._dests: dict[str, Destination] | None = None
        self._configured_dests = {d.name: destination_from_config(d) for d in config.destinations}
        self._configured = frozenset(self._configured_dests)
        self._subscribed: set[str] = set()  # names stored as subscriptions (some are configured names)
        self._invalid: dict[str, tuple[Unrunnable, str]] = {}
        self._subs_version: int | None = None
        self._wake = asyncio.Event()
        self._prepared = False
        self.health = health or StorageHealth(store.path)
        self._missed_jobs: set[str] = set()  # jobs a storage outage interrupted: run again on recovery

    # ------------------------------------------------------------------ time and destinations
    def _now(self) -> float:
        return self._clock().timestamp()

    def clock(self) -> datetime:
        """The service's current time (aware); tests move it, `status` and `plan` read it."""
        return self._clock()

    def destinations(self) -> dict[str, Destination]:
        """Configured destinations, then those created by `/subscribe` (one stored under a configured
        name updates that destination: `with_subscription`).

        Only destinations whose schedule parses are returned; the others (a subscription
        stored before its schedule text became invalid) are set apart in `invalid()` and
        paused, so one bad row can never stop the service.
        """
        if self._dests is None:
            version = self.store.subscriptions_version()
            self._dests, self._invalid, self._subscribed = dict(self._configured_dests), {}, set()
            self._apply(*self.store.load_subscriptions())
            self._subs_version = version
        return self._dests

    def _apply(self, subs: list[Destination], unrunnable: list[Unrunnable]) -> None:
        """Take stored subscriptions into the destinations: a /subscribe in a configured chat updates
        that destination, one whose schedule no longer parses is set apart (and paused)."""
        assert self._dests is not None
        for sub in subs:
            self._subscribed.add(sub.name)
            self._invalid.pop(sub.name, None)
            configured = self._configured_dests.get(sub.name)
            self._dests[sub.name] = with_subscription(configured, sub) if configured is not None else sub
        for bad in unrunnable:
            self._subscribed.add(bad.name)
            if bad.name in self._configured_dests:  # config.toml's own selection still runs
                self._dests[bad.name] = self._configured_dests[bad.name]
                log.warning("destination %s: its /subscribe override cannot run (%s); config.toml's "
                            "selection applies (`digestbot reset %s` removes the override)",
                            bad.name, bad.reason, bad.name)
                continue
            self._dests.pop(bad.name, None)
            self._invalid[bad.name] = (bad, f"{INVALID_SCHEDULE} {bad.reason}")

    def _tier(self, name: str) -> int:
        """0 for a destination of config.toml (a `/subscribe` there updates it), 1 for a runtime subscription."""
        return 0 if name in self._configured else 1

    def invalid(self) -> dict[str, tuple[Unrunnable, str]]:
        """Destinations set apart because their schedule cannot run: name → (destination, reason)."""
        self.destinations()
        return dict(self._invalid)

    def _pause_invalid(self, names: Collection[str] | None = None) -> None:
        """Pause destinations whose schedule cannot run; resume those paused for it and now fixed
        (all of them, or only `names`)."""
        now = self._now()
        invalid = self.invalid()
        for name, (_, why) in invalid.items():
            if names is not None and name not in names:
                continue
            state = self.outbox.ensure_dest(name, now)
            if state.paused_reason != why:
                self.outbox.pause(name, why, now)
                log.error("destination %s paused: %s", name, why)
        if names is None:
            states = self.outbox.dest_states()
        else:
            states = {n: st for n in names if (st := self.outbox.dest_state(n)) is not None}
        for name in self.destinations() if names is None else [n for n in names if n in self.destinations()]:
            reason = states[name].paused_reason if name in states else None
            if reason and reason.startswith(INVALID_SCHEDULE):
                self.outbox.unpause(name)
                log.info("destination %s resumed: its schedule is valid again", name)

    def refresh_subscriptions(self) -> set[str] | None:
        """Pick up destinations added, changed or removed at run time.

        Returns None when nothing changed, else the names to plan again — only the subscriptions
        written since the last look (a `/subscribe` costs the same with 10,000 subscribers as with
        10); a removal (the count went down) reloads everything.
        """
        version = self.store.subscriptions_version()
        if version == self._subs_version:
            return None
        if self._dests is not None and self._subs_version is not None:
            changed, unrunnable, total = self.store.subscriptions_since(self._subs_version)
            names = {sub.name for sub in changed} | {bad.name for bad in unrunnable}
            if total == len(self._subscribed) + len(names - self._subscribed):  # nothing removed: just these
                self._apply(changed, unrunnable)
                self._subs_version = version
                now = self._now()
                for name in names:
                    self.outbox.ensure_dest(name, now)
                self._pause_invalid(names)
                self._sync_jobs(names)
                return names
        self._dests = None
        self.outbox.mark_removed([*self.destinations(), *self._invalid])
        self._pause_invalid()
        self._sync_jobs()
        return set(self.destinations())

    def _prepare(self) -> None:
        """Reconcile with the database: flag removed destinations, resume rows left in `sending`."""
        if self._prepared:
            return
        dests = self.destinations()
        now = self._now()
        for name in dests:
            self.outbox.ensure_dest(name, now)
        gone = self.outbox.mark_removed([*dests, *self._invalid])
        self._pause_invalid()
        for name in gone:
            log.warning("destination %s is no longer configured; its queued posts stay queued", name)
        self._prepared = True

    # ------------------------------------------------------------------ planning
    def _plan(self, names: Collection[str] | None = None) -> int:
        """Admit new editions and enqueue on_publish work (including work a crash interrupted),
        for every destination or only `names`."""
        dests = self.destinations()
        if names is not None:
            dests = {name: dests[name] for name in names if name in dests}
        self.planner.forget()
        self.planner.admit(dests)
        count = self.planner.react(self.destinations())  # follow-ups a crash left undone
        for dest in dests.values():
            if isinstance(dest.schedule, OnPublish) and dest.platform in self.platforms:
                for entry_id in self.outbox.open_admissions(dest.name):
                    count += self.planner.enqueue_issue(dest, entry_id)
        if count:
            self._wake.set()
        return count

    async def _plan_in_chunks(self) -> int:
        """`_plan` for every destination, `_PLAN_CHUNK` at a time, one transaction each, yielding to the
        event loop in between: planning an edition for 10,000 subscribers must not stall /healthz,
        chat commands or the deliveries of destinations already planned."""
        names = list(self.destinations())
        count = 0
        for start in range(0, len(names), _PLAN_CHUNK):
            with self.outbox.atomic():
                count += self._plan(names[start:start + _PLAN_CHUNK])
            await asyncio.sleep(0)
        return count

    async def _poll(self, feed: FeedConfig) -> None:
        try:
            results = await self.ingestor.poll(feed)
        except FeedError as exc:
            log.error("feed %s failed, will retry at the next poll: %s", feed.name, exc.reason)
            return
        except asyncio.CancelledError:  # shutdown: the scheduler cancels its jobs; the ingest stops too
            log.info("feed %s: poll interrupted by shutdown", feed.name)
            return
        dests = self.destinations()
        self.planner.forget()
        for result in results:
            if result.status == "changed" and not result.held:  # a held issue is not delivered, edits neither
                self.planner.on_changed(result, dests)
        await self._plan_in_chunks()
        self._wake.set()

    async def _poll_job(self, feed_name: str) -> None:
        feed = next((f for f in self.config.feeds if f.name == feed_name), None)
        if feed is not None:
            with self._storage_guard(f"poll:{feed_name}"):
                await self._poll(feed)

    def run_due(self, only: str | None = None, names: Collection[str] | None = None) -> int:
        """Run the cron/digest ticks that are due by the clock (coalesced); returns rows enqueued.

        APScheduler's jobs call this at fire time; tests call it after moving their clock.
        """
        now_dt = self._clock()
        now = now_dt.timestamp()
        grace = self.config.delivery.misfire_grace_time
        count = 0
        self.planner.forget()
        dests = self.destinations()
        chosen = [only] if only is not None else names
        wanted = list(dests.values()) if chosen is None else [dests[n] for n in chosen if n in dests]
        for dest in wanted:
            if dest.platform not in self.platforms:
                continue
            schedule = dest.schedule
            if isinstance(schedule, OnPublish):
                continue
            state = self.outbox.ensure_dest(dest.name, now)
            if state.last_tick_at is None:
                self.outbox.set_last_tick(dest.name, now)
                continue
            last = datetime.fromtimestamp(state.last_tick_at, UTC)
            fire, missed = due_tick(schedule, last, now_dt, grace)
            if fire is None and not missed:
                continue
            self.outbox.set_last_tick(dest.name, now)
            if fire is None:
                log.warning("destination %s: %s missed beyond the grace time; skipped", dest.name,
                            plural_en(missed, "tick"))
                continue
            if missed > 1:
                log.info("destination %s: %d missed ticks coalesced into one", dest.name, missed)
            count += self.planner.drip(dest) if isinstance(schedule, CronDrip) else self.planner.digest(dest)
        if count:
            self._wake.set()
        return count

    async def _tick_job(self, name: str) -> None:
        with self._storage_guard(f"tick:{name}"):
            self.run_due(only=name)

    # ------------------------------------------------------------------ storage outages
    @contextlib.contextmanager
    def _storage_guard(self, job_id: str | None = None) -> Iterator[None]:
        """A write that fails because of the disk (full, read-only) becomes an outage, not a crash.

        The outage is recorded (logged sparingly, shown in `status`); the delivery loop then waits
        for the disk and runs the interrupted job again. Other errors propagate unchanged.
        """
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            if not is_storage_fault(exc):
                raise
            self.health.failed(exc)
            if job_id is not None:
                self._missed_jobs.add(job_id)

    def _delivery_fault(self, exc: Exception) -> None:
        """A lane could not record its outcome: a storage fault becomes an outage (the loop waits for the
        disk, the row is still `sending` and goes out again), anything else is logged."""
        try:
            with self._storage_guard():
                raise exc
        except Exception:
            log.exception("delivery: recording an outcome failed")
        self._wake.set()

    async def _wait_for_storage(self, stop: asyncio.Event) -> None:
        """Probe every `retry_every` until writes work again, then catch up on what was missed.

        Nothing is lost meanwhile: posts stay in the outbox, a delivery whose outcome could not be
        recorded is still `sending` and goes out again (at least once), a poll that could not store
        its issues left the feed's validators unsaved and is repeated now.
        """
        while self.health.problem is not None and not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.health.retry_every)
            if stop.is_set():
                return
            with self._storage_guard():
                probe_write(self.store.db.conn, self.store.path)
                self.health.recovered()
        with self._storage_guard():
            for job_id in sorted(self._missed_jobs):
                job = self.scheduler.get_job(job_id)
                if job is not None and job.id.startswith("poll:"):
                    job.modify(next_run_time=datetime.now(UTC))
            self._missed_jobs.clear()
            self._prepare()
            self._plan()
            self.run_due()

    def describe(self, row: OutboxRow) -> str:
        """"Publications · NLP Newsletter #7 (FR)": a queued post in a maintainer's words (logs, send)."""
        return describe_unit(self.planner.issue(row.entry_id), row.unit)

    def worker_for(self, dest: Destination) -> DeliveryWorker:
        """A worker that sees `dest` alone (`digestbot send`): it drains that destination's queue and
        nobody else's, under the same retry rules, and lets the planner follow up (the index)."""
        senders = {name: outlet.sender for name, outlet in self.platforms.items()}
        return DeliveryWorker(self.outbox, senders, lambda: {dest.name: dest}, self.config.delivery, self._now,
                              on_sent=lambda row: self.planner.react({dest.name: dest}), describe=self.describe)

    def _after_sent(self, row: OutboxRow) -> None:
        """The worker committed a sent row: the planner does what the outbox recorded for it."""
        self.planner.react(self.destinations())

    # ------------------------------------------------------------------ APScheduler jobs
    def _job_defaults(self) -> dict[str, Any]:
        return {"coalesce": True, "max_instances": 1,
                "misfire_grace_time": max(1, int(self.config.delivery.misfire_grace_time))}

    def _sync_jobs(self, names: Collection[str] | None = None) -> None:
        """Make the scheduler's jobs match config + subscriptions (add, replace, remove); with `names`,
        only the tick jobs of those destinations (the others are untouched)."""
        wanted: set[str] = set()
        if names is None:
            for feed in self.config.feeds:
                job_id = f"poll:{feed.name}"
                wanted.add(job_id)
                if self.scheduler.get_job(job_id) is None:
                    self.scheduler.add_job(self._poll_job, IntervalTrigger(seconds=feed.poll_interval, timezone=UTC),
                                           args=[feed.name], id=job_id, name=job_id,
                                           next_run_time=datetime.now(UTC), **self._job_defaults())
        dests = self.destinations()
        for dest in dests.values() if names is None else [dests[n] for n in names if n in dests]:
            schedule = dest.schedule
            if isinstance(schedule, OnPublish):
                continue
            trigger = ScheduleTrigger(schedule)
            job_id = f"tick:{dest.name}"
            wanted.add(job_id)
            job = self.scheduler.get_job(job_id)
            if job is None or str(job.trigger) != str(trigger):
                self.scheduler.add_job(self._tick_job, trigger, args=[dest.name], id=job_id, name=job_id,
                                       replace_existing=True, **self._job_defaults())
        if names is None:
            stale = [job for job in self.scheduler.get_jobs() if job.id not in wanted]
        else:
            stale = [job for n in names if f"tick:{n}" not in wanted and (job := self.scheduler.get_job(f"tick:{n}"))]
        for job in stale:
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
        """Poll, schedule and deliver until `stop` is set; sends in flight get `_STOP_GRACE` seconds to finish."""
        with self._storage_guard():
            self._prepare()
        self._sync_jobs()
        with self._storage_guard():
            await self._plan_in_chunks()
            self.run_due()  # catch up ticks missed while down (coalesced, within the grace time)
        self.scheduler.start()  # poll jobs run at once, then every poll_interval
        last_check = 0.0
        stop_task = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                if self.health.problem is not None:
                    await self._wait_for_storage(stop)
                    continue
                now = self._now()
                woken = self._wake.is_set()
                self._wake.clear()
                self.worker.activity.clear()
                with self._storage_guard():
                    if now - last_check >= _SUBSCRIPTION_CHECK:
                        last_check = now
                        if (changed := self.refresh_subscriptions()) is not None:
                            self._plan(changed)
                            self.run_due(names=changed)
                            woken = True
                    self.worker.pump(now, rescan=woken)
                if self.health.problem is not None:
                    continue
                due = self.worker.next_due
                timeout = _IDLE_WAIT if due is None else min(_IDLE_WAIT, max(0.0, due - self._now()))
                waits = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(self.worker.activity.wait())}
                await asyncio.wait({*waits, stop_task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                for task in waits:
                    task.cancel()
        finally:
            stop_task.cancel()
            with contextlib.suppress(Exception):
                self.scheduler.shutdown(wait=False)
            await self.worker.stop(_STOP_GRACE)

    # ------------------------------------------------------------------ for the operations service
    def status(self) -> dict[str, Any]:
        """`status --json`'s data (see scheduler/status.py, which builds it)."""
        return to_json(build_status(self))

    def wake(self) -> None:
        """Have the running loop look at the outbox now (work was queued from outside it)."""
        self._wake.set()

    async def poll_feed(self, name: str) -> None:
        """Poll one configured feed now, as its job would (errors are recorded in the feed's state)."""
        feed = next((f for f in self.config.feeds if f.name == name), None)
        if feed is None:
            raise ConfigError(f"feeds.{name}", "unknown feed (see `digestbot status`)")
        await self._poll(feed)

    def destination(self, name: str) -> Destination:
        """The destination called `name`, or one clear refusal (unknown; paused because it cannot run)."""
        dest = self.destinations().get(name)
        if dest is None and name in self._invalid:
            raise DigestbotError(f"destination {name!r} is paused: {self._invalid[name][1]}")
        if dest is None:
            raise ConfigError(f"destinations.{name}", "unknown destination (see `digestbot status`)")
        return dest

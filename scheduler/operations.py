"""One operations service: what a maintainer does to a deployment, for the CLI and the panel alike.

`digestbot send/status/plan/pause/resume/retry/reset` and the panel's buttons call the same
methods here, so a panel *Send* and `digestbot send` run the same code: resolve the request
(`scheduler.sendnow.Target`), show it (a dry run) or enqueue and deliver it, and report each post.
The composition root (`app/build.py`) builds it over a `DeliveryService` and says who delivers
what a send enqueues (`SendMode`); the panel receives it ready-made, so `web/` never wires anything.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, assert_never

from bot.core.errors import DigestbotError
from bot.ports import Destination
from bot.storage.store import FeedState
from scheduler.forecast import DestinationPlan, build_plan
from scheduler.sendnow import Drain, PlannedPost, SendReport, SendRequest, Target, deliver, hand_over, plan_send
from scheduler.service import DeliveryService
from scheduler.status import ServiceStatus, build_status

__all__ = ["DryRun", "Operations", "PlannedPost", "SendMode", "SendReport", "SendRequest"]

#: Who delivers what a send enqueues:
#: - "own-worker": this process, with a worker that sees only the destination (`digestbot send`);
#: - "running-service": the service running in this process (the panel inside `digestbot run`);
#: - "other-process": a `digestbot run` holding the database (`digestbot send` beside it).
SendMode = Literal["own-worker", "running-service", "other-process"]

_SEND_WAIT = 30.0  # seconds a send awaits the retries a platform asks for
_HAND_OVER_WAIT = 60.0  # seconds a send beside `run` waits for the running service's outcomes
_READY_POLL = 0.05
_DRAIN_LIMIT = 60.0


@dataclass(frozen=True, slots=True)
class DryRun:
    """What a send would post, as the destination's platform gets it; nothing was sent."""

    destination: str
    platform: str
    posts: tuple[PlannedPost, ...]


class Operations:
    """The deployment's maintenance operations, typed, each a method with a request of its own."""

    def __init__(self, service: DeliveryService, mode: SendMode = "own-worker") -> None:
        self.service = service
        self.mode: SendMode = mode

    # ------------------------------------------------------------------ sending
    def preview(self, request: SendRequest) -> DryRun:
        """Exactly the posts `send(request)` would post (the index included); reads only."""
        target = Target.resolve(self.service, request)
        return DryRun(target.dest.name, target.dest.platform, tuple(plan_send(self.service, target)))

    async def send(self, request: SendRequest) -> SendReport | DryRun:
        """Push an edition (or one section) to one destination now and report each post (a dry run shows them)."""
        if request.dry_run:
            return self.preview(request)
        service = self.service
        target = Target.resolve(service, request)
        match self.mode:
            case "own-worker":
                drain: Drain = service.worker_for(target.dest)
            case "running-service":
                drain = _ServiceDrain(service, target.dest.name)
            case "other-process":
                return await hand_over(service.planner, target, clock=self._now, wait=_HAND_OVER_WAIT)
            case _:
                assert_never(self.mode)
        return await deliver(service.planner, target, drain, clock=self._now, wait=_SEND_WAIT)

    def _now(self) -> float:
        return self.service.clock().timestamp()

    # ------------------------------------------------------------------ a destination's state
    def pause(self, destination: str, reason: str) -> None:
        """Stop delivering to a destination (its posts stay queued) until `resume` or `retry`."""
        self.service.destination(destination)
        outbox, now = self.service.outbox, self._now()
        outbox.ensure_dest(destination, now)
        outbox.pause(destination, reason, now)

    def resume(self, destination: str) -> None:
        """Deliver to a paused destination again (dead posts stay dead: `retry` re-queues them)."""
        self.service.destination(destination)
        self.service.outbox.unpause(destination)
        self.service.wake()

    def retry(self, destination: str) -> int:
        """Un-pause a destination and make its dead, failed and parked posts due now; returns how many."""
        self.service.destination(destination)
        self.service.outbox.unpause(destination)
        count = self.service.outbox.requeue(destination, self._now())
        self.service.wake()
        return count

    def reset(self, destination: str) -> Destination:
        """Drop a `/subscribe` override: the destination receives config.toml's selection again.

        Returns the destination as it is now. What was already delivered is not posted again (the
        name, and so the outbox's memory, stays).
        """
        service = self.service
        service.destination(destination)  # an unknown name is refused with the known ones
        if destination not in {d.name for d in service.config.destinations}:
            raise DigestbotError(f"{destination} was created by /subscribe, not config.toml: nothing to reset to "
                                 "(/unsubscribe in its chat, or the panel's Delete, removes it)")
        subs, unrunnable = service.store.load_subscriptions()
        if destination not in {d.name for d in subs} | {bad.name for bad in unrunnable}:
            raise DigestbotError(f"{destination} has no /subscribe override: its selection is config.toml's")
        service.store.delete_subscription(destination)
        service.refresh_subscriptions()
        service.wake()
        return service.destination(destination)

    async def poll(self, feed: str) -> FeedState | None:
        """Poll one configured feed now, as its job would; returns the feed's state after it."""
        await self.service.poll_feed(feed)
        return next((state for state in self.service.store.feed_states() if state.name == feed), None)

    # ------------------------------------------------------------------ reports
    def status(self, now: datetime | None = None) -> ServiceStatus:
        """Feeds and destinations as `digestbot status` and the panel's overview show them."""
        return build_status(self.service, now)

    def plan(self, days: int, start: datetime | None = None) -> list[DestinationPlan]:
        """Every destination's deliveries over the next `days` days from `start` (default: now)."""
        return build_plan(self.service, days, start)


class _ServiceDrain:
    """A send inside `run`: the running service's own worker delivers; this waits for it.

    A second worker on the same outbox could attempt a row the service is already sending
    (heads include rows in `sending`) and send it twice; waking the one worker keeps
    every row attempted once, in order, under the same retry rules.
    """

    def __init__(self, service: DeliveryService, name: str) -> None:
        self.service = service
        self.name = name

    def _ready(self) -> bool:
        state = self.service.outbox.dest_state(self.name)
        if state is not None and state.paused_reason:
            return False
        now = self.service.clock().timestamp()
        head = self.service.outbox.head(self.name)
        return head is not None and (head.state == "sending" or head.next_attempt_at <= now)

    async def drain(self) -> int:
        self.service.wake()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _DRAIN_LIMIT
        while self._ready() and loop.time() < deadline:
            await asyncio.sleep(_READY_POLL)
        return 0

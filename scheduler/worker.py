"""The delivery worker: drains the outbox through the platforms, each destination on its own.

Every destination is an independent lane: its head row (the first open one) is attempted,
and only when that attempt's outcome is recorded is its next row looked at, so order within
a destination is kept while a slow platform, a dead chat or a flood block holds back the
posts of that destination only — nobody waits for a "round" to finish.

Lanes are started by a small scheduler that shares each platform's capacity (`concurrency`
attempts in flight per platform) fairly: ready destinations wait in round-robin queues, one
per platform and tier, and the tiers take turns — configured destinations (tier 0) and
runtime subscriptions (tier 1) alternate, so 10,000 private subscribers never starve a
configured channel. A destination whose post went out goes to the back of its queue.

A crash between marking a row `sending` and recording its outcome leaves it `sending`; it is
still its destination's head row and is simply attempted again (at-least-once delivery).
`stop` lets attempts in flight finish for a moment, then cancels the rest (a send waiting on a
limiter must not hold up a shutdown); a cancelled row stays `sending` and goes out at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.core.errors import DeliveryError, DestinationForbidden, Rejected, RetryLater, TokenRefused
from bot.core.i18n import plural_en
from bot.ports import Destination, Sender, Sent
from bot.settings.config import DeliveryConfig
from scheduler.outbox import Outbox, OutboxRow, Outcome

__all__ = ["TOKEN_REFUSED", "DeliveryWorker", "backoff_delay"]

log = logging.getLogger(__name__)

#: How a pause for a refused token starts; such pauses lift by themselves once the platform logs in.
TOKEN_REFUSED = "token refused"

_RESCAN = 1.0  # seconds: the longest a newly due row (a retry whose time came) waits to be noticed
_MIN_RESCAN = 0.05  # seconds between scans triggered only by empty queues (a scan reads every head)
_TIERS = (0, 1)  # 0: configured destinations, 1: runtime subscriptions


def backoff_delay(attempts: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: base·2^(n-1), capped, scaled by a random factor in [0.5, 1]."""
    raw = min(cap, base * (2 ** max(0, attempts - 1)))
    return float(raw * rng.uniform(0.5, 1.0))


@dataclass(frozen=True, slots=True)
class _Attempt:
    row: OutboxRow
    dest: Destination
    platform: Sender[Any]


class DeliveryWorker:
    """Turns outbox rows into sender calls, one lane per destination, and judges outcomes by error type.

    Args:
        concurrency: attempts in flight per platform (each platform's own limiter paces them).
        tier: 0 for a configured destination, 1 for a runtime subscription (default: all 0).
        on_sent: told of a row once its `sent` state is committed (outside that transaction): the
            composition lets the planner react to what the outbox recorded (`Planner.react`).
        on_error: told of an error recording an outcome (else it is raised in the lane's task).
    """

    def __init__(self, outbox: Outbox, platforms: Mapping[str, Sender[Any]],
                 destinations: Callable[[], Mapping[str, Destination]], delivery: DeliveryConfig,
                 clock: Callable[[], float], *, on_sent: Callable[[OutboxRow], object] | None = None,
                 rng: random.Random | None = None, concurrency: int = 32,
                 describe: Callable[[OutboxRow], str] | None = None,
                 tier: Callable[[str], int] | None = None,
                 on_error: Callable[[Exception], object] | None = None) -> None:
        self.outbox = outbox
        self.platforms = platforms
        self.destinations = destinations
        self.delivery = delivery
        self.clock = clock
        self.on_sent = on_sent
        self.rng = rng or random.Random()
        self.concurrency = max(1, concurrency)
        self.describe = describe or (lambda row: f"{row.unit} of {row.entry_id}")
        self.tier = tier or (lambda name: 0)
        self.on_error = on_error  # told when recording an outcome failed (a full disk): the row stays `sending`
        self._inflight: dict[str, asyncio.Task[None]] = {}  # destination → its attempt
        self._busy: dict[str, int] = {}  # platform → attempts in flight
        self._queues: dict[tuple[str, int], deque[str]] = {}  # (platform, tier) → ready destinations
        self._queued: set[str] = set()
        self._turn: dict[str, int] = {}  # platform → the tier whose turn is next
        self._scanned = -math.inf
        self.next_due: float | None = None  # earliest head row not ready at the last scan
        self.activity = asyncio.Event()  # set whenever an attempt completes

    # ------------------------------------------------------------------ scheduling
    @property
    def in_flight(self) -> int:
        return len(self._inflight)

    def _scan(self, now: float) -> None:
        """Queue every destination whose head row is due (one read of every head, no payloads)."""
        self._scanned = now
        dests = self.destinations()
        due: float | None = None
        for name, at in self.outbox.head_times():
            dest = dests.get(name)
            if dest is None or dest.platform not in self.platforms:
                continue
            if at > now:
                due = at if due is None else min(due, at)
            elif name not in self._inflight and name not in self._queued:
                self._enqueue(name, dest.platform)
        self.next_due = due

    def _enqueue(self, name: str, platform: str) -> None:
        tier = 1 if self.tier(name) else 0
        self._queues.setdefault((platform, tier), deque()).append(name)
        self._queued.add(name)

    def _next(self, platform: str) -> str | None:
        """The next destination of `platform` to start: the tiers take turns, round-robin within each."""
        first = self._turn.get(platform, 0)
        for tier in (first, 1 - first):
            queue = self._queues.get((platform, tier))
            if queue:
                self._turn[platform] = 1 - tier
                name = queue.popleft()
                self._queued.discard(name)
                return name
        return None

    def pump(self, now: float, *, rescan: bool = False) -> int:
        """Start attempts for ready destinations while their platform has capacity; returns how many.

        Scans the heads when asked, every `_RESCAN` seconds, when a known retry time has come,
        or when the queues ran dry.
        """
        if (rescan or now - self._scanned >= _RESCAN or (self.next_due is not None and self.next_due <= now)
                or (not self._queued and now - self._scanned >= _MIN_RESCAN)):
            self._scan(now)
        dests = self.destinations()
        started = 0
        for platform_name in {p for p, _ in self._queues}:
            sender = self.platforms.get(platform_name)
            while sender is not None and self._busy.get(platform_name, 0) < self.concurrency:
                name = self._next(platform_name)
                if name is None:
                    break
                attempt = self._attempt_for(name, dests.get(name), sender, now)
                if attempt is not None:
                    self._start(attempt, platform_name)
                    started += 1
        return started

    def _attempt_for(self, name: str, dest: Destination | None, sender: Sender[Any],
                     now: float) -> _Attempt | None:
        """The destination's head row as an attempt, if it is still due and the destination not paused."""
        if dest is None or name in self._inflight:
            return None
        state = self.outbox.dest_state(name)
        if state is not None and state.paused_reason:
            return None
        row = self.outbox.head(name)
        if row is None:
            return None
        if row.next_attempt_at > now:
            self.next_due = row.next_attempt_at if self.next_due is None else min(self.next_due, row.next_attempt_at)
            return None
        if state is not None and state.chat_override:
            dest = replace(dest, chat=state.chat_override)
        return _Attempt(row, dest, sender)

    def _start(self, attempt: _Attempt, platform: str) -> None:
        name = attempt.dest.name
        self.outbox.mark_sending([attempt.row.id], self.clock())
        self._busy[platform] = self._busy.get(platform, 0) + 1
        task = asyncio.ensure_future(self._lane(attempt, platform))
        self._inflight[name] = task

    async def _lane(self, attempt: _Attempt, platform: str) -> None:
        name = attempt.dest.name
        outcome: Outcome | None = None
        try:
            outcome = await self._attempt_and_record(attempt)
        except Exception as exc:  # recording failed (the disk): the row stays `sending` and goes out again
            if self.on_error is None:
                raise
            self.on_error(exc)
        finally:
            self._inflight.pop(name, None)
            self._busy[platform] = self._busy.get(platform, 1) - 1
            if outcome is not None and outcome.state == "sent" and name not in self._queued:
                self._enqueue(name, platform)  # its next post, behind everyone else waiting
            elif outcome is not None and outcome.next_attempt_at is not None:
                at = outcome.next_attempt_at
                self.next_due = at if self.next_due is None else min(self.next_due, at)
            self.activity.set()

    async def wait(self, timeout: float | None = None) -> None:
        """Until an attempt completes (or `timeout` seconds pass)."""
        self.activity.clear()
        if not self._inflight:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.activity.wait(), timeout)

    async def drain(self, max_rounds: int = 1_000_000) -> int:
        """Deliver until nothing is ready now (backoffs in the future are left for later); returns attempts."""
        total = 0
        for _ in range(max_rounds):
            total += self.pump(self.clock(), rescan=not self._inflight)
            if not self._inflight:
                break
            await self.wait()
        return total

    async def stop(self, grace: float = 2.0) -> None:
        """Let attempts in flight finish for up to `grace` seconds, then cancel the rest.

        A cancelled attempt's row stays `sending`: it is its destination's head row and goes out
        at the next start (at least once), so nothing is lost by not waiting for a flood block.
        """
        tasks = list(self._inflight.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=grace)
            log.info("shutdown: %s still waiting cancelled; they go out at the next start",
                     plural_en(len(pending), "send"))

    async def _attempt_and_record(self, attempt: _Attempt) -> Outcome:
        outcome = await self._attempt(attempt)
        # No await between the platform's answer and this commit: with one event loop, at most
        # one delivered-but-unrecorded part exists at any instant, so a crash duplicates at most one.
        # A sent row's follow-up (an issue's index once its last section is out) is recorded by the
        # outbox in this same commit and done by the planner after it (`on_sent`), so a crash in
        # between leaves the follow-up recorded for the next planning pass instead of losing it.
        self.outbox.complete([outcome])
        self._log_outcome(attempt.row, outcome)
        if outcome.state == "sent" and self.on_sent is not None:
            try:
                self.on_sent(attempt.row)
            except Exception:  # a bug in follow-up work must not stop delivery
                log.exception("destination %s: follow-up of a delivered post failed", attempt.dest.name)
        return outcome

    def _log_outcome(self, row: OutboxRow, outcome: Outcome) -> None:
        """One line per post that went out (its last part) and one per post that went dead."""
        if outcome.state == "sent" and row.part + 1 >= row.parts and log.isEnabledFor(logging.INFO):
            log.info("%s ← %s (%d message%s)", row.destination, self.describe(row), row.parts,
                     "" if row.parts == 1 else "s")
        elif outcome.state == "dead":
            log.error("%s ✗ %s: %s (dead; `digestbot retry %s` re-queues it)", row.destination,
                      self.describe(row), outcome.error, row.destination)

    async def _attempt(self, attempt: _Attempt) -> Outcome:
        row, dest, platform = attempt.row, attempt.dest, attempt.platform
        try:
            sent = await self._call(platform, dest, row)
        except TokenRefused as exc:  # a configuration error: pause, and the post keeps its attempts
            now = self.clock()
            log.error("destination %s paused: %s", dest.name, exc)
            self.outbox.pause(dest.name, f"{TOKEN_REFUSED}: {exc}", now)
            return Outcome(row.id, "pending", now, error=str(exc))
        except RetryLater as exc:
            return self._retry(row, str(exc), exc.retry_after)
        except DestinationForbidden as exc:
            now = self.clock()
            log.error("destination %s paused: %s (run `digestbot retry %s` once fixed)",
                      dest.name, exc.reason, dest.name)
            self.outbox.pause(dest.name, exc.reason, now)
            return Outcome(row.id, "pending", now, error=f"forbidden: {exc.reason}")
        except Rejected as exc:
            return Outcome(row.id, "dead", self.clock(), error=f"rejected: {exc.reason}")
        except DeliveryError as exc:
            return self._retry(row, str(exc), None)
        except Exception as exc:  # an adapter bug must not stop every other destination
            log.exception("destination %s: unexpected error from %s", dest.name, platform.name)
            return self._retry(row, f"unexpected: {exc!r}", None)
        if sent.migrated_from and sent.chat_id != dest.chat:
            log.warning("destination %s: chat %s moved to %s; later posts go there", dest.name,
                        sent.migrated_from, sent.chat_id)
            self.outbox.set_chat_override(dest.name, sent.chat_id)
        return Outcome(row.id, "sent", self.clock(), sent=sent)

    async def _call(self, platform: Sender[Any], dest: Destination, row: OutboxRow) -> Sent:
        if row.op == "edit" and row.target is not None:
            return await platform.edit(dest, row.target, row.rendered)
        return await platform.send(dest, row.rendered, key=row.key)

    def _retry(self, row: OutboxRow, reason: str, retry_after: float | None) -> Outcome:
        now = self.clock()
        attempts = row.attempts + 1
        if attempts >= self.delivery.max_attempts:
            return Outcome(row.id, "dead", now, error=f"gave up after {attempts} attempts: {reason}")
        if retry_after is not None:
            delay = retry_after if math.isfinite(retry_after) else self.delivery.max_retry_wait
        else:
            delay = backoff_delay(attempts, self.delivery.backoff_base, self.delivery.backoff_max, self.rng)
        delay = min(max(0.0, delay), self.delivery.max_retry_wait)  # a huge retry_after must not park it for years
        log.warning("%s ✗ %s: %s; retry in %.1fs (attempt %d)", row.destination, self.describe(row), reason,
                    delay, attempts)
        return Outcome(row.id, "failed", now, error=reason, next_attempt_at=now + delay)

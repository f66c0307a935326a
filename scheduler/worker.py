"""The delivery worker: drains the outbox through the platforms, in order, with retries.

One round takes the head row of every ready destination, marks them `sending`
(one transaction), sends them concurrently (one per destination, so order within a
destination is kept) and records each outcome the moment the platform answers. A
crash in between leaves rows in `sending`; they are the head rows of their
destinations and are simply attempted again (at-least-once delivery).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.config import DeliveryConfig
from bot.errors import DeliveryError, DestinationForbidden, Rejected, RetryLater, TokenRefused
from bot.ports import Destination, Sender, Sent
from scheduler.outbox import Outbox, OutboxRow, Outcome

__all__ = ["TOKEN_REFUSED", "DeliveryWorker", "backoff_delay"]

log = logging.getLogger(__name__)

#: How a pause for a refused token starts; such pauses lift by themselves once the platform logs in.
TOKEN_REFUSED = "token refused"


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
    """Turns outbox rows into sender calls and judges the outcome by error type."""

    def __init__(self, outbox: Outbox, platforms: Mapping[str, Sender[Any]],
                 destinations: Callable[[], Mapping[str, Destination]], delivery: DeliveryConfig,
                 clock: Callable[[], float], *, on_sent: Callable[[OutboxRow], object] | None = None,
                 rng: random.Random | None = None, concurrency: int = 64,
                 describe: Callable[[OutboxRow], str] | None = None) -> None:
        self.outbox = outbox
        self.platforms = platforms
        self.destinations = destinations
        self.delivery = delivery
        self.clock = clock
        self.on_sent = on_sent
        self.rng = rng or random.Random()
        self._limit = asyncio.Semaphore(concurrency)
        self.describe = describe or (lambda row: f"{row.unit} of {row.entry_id}")

    def _ready(self, now: float) -> list[_Attempt]:
        dests = self.destinations()
        states = self.outbox.dest_states()
        ready: list[_Attempt] = []
        for row in self.outbox.heads():
            dest = dests.get(row.destination)
            state = states.get(row.destination)
            if dest is None or (state is not None and state.paused_reason):
                continue
            platform = self.platforms.get(dest.platform)
            if platform is None or row.next_attempt_at > now:
                continue
            if state is not None and state.chat_override:
                dest = replace(dest, chat=state.chat_override)
            ready.append(_Attempt(row, dest, platform))
        return ready

    async def drain_round(self) -> int:
        """Attempt every ready head row once; returns how many were attempted."""
        now = self.clock()
        attempts = self._ready(now)
        if not attempts:
            return 0
        self.outbox.mark_sending([a.row.id for a in attempts], now)
        await asyncio.gather(*(self._attempt_and_record(a) for a in attempts))
        return len(attempts)

    async def _attempt_and_record(self, attempt: _Attempt) -> None:
        outcome = await self._attempt(attempt)
        # No await between the platform's answer and this commit: with one event loop, at most
        # one delivered-but-unrecorded part exists at any instant, so a crash duplicates at most one.
        # The outcome and the work it triggers (an issue's index once its last section is out) commit
        # together: a crash in between must not leave every section sent and the index never queued.
        with self.outbox.atomic():
            self.outbox.complete([outcome])
            if outcome.state == "sent" and self.on_sent is not None:
                try:
                    self.on_sent(attempt.row)
                except Exception:  # a bug in follow-up work must not stop delivery
                    log.exception("destination %s: follow-up of a delivered post failed", attempt.dest.name)
        self._log_outcome(attempt.row, outcome)

    def _log_outcome(self, row: OutboxRow, outcome: Outcome) -> None:
        """One line per post that went out (its last part) and one per post that went dead."""
        if outcome.state == "sent" and row.part + 1 >= row.parts and log.isEnabledFor(logging.INFO):
            log.info("%s ← %s (%d message%s)", row.destination, self.describe(row), row.parts,
                     "" if row.parts == 1 else "s")
        elif outcome.state == "dead":
            log.error("%s ✗ %s: %s (dead; `digestbot retry %s` re-queues it)", row.destination,
                      self.describe(row), outcome.error, row.destination)

    async def drain(self, max_rounds: int = 1_000_000) -> int:
        """Rounds until nothing is ready now (backoffs in the future are left for later)."""
        total = 0
        for _ in range(max_rounds):
            done = await self.drain_round()
            if not done:
                break
            total += done
        return total

    async def _attempt(self, attempt: _Attempt) -> Outcome:
        row, dest, platform = attempt.row, attempt.dest, attempt.platform
        try:
            async with self._limit:
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

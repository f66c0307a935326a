"""Proactive flood control: never send faster than Telegram allows, rather than react to 429s.

Telegram allows about 30 messages/s per bot, 1/s per chat and 20/min per group or channel
(the Bot API FAQ). PTB's `AIORateLimiter` has no per-chat limit and counts a request
when it starts, so a request that is slow on the wire can land inside the next window.
Here every window counts a message from when it is reserved until its response arrives
(an in-flight message never expires), which is always at or after the moment Telegram
counted it: the limiter is exactly as fast as the limits and never trips them.

`time_scale` (`[telegram] time_scale`) shrinks every window, for a Bot API server that counts
shorter ones (the tests and the bench run the real limits 10–100× faster against a fake
scaled the same way); `retry_after` values are nominal seconds and are scaled too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

__all__ = ["COUNTED_ENDPOINTS", "FloodLimiter", "retry_after_seconds"]

log = logging.getLogger(__name__)

COUNTED_ENDPOINTS = frozenset({
    "sendMessage", "sendPhoto", "sendMediaGroup", "sendDocument", "sendAnimation", "sendVideo",
    "copyMessage", "forwardMessage", "sendPoll", "sendSticker",
})


def retry_after_seconds(exc: RetryAfter) -> float:
    """`RetryAfter.retry_after` in seconds without PTB's int/timedelta deprecation warning."""
    value = getattr(exc, "_retry_after", None)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) if value is not None else 1.0


class _Slot:
    """One counted message: `at` is +inf while in flight, then the time its response arrived."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at = math.inf


class _Ticket:
    """What `acquire` hands out: the reserved slots and the chat's lock, both given back by `release`."""

    __slots__ = ("lock", "slots")

    def __init__(self, slots: list[_Slot], lock: asyncio.Lock) -> None:
        self.slots = slots
        self.lock = lock


class _Window:
    """At most `limit` messages in any `period` seconds (sliding log)."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.slots: list[_Slot] = []

    def wait(self, now: float, weight: int) -> float:
        """Seconds until `weight` more messages fit (inf: a message in flight must finish first)."""
        self.slots = [s for s in self.slots if s.at > now - self.period]
        excess = len(self.slots) + weight - self.limit
        if excess <= 0:
            return 0.0
        times = sorted(s.at for s in self.slots)
        return times[min(excess, len(times)) - 1] + self.period - now

    def take(self, slots: list[_Slot]) -> None:
        self.slots.extend(slots)


def is_group_chat(chat_id: object) -> bool:
    """Groups, supergroups and channels have negative ids or are addressed as @username."""
    if isinstance(chat_id, int):
        return chat_id < 0
    text = str(chat_id)
    return text.startswith("@") or text.startswith("-")


class FloodLimiter(BaseRateLimiter[dict[str, Any]]):
    """PTB rate limiter with Telegram's three limits and `RetryAfter` handling.

    `rate_limit_args={"retries": n}` on a call overrides how many times a 429 is retried in
    place (the outbox sends with 0 and reschedules itself; command replies retry).
    """

    def __init__(self, *, overall: tuple[int, float] = (30, 1.0), per_chat: tuple[int, float] = (1, 1.0),
                 per_group: tuple[int, float] = (20, 60.0), time_scale: float = 1.0, margin: float = 0.002,
                 max_retries: int = 2, max_retry_wait: float = 30.0, max_block: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.scale = time_scale
        self.margin = margin
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.max_block = max_block  # like the outbox's max_retry_wait: a huge retry_after never blocks for years
        self.clock = clock
        self._overall = _Window(overall[0], overall[1] * time_scale + margin)
        self._per_chat = per_chat
        self._per_group = per_group
        self._chats: dict[str, _Window] = {}
        self._groups: dict[str, _Window] = {}
        self._blocked: dict[str, float] = {}
        self._global_blocked = 0.0
        self._turn = asyncio.Lock()
        self._locks: dict[str, asyncio.Lock] = {}
        self._done = asyncio.Event()
        self.throttled = 0.0  # total seconds spent waiting, for diagnostics
        self.retried = 0

    async def initialize(self) -> None:
        """Nothing to set up: windows are created per chat on first use."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    # ------------------------------------------------------------------ acquisition
    def _windows(self, chat: str, group: bool, weight: int) -> list[tuple[_Window, int]]:
        """The chat's windows with the weight each counts: 1/s counts requests, 20/min messages."""
        chat_window = self._chats.get(chat)
        if chat_window is None:
            chat_window = self._chats[chat] = _Window(self._per_chat[0],
                                                      self._per_chat[1] * self.scale + self.margin)
        windows = [(chat_window, 1)]
        if group:
            group_window = self._groups.get(chat)
            if group_window is None:
                group_window = self._groups[chat] = _Window(self._per_group[0],
                                                            self._per_group[1] * self.scale + self.margin)
            windows.append((group_window, weight))
        return windows

    async def _sleep(self, delay: float) -> None:
        start = self.clock()
        if math.isinf(delay):
            self._done.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), 1.0)
        else:
            await asyncio.sleep(delay)
        self.throttled += self.clock() - start

    def _block_wait(self, chat: str, now: float) -> float:
        return max(self._blocked.get(chat, 0.0), self._global_blocked) - now

    async def acquire(self, chat_id: object, weight: int = 1) -> _Ticket:
        """Wait until one more message (`weight` for a media group) to `chat_id` is within every limit.

        Messages to one chat go one at a time, in call order (a per-chat FIFO lock held until
        the response arrives): Telegram's 1/s per chat would serialise them anyway, and it
        keeps a section's parts in order. Returns a ticket for `release`.
        """
        chat = str(chat_id)
        lock = self._locks.setdefault(chat, asyncio.Lock())
        await lock.acquire()
        try:
            windows = self._windows(chat, is_group_chat(chat_id), weight)
            while True:
                now = self.clock()
                chat_wait = max([self._block_wait(chat, now)] + [w.wait(now, n) for w, n in windows])
                if chat_wait > 0:
                    await self._sleep(chat_wait)
                    continue
                async with self._turn:  # FIFO among chats that are ready: fair share of the 30/s
                    while True:
                        now = self.clock()
                        wait = max(self._overall.wait(now, weight), self._global_blocked - now)
                        if wait <= 0:
                            break
                        await self._sleep(wait)
                    if self._block_wait(chat, self.clock()) > 0:
                        continue  # a 429 arrived meanwhile
                    slots = [_Slot() for _ in range(weight)]
                    self._overall.take(slots)
                    for window, count in windows:
                        window.take(slots[:count])
                    return _Ticket(slots, lock)
        except BaseException:
            lock.release()
            raise

    def release(self, ticket: _Ticket) -> None:
        """The response arrived: from now on these messages age out of their windows."""
        now = self.clock()
        for slot in ticket.slots:
            slot.at = now
        ticket.lock.release()
        self._done.set()

    def block(self, chat_id: object, seconds: float, *, everywhere: bool = False) -> None:
        """Honour a 429: no message to this chat (or at all) for `seconds` nominal seconds."""
        until = self.clock() + min(seconds, self.max_block) * self.scale
        if everywhere:
            self._global_blocked = max(self._global_blocked, until)
        else:
            chat = str(chat_id)
            self._blocked[chat] = max(self._blocked.get(chat, 0.0), until)

    # ------------------------------------------------------------------ PTB hook
    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Throttle sends, then call; a `RetryAfter` blocks the chat and is retried if allowed."""
        retries = (rate_limit_args or {}).get("retries", self.max_retries)
        chat_id = data.get("chat_id")
        counted = endpoint in COUNTED_ENDPOINTS and chat_id is not None
        weight = len(data.get("media") or ()) or 1 if endpoint == "sendMediaGroup" else 1
        attempt = 0
        while True:
            ticket: _Ticket | None = None
            if counted:
                ticket = await self.acquire(chat_id, weight)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                self.block(chat_id if chat_id is not None else "*", seconds, everywhere=chat_id is None)
                if attempt >= retries or seconds > self.max_retry_wait:
                    raise
                attempt += 1
                self.retried += 1
                log.info("flood wait of %ss on %s; retrying (%d/%d)", seconds, endpoint, attempt, retries)
            finally:
                if ticket is not None:
                    self.release(ticket)

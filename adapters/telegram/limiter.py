"""Proactive flood control: never send faster than Telegram allows, rather than react to 429s.

Telegram allows about 30 messages/s per bot, 1/s per chat and 20/min per group or channel
(the Bot API FAQ). PTB's `AIORateLimiter` has no per-chat limit and counts a request
when it starts, so a request that is slow on the wire can land inside the next window.
Here every window counts a message from when it is reserved until its response arrives
(an in-flight message never expires), which is always at or after the moment Telegram
counted it: the limiter is exactly as fast as the limits and never trips them.

A 429 blocks its chat (or, without a chat, the bot); a caller who would have to wait for a
block longer than `max_block_wait` gets `RetryAfter` at once instead of sleeping, so a chat
under a flood block of an hour costs its own posts a scheduled retry and nothing else. The
state of chats nobody has written to for a while is dropped (`prune_every`).

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
    """What `acquire` hands out: the reserved slots and the chat they count for, given back by `release`."""

    __slots__ = ("chat", "slots")

    def __init__(self, slots: list[_Slot], chat: _Chat) -> None:
        self.slots = slots
        self.chat = chat


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

    def busy(self, now: float) -> bool:
        """Whether a message still counts in this window (in flight, or answered within `period`)."""
        self.slots = [s for s in self.slots if s.at > now - self.period]
        return bool(self.slots)


class _Chat:
    """One chat's state: its windows, its FIFO lock, its flood block, and how many callers use it now."""

    __slots__ = ("blocked", "group", "lock", "users", "window")

    def __init__(self, window: _Window, group: _Window | None) -> None:
        self.window = window
        self.group = group  # 20/min for groups and channels; None for private chats
        self.lock = asyncio.Lock()
        self.blocked = 0.0  # clock time until which a 429 forbids sending
        self.users = 0  # acquire calls between entry and release

    def idle(self, now: float) -> bool:
        """Nobody waiting or sending, no block pending, nothing left in a window: safe to forget."""
        return (self.users == 0 and self.blocked <= now and not self.window.busy(now)
                and (self.group is None or not self.group.busy(now)))


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
                 max_block_wait: float = 5.0, prune_every: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.scale = time_scale
        self.margin = margin
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.max_block = max_block  # like the outbox's max_retry_wait: a huge retry_after never blocks for years
        self.max_block_wait = max_block_wait  # a longer flood block is not slept through: `RetryAfter` at once
        self.prune_every = prune_every * time_scale
        self.clock = clock
        self._overall = _Window(overall[0], overall[1] * time_scale + margin)
        self._per_chat = per_chat
        self._per_group = per_group
        self._chats: dict[str, _Chat] = {}
        self._global_blocked = 0.0
        self._turn = asyncio.Lock()
        self._done = asyncio.Event()
        self._pruned_at = clock()
        self.throttled = 0.0  # total seconds spent waiting, for diagnostics
        self.retried = 0

    async def initialize(self) -> None:
        """Nothing to set up: windows are created per chat on first use."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    # ------------------------------------------------------------------ acquisition
    def _chat(self, chat: str, group: bool) -> _Chat:
        """The chat's state, created on first use (and dropped by `_prune` once idle)."""
        state = self._chats.get(chat)
        if state is None:
            state = self._chats[chat] = _Chat(
                _Window(self._per_chat[0], self._per_chat[1] * self.scale + self.margin),
                _Window(self._per_group[0], self._per_group[1] * self.scale + self.margin) if group else None)
        return state

    @staticmethod
    def _windows(state: _Chat, weight: int) -> list[tuple[_Window, int]]:
        """The chat's windows with the weight each counts: 1/s counts requests, 20/min messages."""
        windows = [(state.window, 1)]
        if state.group is not None:
            windows.append((state.group, weight))
        return windows

    def _prune(self, now: float) -> None:
        """Forget chats nobody is sending to whose windows are empty and whose block is over.

        Without this every chat that ever got a message (every private subscriber, every reader
        who sent a command) would keep its state for the life of the process.
        """
        self._pruned_at = now
        for chat in [c for c, state in self._chats.items() if state.idle(now)]:
            del self._chats[chat]

    @property
    def tracked_chats(self) -> int:
        """How many chats have state in memory (diagnostics and tests)."""
        return len(self._chats)

    async def _sleep(self, delay: float) -> None:
        start = self.clock()
        if math.isinf(delay):
            self._done.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), 1.0)
        else:
            await asyncio.sleep(delay)
        self.throttled += self.clock() - start

    def _block_wait(self, state: _Chat, now: float) -> float:
        return max(state.blocked, self._global_blocked) - now

    def _refuse_long_block(self, state: _Chat, now: float) -> None:
        """A flood block longer than `max_block_wait` is the caller's to schedule, not ours to sleep through.

        Raises `RetryAfter` with the nominal seconds left: the outbox turns it into a retry at that
        time (capped by `[delivery] max_retry_wait`), so a blocked chat holds back nothing else and a
        shutdown never waits for it.
        """
        left = self._block_wait(state, now)
        if left > self.max_block_wait * self.scale:
            raise RetryAfter(timedelta(seconds=math.ceil(left / self.scale)))

    async def acquire(self, chat_id: object, weight: int = 1) -> _Ticket:
        """Wait until one more message (`weight` for a media group) to `chat_id` is within every limit.

        Messages to one chat go one at a time, in call order (a per-chat FIFO lock held until
        the response arrives): Telegram's 1/s per chat would serialise them anyway, and it
        keeps a section's parts in order. Returns a ticket for `release`.

        Raises:
            RetryAfter: the chat (or the bot) is flood-blocked for longer than `max_block_wait`.
        """
        chat = str(chat_id)
        now = self.clock()
        if now - self._pruned_at >= self.prune_every:
            self._prune(now)
        state = self._chat(chat, is_group_chat(chat_id))
        state.users += 1
        try:
            self._refuse_long_block(state, now)
            await state.lock.acquire()
        except BaseException:
            state.users -= 1
            raise
        try:
            windows = self._windows(state, weight)
            while True:
                now = self.clock()
                self._refuse_long_block(state, now)
                chat_wait = max([self._block_wait(state, now)] + [w.wait(now, n) for w, n in windows])
                if chat_wait > 0:
                    await self._sleep(chat_wait)
                    continue
                async with self._turn:  # FIFO among chats that are ready: fair share of the 30/s
                    while True:
                        now = self.clock()
                        self._refuse_long_block(state, now)
                        wait = max(self._overall.wait(now, weight), self._global_blocked - now)
                        if wait <= 0:
                            break
                        await self._sleep(wait)
                    if self._block_wait(state, self.clock()) > 0:
                        continue  # a 429 arrived meanwhile
                    slots = [_Slot() for _ in range(weight)]
                    self._overall.take(slots)
                    for window, count in windows:
                        window.take(slots[:count])
                    return _Ticket(slots, state)
        except BaseException:
            state.lock.release()
            state.users -= 1
            raise

    def release(self, ticket: _Ticket) -> None:
        """The response arrived: from now on these messages age out of their windows."""
        now = self.clock()
        for slot in ticket.slots:
            slot.at = now
        ticket.chat.lock.release()
        ticket.chat.users -= 1
        self._done.set()

    def block(self, chat_id: object, seconds: float, *, everywhere: bool = False) -> None:
        """Honour a 429: no message to this chat (or at all) for `seconds` nominal seconds."""
        until = self.clock() + min(seconds, self.max_block) * self.scale
        if everywhere:
            self._global_blocked = max(self._global_blocked, until)
        else:
            state = self._chat(str(chat_id), is_group_chat(chat_id))
            state.blocked = max(state.blocked, until)

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

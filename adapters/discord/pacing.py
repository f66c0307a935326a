"""Client-side pacing that keeps a fan-out under Discord's limits instead of bouncing off them.

discord.py learns each route's bucket from response headers, but only after the first
response, and knows nothing of the global 50 req/s: a fan-out to 100 channels would
fire 100 requests at once. `Pacer` admits a request only when it cannot exceed either
limit *as the server counts it*.

The trick is a permit that comes back `window` seconds after the request *completes*
(not after it starts): the server saw the request arrive somewhere between
start and completion, so any server-side window of that length, sliding or fixed,
contains at most `limit` requests. No margin to tune, no clock to agree on.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

__all__ = ["Pacer", "WindowLimit"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class WindowLimit:
    """At most `limit` requests in any `window` seconds, measured from completion.

    A request holds a permit while in flight and for `window` seconds after it completes.
    `clock` and `sleep` are the seams a test replaces to run the windows without waiting.
    """

    def __init__(self, limit: int, window: float, *, clock: Clock = time.monotonic,
                 sleep: Sleep = asyncio.sleep) -> None:
        if limit < 1 or window < 0:
            raise ValueError("limit must be ≥ 1 and window ≥ 0")
        self.limit = limit
        self.window = window
        self.clock = clock
        self.sleep = sleep
        self._in_flight = 0
        self._completed: deque[float] = deque()  # completion times still inside the window
        self._turn: asyncio.Lock | None = None  # created lazily: asyncio primitives bind to the running loop
        self._released: asyncio.Event | None = None

    def _expire(self, now: float) -> None:
        while self._completed and self._completed[0] + self.window <= now:
            self._completed.popleft()

    async def acquire(self) -> None:
        """Wait (first come, first served) until a permit is free, then take it."""
        if self._turn is None:
            self._turn, self._released = asyncio.Lock(), asyncio.Event()
        assert self._released is not None
        async with self._turn:
            while True:
                now = self.clock()
                self._expire(now)
                if self._in_flight + len(self._completed) < self.limit:
                    self._in_flight += 1
                    return
                if self._completed:  # the oldest completion leaves the window first
                    await self.sleep(self._completed[0] + self.window - now)
                else:  # every permit is in flight: wait for a completion
                    self._released.clear()
                    await self._released.wait()

    def release_later(self) -> None:
        """The request completed now: its permit comes back `window` seconds from now."""
        self._in_flight -= 1
        if self.window > 0:
            self._completed.append(self.clock())
        if self._released is not None:
            self._released.set()

    @property
    def idle(self) -> bool:
        """Nothing in flight and nothing left in the window (safe to forget)."""
        self._expire(self.clock())
        return self._in_flight == 0 and not self._completed


@dataclass(frozen=True, slots=True)
class PacerSettings:
    global_limit: int = 48  # under Discord's 50/s, leaving room for commands and lookups
    global_window: float = 1.0
    channel_limit: int = 5  # POST /channels/{id}/messages: 5 per 5 s per channel
    channel_window: float = 5.0


class Pacer:
    """Global and per-channel pacing shared by every send of one bot.

    Use `async with pacer.slot(channel_id):` around a message create; use
    `pacer.slot(None)` for other requests that count towards the global limit only.
    """

    def __init__(self, global_limit: int = 48, global_window: float = 1.0,
                 channel_limit: int = 5, channel_window: float = 5.0, *, clock: Clock = time.monotonic,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.settings = PacerSettings(global_limit, global_window, channel_limit, channel_window)
        self.clock = clock
        self.sleep = sleep
        self._global: WindowLimit | None = None
        self._channels: dict[str, WindowLimit] = {}

    def _global_limit(self) -> WindowLimit:
        if self._global is None:  # created lazily: asyncio primitives bind to the running loop
            self._global = WindowLimit(self.settings.global_limit, self.settings.global_window,
                                       clock=self.clock, sleep=self.sleep)
        return self._global

    def _channel_limit(self, channel: str) -> WindowLimit:
        limit = self._channels.get(channel)
        if limit is None:
            if len(self._channels) > 10_000:  # forget idle channels so memory stays bounded
                for key in [k for k, v in self._channels.items() if v.idle]:
                    del self._channels[key]
            limit = WindowLimit(self.settings.channel_limit, self.settings.channel_window,
                                clock=self.clock, sleep=self.sleep)
            self._channels[channel] = limit
        return limit

    @asynccontextmanager
    async def slot(self, channel: str | None) -> AsyncIterator[None]:
        """Wait until a request to `channel` can go out without a 429, then hold its permits."""
        channel_limit = self._channel_limit(channel) if channel is not None else None
        if channel_limit is not None:
            await channel_limit.acquire()  # channel first: a blocked channel must not hold a global permit
        global_limit = self._global_limit()
        try:
            await global_limit.acquire()
        except BaseException:
            if channel_limit is not None:
                channel_limit.release_later()
            raise
        try:
            yield
        finally:
            global_limit.release_later()
            if channel_limit is not None:
                channel_limit.release_later()

"""Client-side pacing that keeps a fan-out under Discord's limits instead of bouncing off them.

discord.py learns each route's bucket from response headers, but only after the first
response, and knows nothing of the global 50 req/s: a fan-out to 100 channels would
fire 100 requests at once. `Pacer` admits a request only when it cannot exceed either
limit *as the server counts it*.

The trick is a semaphore whose permits come back `window` seconds after the request
*completes* (not after it starts): the server saw the request arrive somewhere between
start and completion, so any server-side window of that length, sliding or fixed,
contains at most `limit` requests. No margin to tune, no clock to agree on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

__all__ = ["Pacer", "WindowLimit"]


class WindowLimit:
    """At most `limit` requests in any `window` seconds, measured from completion."""

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window < 0:
            raise ValueError("limit must be ≥ 1 and window ≥ 0")
        self.limit = limit
        self.window = window
        self._semaphore = asyncio.Semaphore(limit)
        self._pending_releases = 0

    async def acquire(self) -> None:
        await self._semaphore.acquire()

    def release_later(self) -> None:
        """Give the permit back once `window` has passed since now (the completion time)."""
        if self.window <= 0:
            self._semaphore.release()
            return
        self._pending_releases += 1
        asyncio.get_running_loop().call_later(self.window, self._release)

    def _release(self) -> None:
        self._pending_releases -= 1
        self._semaphore.release()

    @property
    def idle(self) -> bool:
        return self._pending_releases == 0 and not self._semaphore.locked() and \
            self._semaphore._value == self.limit  # noqa: SLF001 - asyncio has no public getter


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
                 channel_limit: int = 5, channel_window: float = 5.0) -> None:
        self.settings = PacerSettings(global_limit, global_window, channel_limit, channel_window)
        self._global: WindowLimit | None = None
        self._channels: dict[str, WindowLimit] = {}

    def _global_limit(self) -> WindowLimit:
        if self._global is None:  # created lazily: asyncio primitives bind to the running loop
            self._global = WindowLimit(self.settings.global_limit, self.settings.global_window)
        return self._global

    def _channel_limit(self, channel: str) -> WindowLimit:
        limit = self._channels.get(channel)
        if limit is None:
            if len(self._channels) > 10_000:  # forget idle channels so memory stays bounded
                for key in [k for k, v in self._channels.items() if v.idle]:
                    del self._channels[key]
            limit = WindowLimit(self.settings.channel_limit, self.settings.channel_window)
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

"""Pacing: what discord.py alone lets through on a fan-out, and what the Pacer keeps out."""

from __future__ import annotations

import asyncio

from adapters.discord import Pacer
from adapters.discord.pacing import WindowLimit
from bot.core.errors import RetryLater
from bot.ports import Destination, Rendered
from tests.fakes.discord import FakeDiscord, fake_adapter


class ManualClock:
    """A clock that moves only when a waiter sleeps: windows are checked to the exact second, at once."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


async def test_window_limit_returns_permits_a_window_after_completion() -> None:
    clock = ManualClock()
    limit = WindowLimit(3, 5.0, clock=clock, sleep=clock.sleep)
    times = []
    for n in range(7):
        await limit.acquire()
        times.append(clock.now)
        clock.now += 0.5 if n == 0 else 0.0  # the first request takes half a second on the wire
        limit.release_later()
    # three at once; the fourth when the first completion (0.5 s) leaves the window, then the rest
    assert times == [0.0, 0.5, 0.5, 5.5, 5.5, 5.5, 10.5]


async def test_a_permit_in_flight_is_waited_for_not_slept_over() -> None:
    clock = ManualClock()
    limit = WindowLimit(1, 5.0, clock=clock, sleep=clock.sleep)
    await limit.acquire()
    second = asyncio.create_task(limit.acquire())
    await asyncio.sleep(0)
    assert not second.done() and clock.sleeps == []  # in flight: no window to sleep through yet
    clock.now = 2.0
    limit.release_later()  # completed at 2.0 → free again at 7.0
    await second
    assert clock.now == 7.0 and clock.sleeps == [5.0]


async def test_pacer_holds_a_channel_to_its_bucket_but_not_the_others() -> None:
    clock = ManualClock()
    pacer = Pacer(global_limit=100, global_window=1.0, channel_limit=2, channel_window=5.0,
                  clock=clock, sleep=clock.sleep)
    seen: dict[str, list[float]] = {"a": [], "b": []}

    async def one(channel: str) -> None:
        async with pacer.slot(channel):
            seen[channel].append(clock.now)

    await asyncio.gather(*(one("b") for _ in range(2)), *(one("a") for _ in range(3)))
    assert seen["b"] == [0.0, 0.0] and seen["a"] == [0.0, 0.0, 5.0]

async def _fan_out(fake: FakeDiscord, pacer: Pacer, channels: int, messages: int, *,
                   unpaced: bool = False) -> None:
    """Send `messages` to each of `channels` at once; `unpaced`: a 429 that reaches us ends that channel's run."""
    ids = [fake.add_channel(f"c{n}") for n in range(channels)]
    platform = fake_adapter(fake, pacer=pacer).sender
    await platform.start()
    try:
        async def channel_run(channel: str) -> None:
            dest = Destination(name=channel, platform="discord", chat=channel)
            for n in range(messages):
                try:
                    await platform.send(dest, Rendered("text", "m", {"content": f"m{n}"}), key=f"{channel}-{n}")
                except RetryLater:
                    if not unpaced:
                        raise
                    return  # the outbox would retry it later; here the 429 is what the test looks for

        await asyncio.gather(*(channel_run(c) for c in ids))
    finally:
        await platform.close()
    if unpaced:
        return
    assert all([m["content"] for m in fake.channel_messages(c)] == [f"m{n}" for n in range(messages)] for c in ids)

async def test_without_global_pacing_a_fan_out_hits_429(fake_discord: FakeDiscord) -> None:
    await _fan_out(fake_discord, Pacer(global_limit=10_000, global_window=0.1, channel_window=0.5), 40, 3,
                   unpaced=True)
    assert any(r.status == 429 for r in fake_discord.rate_limited)  # the fake enforces the global limit

async def test_with_pacing_the_same_fan_out_never_hits_429(fake_discord: FakeDiscord) -> None:
    await _fan_out(fake_discord, Pacer(global_limit=48, global_window=0.1, channel_window=0.5), 40, 7)
    assert fake_discord.rate_limited == []

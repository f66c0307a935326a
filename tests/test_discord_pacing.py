"""Pacing: what discord.py alone lets through on a fan-out, and what the Pacer keeps out."""

from __future__ import annotations

import asyncio
import time

from adapters.discord import DiscordPlatform, Pacer
from adapters.discord.pacing import WindowLimit
from bot.ports import Destination, Rendered
from tests.fakes.discord import TOKEN, FakeDiscord


async def test_window_limit_returns_permits_a_window_after_completion() -> None:
    limit = WindowLimit(3, 0.05)
    started = time.monotonic()
    times = []
    for _ in range(7):
        await limit.acquire()
        times.append(time.monotonic() - started)
        limit.release_later()
    assert all(t < 0.04 for t in times[:3])
    assert all(t >= 0.05 for t in times[3:6]) and times[6] >= 0.1

async def test_pacer_holds_a_channel_to_its_bucket_but_not_the_others() -> None:
    pacer = Pacer(global_limit=100, global_window=0.01, channel_limit=2, channel_window=0.1)
    started = time.monotonic()
    seen: dict[str, list[float]] = {"a": [], "b": []}

    async def one(channel: str) -> None:
        async with pacer.slot(channel):
            seen[channel].append(time.monotonic() - started)

    await asyncio.gather(*(one("a") for _ in range(3)), *(one("b") for _ in range(2)))
    assert sorted(seen["a"])[2] >= 0.1 and max(seen["b"]) < 0.05

async def _fan_out(fake: FakeDiscord, pacer: Pacer, channels: int, messages: int) -> None:
    ids = [fake.add_channel(f"c{n}") for n in range(channels)]
    platform = DiscordPlatform(TOKEN, api_base_url=fake.api_base, gateway_url=fake.gateway_url, pacer=pacer,
                               guild_ready_timeout=0.01)
    await platform.start()
    try:
        async def channel_run(channel: str) -> None:
            dest = Destination(name=channel, platform="discord", chat=channel)
            for n in range(messages):
                await platform.send(dest, Rendered("text", "m", {"content": f"m{n}"}), key=f"{channel}-{n}")

        await asyncio.gather(*(channel_run(c) for c in ids))
    finally:
        await platform.close()
    assert all([m["content"] for m in fake.channel_messages(c)] == [f"m{n}" for n in range(messages)] for c in ids)

async def test_without_global_pacing_a_fan_out_hits_429(fake_discord: FakeDiscord) -> None:
    await _fan_out(fake_discord, Pacer(global_limit=10_000, global_window=0.1, channel_window=0.5), 40, 3)
    assert any(r.status == 429 for r in fake_discord.rate_limited)  # the fake enforces the global limit

async def test_with_pacing_the_same_fan_out_never_hits_429(fake_discord: FakeDiscord) -> None:
    await _fan_out(fake_discord, Pacer(global_limit=48, global_window=0.1, channel_window=0.5), 40, 7)
    assert fake_discord.rate_limited == []

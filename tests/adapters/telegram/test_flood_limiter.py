"""The flood limiter refuses a long block at once and forgets idle chats (in process; the limiter under a
running bot is tests/e2e/test_delivery_under_load.py)."""

from __future__ import annotations

import asyncio

import pytest
from telegram.error import RetryAfter

from adapters.telegram.limiter import FloodLimiter, retry_after_seconds


async def test_the_flood_limiter_refuses_a_long_block_at_once_and_forgets_idle_chats() -> None:
    now = [1000.0]
    limiter = FloodLimiter(overall=(100, 1.0), clock=lambda: now[0])  # the clock stands still: room for all 50
    for chat in range(50):  # fifty chats get a message each
        limiter.release(await limiter.acquire(chat))
    limiter.block(7, 999_999_999)
    with pytest.raises(RetryAfter) as refused:  # no sleeping through an hour's block: the outbox schedules it
        await asyncio.wait_for(limiter.acquire(7), 1)
    assert 3500 < retry_after_seconds(refused.value) <= 3600
    assert limiter.tracked_chats == 50
    now[0] += 120  # two minutes later, one chat writes again: the others' state is dropped, not the blocked one
    limiter.release(await limiter.acquire(1))
    assert limiter.tracked_chats == 2
    now[0] += 3600
    limiter.release(await limiter.acquire(7))  # the block is over: chat 7 sends again

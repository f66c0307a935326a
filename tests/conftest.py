"""Fixtures shared across test modules: the fake Discord and a real discord.py client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from tests.fakes.discord import FakeDiscord, connected_platform, running_fake


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with running_fake() as fake:
        yield fake


@pytest_asyncio.fixture
async def discord_platform(fake_discord: FakeDiscord) -> AsyncIterator[Any]:
    async with connected_platform(fake_discord) as platform:
        yield platform

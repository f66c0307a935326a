"""Fixtures shared across test modules: the one `store`, the fake Discord, a real discord.py client on it,
and that client serving slash commands (with the requesting module's `engine` fixture)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from bot.storage.store import Store
from tests.fakes.discord import FakeDiscord, connected_platform, running_fake
from tests.harness.corpus import corpus_store


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """An in-memory store of the test's own: empty, or holding the corpus when the test (or its module,
    `pytestmark = pytest.mark.corpus`) is marked `corpus`."""
    db = corpus_store() if request.node.get_closest_marker("corpus") else Store(":memory:")
    yield db
    db.close()


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with running_fake() as fake:
        yield fake


@pytest_asyncio.fixture
async def discord_platform(fake_discord: FakeDiscord) -> AsyncIterator[Any]:
    async with connected_platform(fake_discord) as platform:
        yield platform


@pytest_asyncio.fixture
async def discord_serving(discord_platform: Any, fake_discord: FakeDiscord, engine: Any) -> AsyncIterator[FakeDiscord]:
    """The platform answering slash commands until the test ends; yields the fake to drive it."""
    task = asyncio.create_task(discord_platform.commands.serve(engine))
    await fake_discord.wait_for(lambda: bool(fake_discord.commands) or task.done())
    if task.done():
        task.result()
    yield fake_discord
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

"""Fixtures shared across test modules: the one `store`, a fake Telegram channel, the fake Discord, a real
discord.py client on it, that client serving slash commands (with the requesting module's `engine` fixture),
the feed server; and the slow kinds marked by where they live: everything under tests/e2e/ is `subprocess` (it starts
`digestbot` as a process), everything under tests/e2e/browser/ is also `browser` (headless Chromium).
`make check` runs `pytest -m "not subprocess and not browser"`; tests/test_layout.py keeps processes
and browsers out of the other directories, so the rule by directory is the whole rule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from adapters.telegram import TelegramAdapter
from bot.storage.store import Store
from tests.fakes.discord import FakeDiscord, connected_platform, running_fake
from tests.fakes.telegram import FakeTelegram
from tests.harness import channels
from tests.harness.corpus import corpus_store
from tests.harness.feed_server import FeedServer, serving_feeds

TESTS = Path(__file__).resolve().parent
SLOW_KINDS = {TESTS / "e2e": ("subprocess",), TESTS / "e2e" / "browser": ("browser",)}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by its directory: e2e/ → subprocess, e2e/browser/ → browser as well."""
    for item in items:
        for folder, kinds in SLOW_KINDS.items():
            if item.path.is_relative_to(folder):
                for kind in kinds:
                    item.add_marker(kind)


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """An in-memory store of the test's own: empty, or holding the corpus when the test (or its module,
    `pytestmark = pytest.mark.corpus`) is marked `corpus`."""
    db = corpus_store() if request.node.get_closest_marker("corpus") else Store(":memory:")
    yield db
    db.close()


@pytest_asyncio.fixture
async def telegram_channel() -> AsyncIterator[tuple[FakeTelegram, TelegramAdapter]]:
    """The fake Bot API with one channel (tests.harness.channels.CHAT) and a started adapter on it."""
    async with channels.telegram_channel() as pair:
        yield pair


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


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FeedServer]:
    """The scriptable feed server (tests/harness/feed_server.py) on a free port of 127.0.0.1."""
    async with serving_feeds() as feeds:
        yield feeds

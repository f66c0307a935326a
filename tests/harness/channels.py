"""A channel on each fake platform, driven through the real client library: for tests of what one post
looks like once sent (presentation, link lists), without the scheduler.

`send_telegram` and `send_discord` render a post for a destination and send every part in order, as the
outbox would; `strict_telegram` asserts the fake refused nothing and asked for no wait.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from adapters.discord import DiscordAdapter
from adapters.telegram import TelegramAdapter, telegram_adapter
from bot.core.messages import Post
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram
from tests.harness.destinations import destination

TOKEN = "424242:AAH-secret_token_value_0123456789"
CHAT = -1001234  # the fake Telegram channel "@garden"


@asynccontextmanager
async def telegram_channel(time_scale: float = 0.002) -> AsyncIterator[tuple[FakeTelegram, TelegramAdapter]]:
    """The fake Bot API with one channel, and a started Telegram adapter on it."""
    async with FakeTelegram(TOKEN, time_scale=time_scale) as fake:
        fake.add_chat(CHAT, "channel", username="garden")
        platform = telegram_adapter(TOKEN, base_url=fake.base_url, time_scale=time_scale)
        await platform.sender.start()
        try:
            yield fake, platform
        finally:
            await platform.close()


async def send_telegram(platform: TelegramAdapter, post: Post, **options: object) -> None:
    """Render `post` for a Telegram destination on CHAT with `options` and send every part."""
    dest = destination("tg", "telegram", str(CHAT), **options)
    for n, part in enumerate(platform.renderer.render(post, dest)):
        await platform.sender.send(dest, part, key=f"{options}-{n}")


def strict_telegram(fake: FakeTelegram) -> None:
    assert fake.rejected() == [] and not any(r.status == 429 for r in fake.requests)


async def send_discord(platform: DiscordAdapter, fake: FakeDiscord, post: Post,
                       **options: object) -> list[dict[str, Any]]:
    """Render `post` for a Discord destination on the fake's channel and send it; the messages it made."""
    channel = fake.default_channel
    dest = destination("dc", "discord", channel, **options)
    before = len(fake.channel_messages(channel))
    for n, part in enumerate(platform.renderer.render(post, dest)):
        await platform.sender.send(dest, part, key=f"{options}-{n}")
    return fake.channel_messages(channel)[before:]

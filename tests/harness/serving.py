"""A Telegram bot answering commands on the fake Bot API: the one setup the reply tests share."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from adapters.telegram import telegram_adapter
from bot.chat.query import QueryEngine
from tests.fakes.telegram import FakeTelegram

TOKEN = "424242:AAH-secret_token_value_0123456789"
PRIVATE = 1001


@contextlib.asynccontextmanager
async def telegram_answering(engine: QueryEngine, *, time_scale: float = 0.01) -> AsyncIterator[FakeTelegram]:
    """The fake Bot API with a private chat `PRIVATE`, and the real adapter serving `engine` until exit."""
    async with FakeTelegram(TOKEN, time_scale=time_scale) as fake:
        fake.add_chat(PRIVATE, "private")
        platform = telegram_adapter(TOKEN, base_url=fake.base_url, time_scale=time_scale, poll_timeout=0.5)
        task = asyncio.create_task(platform.commands.serve(engine))
        await fake.wait_for(lambda: fake.pollers)
        try:
            yield fake
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await platform.close()

"""Both bots with every reader option, against the strict fakes, when the newest issue lacks sections.

The pipeline (planner → outbox → worker) posts to a Telegram channel and a Discord channel
with filters, presentation options, a drip and a mention; then the chat commands answer
from the archive. Neither fake may see a 400 or a 429.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from adapters.discord import DiscordAdapter
from adapters.telegram import telegram_adapter
from bot.chat.query import QueryEngine
from bot.feeds.ingest import Ingestor
from bot.settings.config import Config, DestinationConfig, FeedConfig
from bot.storage.store import Store
from scheduler.service import DeliveryService
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram
from tests.harness.corpus import CORPUS
from tests.harness.editions import add_special_edition

TOKEN = "424242:AAH-secret_token_value_0123456789"
CHANNEL = -1001234
ROLE = "234567890123456789"


async def test_both_bots_with_every_option_and_a_special_edition(discord_platform: DiscordAdapter,
                                                                 fake_discord: FakeDiscord, tmp_path: Path) -> None:
    channel = fake_discord.default_channel
    config = Config(feeds=[FeedConfig(name="nlp", url=str(CORPUS))], destinations=[
        DestinationConfig(name="tg", platform="telegram", chat="@digest_fr", languages=["fr"], images="first",
                          max_item_chars=300, exclude=["crypto"], backfill=2),
        DestinationConfig(name="dc", platform="discord", channel=channel, languages=["fr"], images="full",
                          mention_role=ROLE, compact=False, backfill=2, index=True)])
    store = Store(tmp_path / "bot.db")
    Ingestor(store, config).ingest_bytes(CORPUS.read_bytes(), "nlp")
    add_special_edition(store, "fr", 8)  # the newest French issue: "Publications" only
    async with FakeTelegram(TOKEN, time_scale=0.002) as fake:
        fake.add_chat(CHANNEL, "channel", username="digest_fr")
        telegram = telegram_adapter(TOKEN, base_url=fake.base_url, time_scale=0.002, poll_timeout=0.5)
        await telegram.sender.start()
        service = DeliveryService(config, store, {"telegram": telegram, "discord": discord_platform},
                                  Ingestor(store, config))
        try:
            for _ in range(4):
                await service.run_once()
            engine = QueryEngine(store, destinations=tuple(service.destinations().values()))
            task = asyncio.create_task(telegram.commands.serve(engine))
            await fake.wait_for(lambda: fake.pollers)
            fake.add_chat(1001, "private")
            fake.user_says(1001, "/section outils", user_id=1001, language_code="fr")
            await fake.wait_for(lambda: bool(fake.sent(1001)))
            answer = "\n".join(m.text for m in fake.sent(1001))
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            await telegram.close()
        posts = fake.sent(CHANNEL)
        assert any("#8 (FR)" in m.text for m in posts) and any("#7 (FR)" in m.text for m in posts)
        assert "#7 (FR) — " in answer and "#8 (FR) n’a pas de section Outils" in answer
        assert fake.rejected() == [] and not any(r.status == 429 for r in fake.requests)
    messages = fake_discord.channel_messages(channel)
    assert any("#8 (FR)" in str(m["content"]) for m in messages)
    assert [roles for _, roles in fake_discord.role_pings] == [[ROLE], [ROLE]]  # the first post of each issue
    assert fake_discord.pings == [] and fake_discord.rejected == [] and fake_discord.rate_limited == []
    store.close()
